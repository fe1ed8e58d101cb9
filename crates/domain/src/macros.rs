//! Macros: a named set of conversation actions plus a reply, applied by an agent in one click
//! (Zendesk's and Chatwoot's "macros"). The actions are the rules' own (`crate::rules::Action`),
//! so one vocabulary serves both; what a macro may not do is send a webhook (an event of the
//! automation, not of an agent's click) or carry a second reply as an action.

use crate::conversation::{Priority, Status};
use crate::rules::{Action, MAX_TEXT_CHARS, RuleError};
use serde_json::Value;

/// Longest macro name, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// A macro as an agent applies it: checked, ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct Macro {
    pub name: String,
    pub actions: Vec<Action>,
    /// Sent to the customer as the applying agent's reply, `{{placeholders}}` filled as canned
    /// replies' are (`crate::canned::fill`).
    pub reply: Option<String>,
}

impl Macro {
    /// Checks a macro's parts; the error names the field (`name`, `actions[2].type`, `reply`).
    /// A macro must do something: at least one action or a reply.
    pub fn parse(name: &str, actions: &Value, reply: Option<&str>) -> Result<Macro, RuleError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || name.chars().any(|c| c.is_control() || is_invisible(c)) {
            return Err(RuleError::new("name", format!("1 to {MAX_NAME_CHARS} printable characters")));
        }
        let actions = Action::parse_list(actions, "actions")?;
        for (i, action) in actions.iter().enumerate() {
            match action {
                Action::Reply { .. } => {
                    return Err(RuleError::new(format!("actions[{i}].type"), "a macro's reply is its \"reply\" field, not an action"));
                }
                Action::Webhook(_) => {
                    return Err(RuleError::new(format!("actions[{i}].type"), "webhooks are sent by rules, not by macros"));
                }
                Action::Notify(_) | Action::OpenConversation => {
                    return Err(RuleError::new(format!("actions[{i}].type"), "an action of mention rules, not of macros"));
                }
                _ => {}
            }
        }
        let reply = match reply {
            Some(r) => check_reply(r)?,
            None => None,
        };
        if actions.is_empty() && reply.is_none() {
            return Err(RuleError::new("actions", "a macro needs at least one action or a reply"));
        }
        Ok(Macro { name: name.to_owned(), actions, reply })
    }

    /// What applying the macro to a conversation now tagged `tags` amounts to: the field changes
    /// in one patch (later actions win over earlier ones on the same field), whether to assign
    /// by the team's method afterwards, and the notes to add, in order.
    pub fn plan(&self, tags: &[String]) -> MacroPlan {
        let mut plan = MacroPlan::default();
        let mut tags_after = tags.to_vec();
        for action in &self.actions {
            match action {
                Action::SetTeam(t) => plan.team = Some(t.clone()),
                Action::SetAssignee(a) => plan.assignee = Some(a.clone()),
                Action::Assign => plan.assign = true,
                Action::SetPriority(p) => plan.priority = Some(*p),
                Action::SetStatus(s) => plan.status = Some(*s),
                Action::SetSkills(s) => plan.required_skills = Some(s.clone()),
                Action::AddTags(add) => {
                    for t in add {
                        if !tags_after.contains(t) {
                            tags_after.push(t.clone());
                        }
                    }
                    plan.tags = Some(tags_after.clone());
                }
                Action::RemoveTags(remove) => {
                    tags_after.retain(|t| !remove.contains(t));
                    plan.tags = Some(tags_after.clone());
                }
                Action::Note(text) => plan.notes.push(text.clone()),
                // Refused by `parse`.
                Action::Reply { .. } | Action::Webhook(_) | Action::Notify(_) | Action::OpenConversation => {}
            }
        }
        if plan.tags.as_deref() == Some(tags) {
            plan.tags = None;
        }
        plan
    }
}

/// A macro's reply (or the agent's edit of it) as it is kept: trimmed, `None` when blank, at
/// most `MAX_TEXT_CHARS` characters and no control characters but line breaks and tabs.
pub fn check_reply(reply: &str) -> Result<Option<String>, RuleError> {
    let reply = reply.trim();
    if reply.is_empty() {
        return Ok(None);
    }
    if reply.chars().count() > MAX_TEXT_CHARS {
        return Err(RuleError::new("reply", format!("at most {MAX_TEXT_CHARS} characters")));
    }
    if reply.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(RuleError::new("reply", "control characters are not allowed"));
    }
    Ok(Some(reply.to_owned()))
}

/// Characters that show nothing or turn text around (zero-width, direction overrides, line and
/// paragraph separators): in a name they make two macros look alike in the picker.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{FEFF}')
}

