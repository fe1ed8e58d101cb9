//! Splits what the sender wrote this time from the earlier mail their client quoted below it:
//! attribution lines ("On … wrote:", "… пишет:", "… napisał(a):", Gmail's "…, Name <addr>:"),
//! Outlook's "From: / Sent:" header blocks and `>` quoting. Only a quote that runs to the end of
//! the message is cut: answers written between quoted lines stay whole.

/// Verbs attribution lines end with.
const ATTRIBUTION_ENDINGS: &[&str] = &[
    "wrote:",
    "writes:",
    "пишет:",
    "написал:",
    "написала:",
    "написал(а):",
    "napisał:",
    "napisała:",
    "napisał(a):",
    "schrieb:",
    "a écrit :",
    "a écrit:",
];

/// The first field of a client's header block over the quoted mail, and the second one that
/// confirms it.
const BLOCK_FROM: &[&str] = &["From", "От", "Od", "De", "Von"];
const BLOCK_SECOND: &[&str] = &["Sent", "Date", "Отправлено", "Дата", "Wysłano", "Data", "Envoyé", "Gesendet", "To", "Кому", "Do"];

const ORIGINAL_MESSAGE_MARKERS: &[&str] =
    &["-----original message-----", "----- original message -----", "-----исходное сообщение-----", "-----wiadomość oryginalna-----"];

fn field_name(line: &str) -> Option<&str> {
    let (name, _) = line.split_once(':')?;
    let name = name.trim().trim_matches('*').trim();
    (!name.is_empty() && name.chars().count() <= 20).then_some(name)
}

fn is_field(line: &str, names: &[&str]) -> bool {
    field_name(line).is_some_and(|n| names.iter().any(|m| n.eq_ignore_ascii_case(m)))
}

fn is_quoted(line: &str) -> bool {
    line.trim_start().starts_with('>')
}

fn next_non_empty<'a>(lines: &[&'a str], from: usize) -> Option<(usize, &'a str)> {
    lines.iter().enumerate().skip(from).find(|(_, l)| !l.trim().is_empty()).map(|(i, l)| (i, *l))
}

/// Everything from `from` on is quoted text or blank.
fn rest_is_quote(lines: &[&str], from: usize) -> bool {
    lines[from..].iter().all(|l| l.trim().is_empty() || is_quoted(l))
}

/// Does an attribution start at line `i` (possibly wrapped onto the next line)? Returns the
/// first line after it.
fn attribution_at(lines: &[&str], i: usize) -> Option<usize> {
    let one = lines[i].trim();
    let two = lines.get(i + 1).map(|next| format!("{one} {}", next.trim()));
    let candidates = [Some((one.to_string(), i + 1)), two.map(|t| (t, i + 2))];
    for (text, after) in candidates.into_iter().flatten() {
        let lower = text.to_lowercase();
        let verb = ATTRIBUTION_ENDINGS.iter().any(|e| lower.ends_with(e));
        // Gmail in some languages writes no verb: "сб, 22 нояб. 2025 г. в 11:02, Name <a@b>:".
        let gmail_bare = lower.ends_with(">:") && lower.contains('@') && lower.chars().any(|c| c.is_ascii_digit());
        if (verb || gmail_bare) && next_non_empty(lines, after).is_some_and(|(j, _)| rest_is_quote(lines, j)) {
            return Some(after);
        }
        // Without `>` quoting the verb alone is not enough: a sentence may end with "writes:".
        if verb && lower.starts_with("on ") && lower.contains('@') {
            return Some(after);
        }
    }
    None
}

/// An Outlook-style block: an optional separator line, then "From:" followed within two lines
/// by "Sent:"/"Date:"/"To:" (in the client's language).
fn header_block_at(lines: &[&str], i: usize) -> bool {
    let line = lines[i].trim();
    let lower = line.to_lowercase();
    if ORIGINAL_MESSAGE_MARKERS.iter().any(|m| lower.starts_with(m)) {
        return true;
    }
    let separator = line.len() >= 10 && line.chars().all(|c| c == '_' || c == '-');
    let from_line = if separator { next_non_empty(lines, i + 1).map(|(j, _)| j) } else { Some(i) };
    let Some(f) = from_line.filter(|&f| is_field(lines[f], BLOCK_FROM)) else { return false };
    lines.iter().skip(f + 1).take(2).any(|l| is_field(l, BLOCK_SECOND))
}

/// `(new text, quoted text)`. The new text is trimmed of blank lines around it; when the whole
/// message is a quote the text is kept as it is (there is nothing else to show).
pub fn split_quoted(text: &str) -> (String, Option<String>) {
    let lines: Vec<&str> = text.lines().collect();
    let mut cut = None;
    for i in 0..lines.len() {
        if attribution_at(&lines, i).is_some() || header_block_at(&lines, i) {
            cut = Some(i);
            break;
        }
        if is_quoted(lines[i]) && rest_is_quote(&lines, i) {
            cut = Some(i);
            break;
        }
    }
    let Some(cut) = cut else { return (text.trim().to_string(), None) };
    let new = lines[..cut].join("\n").trim().to_string();
    let quoted = lines[cut..].join("\n").trim().to_string();
    if new.is_empty() {
        return (text.trim().to_string(), None);
    }
    (new, (!quoted.is_empty()).then_some(quoted))
}

#[cfg(test)]
mod tests {
    use super::split_quoted;

    #[test]
    fn answers_between_quotes_are_kept() {
        let text = "> question one\nanswer one\n> question two\nanswer two\n";
        assert_eq!(split_quoted(text), ("> question one\nanswer one\n> question two\nanswer two".into(), None));
    }

    #[test]
    fn a_sentence_ending_in_a_colon_is_not_an_attribution() {
        let text = "My colleague writes:\nthe parcel is lost.\n";
        assert_eq!(split_quoted(text).1, None);
    }

    #[test]
    fn a_wrapped_gmail_attribution_is_found() {
        let text = "Thanks!\n\nOn Sat, Nov 22, 2025 at 11:02 AM Support <support@example.com>\nwrote:\n\n> hello\n";
        assert_eq!(
            split_quoted(text),
            ("Thanks!".into(), Some("On Sat, Nov 22, 2025 at 11:02 AM Support <support@example.com>\nwrote:\n\n> hello".into()))
        );
    }

    #[test]
    fn an_outlook_block_without_separator_is_found() {
        let text = "Done.\n\nFrom: Support <s@example.com>\nSent: Monday\nSubject: x\n\nold text\n";
        assert_eq!(split_quoted(text).0, "Done.");
    }
}
