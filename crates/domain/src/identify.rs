//! Who sent this message? The identification rule of the intake pipeline.
//!
//! An exact match on the sender's identity wins. Identities the channel vouches for link a new
//! identity to the one existing customer who owns them. Nothing here ever joins two existing
//! customers: where the facts point at two people, the answer is a merge suggestion for an agent,
//! because a wrong merge of two people is worse than a missed one.

use crate::identity::Identity;
use crate::ids::ContactId;
use crate::inbound::IdentityHint;

/// What the store found for each identity of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityFacts {
    /// Owner of the sender identity, if it is already a verified identity of someone.
    pub sender_owner: Option<ContactId>,
    /// For each hint, in order: the contact owning it as a verified identity, and the contacts
    /// that merely claimed it (an unverified detail they typed in).
    pub hints: Vec<HintFacts>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HintFacts {
    pub verified_owner: Option<ContactId>,
    pub claimed_by: Vec<ContactId>,
    /// The verified owner already has another user id of the sender's own system (another
    /// signed user of the same widget, another user of the same API integration): that system
    /// says they are someone else who shares the detail (a family or office address), so the
    /// detail does not make the sender them; at most a merge suggestion.
    pub owner_is_another_user: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactChoice {
    Existing(ContactId),
    New,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuggestionReason {
    /// A detail the channel vouches for already belongs to another customer.
    VerifiedDetailOwnedByOther,
    /// An unverified detail matches another customer's identity or claim.
    UnverifiedDetailMatches,
}

impl SuggestionReason {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::VerifiedDetailOwnedByOther => "verified_detail_owned_by_other",
            Self::UnverifiedDetailMatches => "unverified_detail_matches",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub other: ContactId,
    pub reason: SuggestionReason,
    pub detail: Identity,
}

/// The decision: which contact, what to record on it, what to put before an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentifyPlan {
    pub contact: ContactChoice,
    /// Identities to add to the chosen contact as verified (the sender, vouched hints nobody owns).
    pub link: Vec<Identity>,
    /// Unverified details to remember on the contact (never used for matching).
    pub claims: Vec<Identity>,
    pub suggestions: Vec<Suggestion>,
}

pub fn identify(sender: &Identity, hints: &[IdentityHint], facts: &IdentityFacts) -> IdentifyPlan {
    let hint_facts = |i: usize| facts.hints.get(i).cloned().unwrap_or_default();

    // 1. The sender's own identity; else 2. the first vouched hint someone owns.
    let chosen = facts.sender_owner.clone().or_else(|| {
        hints
            .iter()
            .enumerate()
            .filter(|(_, h)| h.vouched)
            .map(|(i, _)| hint_facts(i))
            .find_map(|f| f.verified_owner.filter(|_| !f.owner_is_another_user))
    });

    let mut plan = IdentifyPlan {
        contact: chosen.clone().map_or(ContactChoice::New, ContactChoice::Existing),
        link: Vec::new(),
        claims: Vec::new(),
        suggestions: Vec::new(),
    };
    if facts.sender_owner.is_none() {
        plan.link.push(sender.clone());
    }
    let is_chosen = |c: &ContactId| chosen.as_ref() == Some(c);

    for (i, hint) in hints.iter().enumerate() {
        if hint.identity == *sender || plan.link.contains(&hint.identity) || plan.claims.contains(&hint.identity) {
            continue;
        }
        let found = hint_facts(i);
        match (&found.verified_owner, hint.vouched) {
            (Some(owner), _) if is_chosen(owner) => {}
            (Some(owner), vouched) => {
                if !vouched {
                    // Kept on the profile for the agent to see; never used for matching.
                    plan.claims.push(hint.identity.clone());
                }
                plan.suggestions.push(Suggestion {
                    other: owner.clone(),
                    reason: if vouched { SuggestionReason::VerifiedDetailOwnedByOther } else { SuggestionReason::UnverifiedDetailMatches },
                    detail: hint.identity.clone(),
                })
            }
            (None, true) => plan.link.push(hint.identity.clone()),
            (None, false) => {
                plan.claims.push(hint.identity.clone());
                for other in found.claimed_by.iter().filter(|c| !is_chosen(c)) {
                    plan.suggestions.push(Suggestion {
                        other: other.clone(),
                        reason: SuggestionReason::UnverifiedDetailMatches,
                        detail: hint.identity.clone(),
                    });
                }
            }
        }
    }
    plan.suggestions.dedup_by(|a, b| a.other == b.other);
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::IdentityKind;

    fn email(s: &str) -> Identity {
        Identity::email(s).expect("valid")
    }
    fn tg(s: &str) -> Identity {
        Identity::account(IdentityKind::Telegram, s).expect("valid")
    }
    fn hint(identity: Identity, vouched: bool) -> IdentityHint {
        IdentityHint { identity, vouched }
    }
    fn owned(c: &ContactId) -> HintFacts {
        HintFacts { verified_owner: Some(c.clone()), claimed_by: vec![], owner_is_another_user: false }
    }

    #[test]
    fn exact_sender_match_wins() {
        let anna = ContactId::generate();
        let plan = identify(&tg("1"), &[], &IdentityFacts { sender_owner: Some(anna.clone()), hints: vec![] });
        assert_eq!(plan.contact, ContactChoice::Existing(anna));
        assert!(plan.link.is_empty() && plan.suggestions.is_empty());
    }

    #[test]
    fn vouched_hint_links_the_new_identity_to_its_owner() {
        let anna = ContactId::generate();
        let plan =
            identify(&tg("1"), &[hint(email("anna@example.pl"), true)], &IdentityFacts { sender_owner: None, hints: vec![owned(&anna)] });
        assert_eq!(plan.contact, ContactChoice::Existing(anna));
        assert_eq!(plan.link, vec![tg("1")]);
    }

    #[test]
    fn unvouched_hint_never_merges_it_suggests() {
        let anna = ContactId::generate();
        let plan =
            identify(&tg("1"), &[hint(email("anna@example.pl"), false)], &IdentityFacts { sender_owner: None, hints: vec![owned(&anna)] });
        assert_eq!(plan.contact, ContactChoice::New);
        assert_eq!(plan.link, vec![tg("1")]);
        assert_eq!(plan.suggestions.len(), 1);
        assert_eq!(plan.suggestions[0].other, anna);
        assert_eq!(plan.suggestions[0].reason, SuggestionReason::UnverifiedDetailMatches);
        assert_eq!(plan.claims, vec![email("anna@example.pl")]);
    }

    #[test]
    fn two_existing_people_are_never_joined() {
        let (anna, boris) = (ContactId::generate(), ContactId::generate());
        let plan = identify(
            &tg("1"),
            &[hint(email("boris@example.ru"), true)],
            &IdentityFacts { sender_owner: Some(anna.clone()), hints: vec![owned(&boris)] },
        );
        assert_eq!(plan.contact, ContactChoice::Existing(anna));
        assert!(plan.link.is_empty());
        assert_eq!(plan.suggestions[0].other, boris);
        assert_eq!(plan.suggestions[0].reason, SuggestionReason::VerifiedDetailOwnedByOther);
    }

    #[test]
    fn unowned_details_are_linked_or_claimed() {
        let plan = identify(
            &tg("1"),
            &[hint(email("a@example.pl"), true), hint(email("b@example.pl"), false)],
            &IdentityFacts { sender_owner: None, hints: vec![HintFacts::default(), HintFacts::default()] },
        );
        assert_eq!(plan.contact, ContactChoice::New);
        assert_eq!(plan.link, vec![tg("1"), email("a@example.pl")]);
        assert_eq!(plan.claims, vec![email("b@example.pl")]);
    }

    #[test]
    fn a_shared_unverified_claim_is_a_suggestion() {
        let boris = ContactId::generate();
        let plan = identify(
            &tg("1"),
            &[hint(email("shared@example.pl"), false)],
            &IdentityFacts {
                sender_owner: None,
                hints: vec![HintFacts { verified_owner: None, claimed_by: vec![boris.clone()], owner_is_another_user: false }],
            },
        );
        assert_eq!(plan.claims, vec![email("shared@example.pl")]);
        assert_eq!(plan.suggestions[0].other, boris);
    }
}
