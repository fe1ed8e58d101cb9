//! Snippets: a short window of a body around its first matched word, with the matched words'
//! byte ranges, in plain text.

use crate::analysis::{Analyzer, Analyzers, is_cyrillic, is_latin};
use std::collections::HashSet;
use switchboard_domain::Language;

/// A snippet's length limit in characters, not counting the `…` marks.
pub const MAX_SNIPPET_CHARS: usize = 200;

/// Characters of context kept before the first match.
const LEAD_CHARS: usize = 50;

/// The terms a query looked up, by analyzer ([`Analyzer::ALL`] order).
#[derive(Debug, Default)]
pub(crate) struct QueryTerms(pub [HashSet<String>; 4]);

impl QueryTerms {
    pub(crate) fn add(&mut self, analyzer: Analyzer, term: &str) {
        if !self.0[analyzer as usize].contains(term) {
            self.0[analyzer as usize].insert(term.to_owned());
        }
    }

    /// Byte ranges of `text` whose tokens (under its language's analyzer or the simple one) are
    /// query terms: sorted, merged where they overlap.
    pub(crate) fn ranges(&self, analyzers: &mut Analyzers, text: &str, language: Option<Language>) -> Vec<(usize, usize)> {
        let mut ranges = Vec::new();
        let mut look = |analyzer: Analyzer, analyzers: &mut Analyzers| {
            let terms = &self.0[analyzer as usize];
            if !terms.is_empty() {
                analyzers.for_each_token(analyzer, text, |from, to, term| {
                    if terms.contains(term) {
                        ranges.push((from, to));
                    }
                });
            }
        };
        // A text's words of another script were indexed under that script's languages too.
        let (cyrillic, latin) = (text.chars().any(is_cyrillic), text.chars().any(is_latin));
        for other in Language::ALL {
            let script = match other {
                Language::Ru => cyrillic,
                Language::Pl | Language::En => latin,
            };
            if language == Some(other) || (script && language.is_some_and(|l| (l == Language::Ru) != (other == Language::Ru))) {
                look(Analyzer::of(other), analyzers);
            }
        }
        if language.is_none() && cyrillic {
            look(Analyzer::Ru, analyzers);
        }
        look(Analyzer::Simple, analyzers);
        merge(ranges)
    }
}

fn merge(mut ranges: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
    ranges.sort_unstable();
    let mut out: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
    for (from, to) in ranges {
        match out.last_mut() {
            Some(last) if from <= last.1 => last.1 = last.1.max(to),
            _ => out.push((from, to)),
        }
    }
    out
}

/// The window of `body` around the first of `ranges` (or its start), at most
/// [`MAX_SNIPPET_CHARS`] characters cut at spaces where possible, `…` where cut, ASCII line
/// breaks and tabs as spaces; and the ranges that fall in it, shifted to the snippet.
pub(crate) fn snippet(body: &str, ranges: &[(usize, usize)]) -> (String, Vec<(usize, usize)>) {
    let first = ranges.first().map_or(0, |r| r.0);
    // Start: up to LEAD_CHARS characters before the first match, moved forward to a word start.
    let mut start = first;
    for (i, _) in body[..first].char_indices().rev().take(LEAD_CHARS) {
        start = i;
    }
    if start > 0
        && start < first
        && !body[..start].ends_with(char::is_whitespace)
        && let Some((i, c)) = body[start..first].char_indices().find(|(_, c)| c.is_whitespace())
    {
        start += i + c.len_utf8();
    }
    // End: MAX_SNIPPET_CHARS characters on, moved back to a space if one is in the last quarter.
    let mut end = body[start..].char_indices().nth(MAX_SNIPPET_CHARS).map_or(body.len(), |(i, _)| start + i);
    if end < body.len() && !body[end..].starts_with(char::is_whitespace) {
        let mut floor = start + (end - start) * 3 / 4;
        while !body.is_char_boundary(floor) {
            floor += 1;
        }
        if let Some(space) = body[floor..end].rfind(char::is_whitespace) {
            end = floor + space;
        }
    }
    let lead = if start > 0 { "…" } else { "" };
    let window = body[start..end].trim_end();
    let mut text = String::with_capacity(window.len() + 8);
    text.push_str(lead);
    text.extend(window.chars().map(|c| if matches!(c, '\n' | '\r' | '\t') { ' ' } else { c }));
    let shift = lead.len();
    let highlights = ranges
        .iter()
        .filter(|r| r.0 >= start && r.1 <= start + window.len())
        .map(|&(from, to)| (from - start + shift, to - start + shift))
        .collect();
    if start + window.len() < body.trim_end().len() {
        text.push('…');
    }
    (text, highlights)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_body_is_whole_with_its_ranges() {
        let (s, h) = snippet("Где мой заказ?\nСпасибо", &[(14, 24)]);
        assert_eq!(s, "Где мой заказ? Спасибо");
        assert_eq!(h, [(14, 24)]);
    }

    #[test]
    fn long_body_is_cut_around_the_first_match() {
        let body = format!("{} refund {}", "word ".repeat(100), "tail ".repeat(100));
        let at = body.find("refund").unwrap_or(0);
        let (s, h) = snippet(&body, &[(at, at + 6)]);
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.chars().count() <= MAX_SNIPPET_CHARS + 2);
        assert_eq!(h.len(), 1);
        assert_eq!(&s[h[0].0..h[0].1], "refund");
        assert!(s.starts_with("…word "), "cut at a word start: {s}");
    }

    #[test]
    fn no_match_gives_the_start() {
        let body = "x".repeat(1000);
        let (s, h) = snippet(&body, &[]);
        assert!(h.is_empty());
        assert_eq!(s.chars().count(), MAX_SNIPPET_CHARS + 1);
    }
}
