//! `@mentions` in internal notes: which colleagues a note names, so that they are notified.

/// The agents `text` mentions, as their positions in `names`. A mention is `@` then a name
/// written without spaces, any case: the full name (`@AnnaKowalska`) or the first name when
/// only one colleague has it (`@anna`). An `@` inside a word (an email address) is not one.
pub fn mentioned(text: &str, names: &[&str]) -> Vec<usize> {
    let squash = |s: &str| s.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_lowercase).collect::<String>();
    let first = |s: &str| s.split_whitespace().next().unwrap_or("").to_lowercase();
    let full: Vec<String> = names.iter().map(|n| squash(n)).collect();
    let firsts: Vec<String> = names.iter().map(|n| first(n)).collect();
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if *c != '@' || (i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '.')) {
            continue;
        }
        let handle: String =
            chars[i + 1..].iter().take_while(|c| c.is_alphanumeric() || **c == '_' || **c == '-').flat_map(|c| c.to_lowercase()).collect();
        if handle.is_empty() {
            continue;
        }
        let by_full: Vec<usize> = (0..names.len()).filter(|&k| full[k] == handle).collect();
        let by_first: Vec<usize> = (0..names.len()).filter(|&k| firsts[k] == handle).collect();
        let found = if !by_full.is_empty() {
            by_full
        } else if by_first.len() == 1 {
            by_first
        } else {
            Vec::new()
        };
        for k in found {
            if !out.contains(&k) {
                out.push(k);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_name_colleagues_by_full_or_unique_first_name() {
        let names = ["Anna Kowalska", "Jan Nowak", "Jan Wiśniewski", "Ольга Петрова"];
        assert_eq!(mentioned("@anna please check", &names), vec![0]);
        assert_eq!(mentioned("cc @JanNowak and @ANNAKOWALSKA", &names), vec![1, 0]);
        assert_eq!(mentioned("@jan is ambiguous", &names), Vec::<usize>::new());
        assert_eq!(mentioned("@ольга, посмотри", &names), vec![3]);
        assert_eq!(mentioned("write to anna@example.com", &names), Vec::<usize>::new(), "an email is not a mention");
        assert_eq!(mentioned("@anna @anna", &names), vec![0], "once each");
        assert_eq!(mentioned("@ alone, @nobody", &names), Vec::<usize>::new());
    }
}