/// What makes two names the same name: compatibility-normalised (Unicode NFKC, so a
/// full-width "ａ" is "a" and a decomposed "é" is "é") and case-folded by lower-casing.
pub fn name_key(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    name.trim().nfkc().flat_map(char::to_lowercase).collect()
}

/// The effect of one macro on one conversation (`Macro::plan`). `Some(None)` clears a field.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MacroPlan {
    pub team: Option<Option<String>>,
    pub assignee: Option<Option<String>>,
    pub priority: Option<Priority>,
    pub status: Option<Status>,
    /// The whole tag list after the macro's additions and removals, when it differs.
    pub tags: Option<Vec<String>>,
    pub required_skills: Option<Vec<String>>,
    /// Hand the conversation to an agent of its team by the team's method, after the patch.
    pub assign: bool,
    pub notes: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tags(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_macro_needs_a_name_and_something_to_do() {
        assert_eq!(Macro::parse("  ", &json!([]), Some("hi")).expect_err("refused").field, "name");
        assert_eq!(Macro::parse("Close", &json!([]), None).expect_err("refused").field, "actions");
        assert_eq!(Macro::parse("Close", &json!([]), Some("   ")).expect_err("refused").field, "actions");
        let m = Macro::parse(" Close ", &json!([]), Some(" Thanks! ")).expect("accepted");
        assert_eq!((m.name.as_str(), m.reply.as_deref()), ("Close", Some("Thanks!")));
        assert_eq!(Macro::parse(&"x".repeat(MAX_NAME_CHARS + 1), &json!([]), Some("a")).expect_err("refused").field, "name");
        assert_eq!(Macro::parse("a", &json!([]), Some("bell \u{7}")).expect_err("refused").field, "reply");
    }

    #[test]
    fn names_that_look_alike_are_one_name_and_invisible_characters_are_refused() {
        assert_eq!(name_key("Refund"), name_key(" REFUND "));
        assert_eq!(name_key("ａ"), name_key("A"));
        assert_eq!(name_key("e\u{301}"), name_key("\u{e9}"));
        assert_ne!(name_key("Refund"), name_key("Refunds"));
        for hidden in ["a\u{200b}", "\u{202e}gnp.exe", "a\u{2028}b", "\u{feff}x"] {
            assert_eq!(Macro::parse(hidden, &json!([]), Some("hi")).expect_err("refused").field, "name", "{hidden:?}");
        }
    }

    #[test]
    fn replies_and_webhooks_are_not_macro_actions() {
        let reply = json!([{"type": "set_status", "status": "pending"}, {"type": "reply", "text": "hi"}]);
        assert_eq!(Macro::parse("m", &reply, None).expect_err("refused").field, "actions[1].type");
        let hook = json!([{"type": "webhook", "webhook_id": "w"}]);
        assert!(Macro::parse("m", &hook, None).expect_err("refused").field.starts_with("actions[0]"));
        let extra = json!([{"type": "set_status", "status": "pending", "team": "zzz"}]);
        assert_eq!(Macro::parse("m", &extra, None).expect_err("refused").field, "actions[0].team", "an unread key is named");
        let unknown = json!([{"type": "explode"}]);
        assert!(Macro::parse("m", &unknown, None).expect_err("refused").field.starts_with("actions[0]"));
    }

    #[test]
    fn the_plan_folds_actions_into_one_patch_with_later_ones_winning() {
        let actions = json!([
            {"type": "set_priority", "priority": "low"},
            {"type": "add_tags", "tags": ["Refund", "vip"]},
            {"type": "remove_tags", "tags": ["vip", "new"]},
            {"type": "set_priority", "priority": "urgent"},
            {"type": "set_status", "status": "pending"},
            {"type": "note", "text": "Refund approved"},
            {"type": "assign"},
        ]);
        let m = Macro::parse("Refund", &actions, None).expect("accepted");
        let plan = m.plan(&tags(&["new", "billing"]));
        assert_eq!(plan.priority, Some(Priority::Urgent));
        assert_eq!(plan.status, Some(Status::Pending));
        assert_eq!(plan.tags, Some(tags(&["billing", "refund"])));
        assert_eq!(plan.notes, vec!["Refund approved".to_owned()]);
        assert!(plan.assign);
        assert_eq!(plan.team, None);
    }

    #[test]
    fn tags_already_as_the_macro_wants_are_no_change() {
        let m = Macro::parse("Tag", &json!([{"type": "add_tags", "tags": ["vip"]}]), None).expect("accepted");
        assert_eq!(m.plan(&tags(&["vip"])).tags, None);
        assert_eq!(m.plan(&[]).tags, Some(tags(&["vip"])));
    }
}
