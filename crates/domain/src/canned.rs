//! Canned replies: saved answers with `{{customer.name}}`-style placeholders, filled in for one
//! conversation before the agent edits and sends them.

/// The placeholders a canned reply may use, for the admin page's help.
pub const PLACEHOLDERS: [&str; 6] =
    ["customer.name", "customer.email", "customer.phone", "agent.name", "conversation.number", "conversation.subject"];

/// `template` with every `{{name}}` (spaces inside the braces allowed) replaced by its value
/// from `values`. A placeholder without a value (a customer without a phone) becomes empty; an
/// unknown name is left as written, so that a typo is visible rather than silently dropped.
pub fn fill(template: &str, values: &[(&str, Option<&str>)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let name = after[..end].trim();
        match values.iter().find(|(n, _)| *n == name) {
            Some((_, value)) => out.push_str(value.unwrap_or("")),
            None => out.push_str(&rest[start..start + 2 + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_and_unknown_ones_stay_visible() {
        let values = [("customer.name", Some("Marta")), ("customer.phone", None), ("agent.name", Some("Anna"))];
        assert_eq!(fill("Hello {{customer.name}}, {{ agent.name }} here.", &values), "Hello Marta, Anna here.");
        assert_eq!(fill("Call {{customer.phone}}!", &values), "Call !");
        assert_eq!(fill("{{custmer.name}} {{", &values), "{{custmer.name}} {{");
        assert_eq!(fill("no placeholders", &values), "no placeholders");
        assert_eq!(fill("{{customer.name}}{{customer.name}}", &values), "MartaMarta");
    }
}
