//! Knowledge-base bodies are Markdown (CommonMark with tables and strikethrough): rendered to
//! HTML through pulldown-cmark and then cleaned by ammonia (no script, no event handlers, no
//! `javascript:` links, whatever the editor typed), or flattened to plain text for chat and
//! speech.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH
}

/// Safe HTML for a Markdown body: raw HTML in the source survives only as far as ammonia's
/// allow-list lets it; links get `rel="noopener noreferrer nofollow"`.
pub fn to_html(markdown: &str) -> String {
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, Parser::new_ext(markdown, options()));
    ammonia::Builder::default().link_rel(Some("noopener noreferrer nofollow")).clean(&html).to_string()
}

/// The text of a Markdown body without its markup, for chat messages and speech: paragraphs
/// and list items on lines of their own, a link as `text (url)` when its text is not the URL.
pub fn to_plain(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut links: Vec<String> = Vec::new();
    let mut link_text_start = 0usize;
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak => out.push(' '),
            Event::HardBreak => out.push('\n'),
            Event::Start(Tag::Item) => {
                newline(&mut out);
                out.push_str("• ");
            }
            Event::Start(Tag::Link { dest_url, .. }) => {
                links.push(dest_url.to_string());
                link_text_start = out.len();
            }
            Event::End(TagEnd::Link) => {
                if let Some(url) = links.pop()
                    && out[link_text_start..].trim() != url
                {
                    out.push_str(&format!(" ({url})"));
                }
            }
            Event::End(TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::CodeBlock | TagEnd::TableRow | TagEnd::Item) => newline(&mut out),
            Event::End(TagEnd::TableCell) => out.push_str("  "),
            _ => {}
        }
    }
    let lines: Vec<&str> = out.lines().map(str::trim_end).filter(|l| !l.trim().is_empty()).collect();
    lines.join("\n")
}

fn newline(out: &mut String) {
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_renders_without_script() {
        let html = to_html(
            "# Возврат\n\nНажмите [здесь](javascript:alert(1)) <script>alert(1)</script> **сейчас**\n\n<img src=x onerror=alert(1)>",
        );
        assert!(html.contains("<h1>Возврат</h1>") && html.contains("<strong>сейчас</strong>"), "{html}");
        assert!(!html.contains("script") && !html.contains("javascript:") && !html.contains("onerror"), "{html}");
    }

    #[test]
    fn plain_text_keeps_words_lines_and_link_targets() {
        let plain =
            to_plain("Zwrot w **14 dni**.\n\n- krok 1\n- krok 2\n\nZobacz [regulamin](https://example.com/r) i <https://example.com/x>.");
        assert_eq!(plain, "Zwrot w 14 dni.\n• krok 1\n• krok 2\nZobacz regulamin (https://example.com/r) i https://example.com/x.");
    }
}
