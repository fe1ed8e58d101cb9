//! The knowledge-base bot of a channel (`config.bot`): answers a customer's message the
//! knowledge base answers surely enough with the `short` variant, asks "did this help?", and
//! hands the conversation to the agents, with its exchange as an internal note, when it cannot
//! answer, when the answer did not help, or when the customer asks for a person.

use crate::kb::{self, Decision};
use crate::{AppState, LiveEvent, dto};
use serde_json::json;
use switchboard_channels::config::BotSettings;
use switchboard_domain::conversation::Direction;
use switchboard_domain::kb::Surface;
use switchboard_domain::*;
use switchboard_i18n::{Lang, t};
use switchboard_store::*;

/// After a customer's message is stored: lets the channel's bot consider it, in the
/// background (the provider's webhook is acknowledged meanwhile; the message is safe and the
/// agents see it whatever the bot does).
pub fn after_intake(state: &AppState, channel: &Channel, outcome: &IntakeOutcome) {
    if outcome.duplicate {
        return;
    }
    let Some(settings) = BotSettings::of(&channel.config) else { return };
    let (state, channel, outcome) = (state.clone(), channel.clone(), outcome.clone());
    tokio::spawn(async move {
        if let Err(e) = consider(&state, &channel, &outcome, settings).await {
            tracing::error!(error = %e.message(), conversation = %outcome.conversation_id, "the bot could not consider a message");
        }
    });
}

fn lang_of(locale: Language) -> Lang {
    match locale {
        Language::Ru => Lang::Ru,
        Language::Pl => Lang::Pl,
        Language::En => Lang::En,
    }
}

/// What the bot does with one stored customer message.
pub async fn consider(
    state: &AppState,
    channel: &Channel,
    outcome: &IntakeOutcome,
    settings: BotSettings,
) -> Result<(), crate::error::ApiError> {
    let ws = &channel.workspace_id;
    let conversation = state.store.conversation(ws, &outcome.conversation_id).await?;
    if conversation.assignee_id.is_some() || matches!(conversation.status, Status::Closed | Status::Solved) {
        return Ok(()); // an agent has it, or it is over
    }
    let messages = state.store.messages(ws, &conversation.id).await?;
    let Some(message) = messages.iter().find(|m| m.id == outcome.message_id) else { return Ok(()) };
    if message.direction != Direction::In || message.text.trim().is_empty() {
        return Ok(());
    }
    // Once an agent answered, or the bot handed over, the conversation is the agents'.
    let agents_have_it = messages.iter().any(|m| {
        m.author_kind == AuthorKind::Agent && m.direction == Direction::Out
            || m.author_kind == AuthorKind::Bot && m.direction == Direction::Note
    });
    if agents_have_it {
        return Ok(());
    }
    let text = message.text.as_str();
    let locale = language::detect_or(text, Language::En);
    let lang = lang_of(locale);
    if state.store.open_bot_answer(&conversation.id).await?.is_some() {
        match switchboard_domain::kb::feedback(text) {
            Some(true) => {
                state.store.settle_bot_answer(ws, &conversation.id, BotOutcome::Helpful, None).await?;
                return say(state, channel, &conversation.id, &t(lang, "bot.glad", &[])).await;
            }
            Some(false) => {
                let note = t(lang, "bot.note_not_helpful", &[]);
                state.store.settle_bot_answer(ws, &conversation.id, BotOutcome::NotHelpful, Some(note)).await?;
                announce_handoff(state, ws, &conversation.id);
                return say(state, channel, &conversation.id, &t(lang, "bot.handing_over", &[])).await;
            }
            None => {}
        }
    }
    let decision = kb::decide(state, ws, text, Some(locale), Surface::Channel(channel.kind), settings.min_confidence).await?;
    match &decision.answer {
        Some(answer) => {
            let body = format!("{}\n\n{}", answer.text(), t(lang, "bot.did_it_help", &[]));
            let message = state
                .store
                .post_bot_answer(NewBotAnswer {
                    workspace_id: ws.clone(),
                    conversation_id: conversation.id.clone(),
                    channel_id: channel.id.clone(),
                    channel_kind: channel.kind,
                    article_id: answer.article.id.clone(),
                    question: text.to_owned(),
                    confidence: answer.confidence,
                    text: body,
                    buttons: vec![t(lang, "bot.yes", &[]), t(lang, "bot.no", &[])],
                })
                .await?;
            state.jobs_waiting.notify_one();
            state.publish(LiveEvent::new(ws, "message.created", dto::message(&message)));
            state.publish(LiveEvent::new(ws, "conversation.updated", json!({"id": conversation.id, "bot": true})));
            Ok(())
        }
        None => {
            let note = handoff_note(lang, text, &decision);
            state.store.settle_bot_answer(ws, &conversation.id, BotOutcome::HandedOff, Some(note)).await?;
            announce_handoff(state, ws, &conversation.id);
            say(state, channel, &conversation.id, &t(lang, "bot.handing_over", &[])).await
        }
    }
}

/// The internal note the agents find: what was asked, why the bot did not answer, and what it
/// considered.
fn handoff_note(lang: Lang, question: &str, decision: &Decision) -> String {
    let reason = t(lang, &format!("bot.reason.{}", decision.reason), &[]);
    let mut note = t(lang, "bot.note_handed_over", &[("question", question), ("reason", &reason)]);
    for (_, title, confidence) in decision.candidates.iter().take(3) {
        note.push_str(&format!("\n• {title} ({:.0} %)", confidence * 100.0));
    }
    note
}

fn announce_handoff(state: &AppState, workspace: &WorkspaceId, conversation: &ConversationId) {
    state.publish(LiveEvent::new(workspace, "conversation.updated", json!({"id": conversation, "bot": false})));
}

/// A short bot message on the channel (a thank-you, "an agent will answer"): not an answer of
/// the knowledge base, so not counted for deflection.
async fn say(state: &AppState, channel: &Channel, conversation: &ConversationId, text: &str) -> Result<(), crate::error::ApiError> {
    let message = state.store.post_bot_message(&channel.workspace_id, conversation, &channel.id, text).await?;
    state.jobs_waiting.notify_one();
    state.publish(LiveEvent::new(&channel.workspace_id, "message.created", dto::message(&message)));
    Ok(())
}
