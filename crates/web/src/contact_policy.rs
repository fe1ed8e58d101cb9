//! The contact-policy API (issue 18, point 5): whether sales, marketing or service may contact a
//! customer now, asked by a CRM or a dialer by our contact id or by a phone number or email
//! address, with every reason and every answer audited; the workspace's settings; and the
//! customer's own opt-outs. The decision is `switchboard_domain::contact_policy::decide`; the
//! JSON shapes of this capability live here, beside their handlers.

use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, JsonBody};
use crate::{AppState, dto};
use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_domain::contact_policy::{
    self, Answer, ContactChannel, OptOut, Purpose, Question, QuietHoursDoc, Reason, Settings, SettingsDoc,
};
use switchboard_domain::time::DAY_MS;
use switchboard_domain::*;
use switchboard_i18n::Lang;
use switchboard_store::*;

type QueryResult<T> = Result<Query<T>, axum::extract::rejection::QueryRejection>;

fn query<T>(q: QueryResult<T>, lang: Lang) -> ApiResult<T> {
    q.map(|Query(q)| q).map_err(|e| ApiError::bad_field("query", e.body_text()).lang(lang))
}

fn store_err(lang: Lang) -> impl Fn(StoreError) -> ApiError {
    move |e| ApiError::from(e).lang(lang)
}

/// How far ahead `at` may look: a campaign planned for next year is planned again by then.
const MAX_AHEAD_MS: i64 = 366 * DAY_MS;
/// How far back `at` may be: a caller's clock a little behind ours. The facts are today's, so a
/// question about the past would get a wrong answer.
const MAX_BEHIND_MS: i64 = 5 * 60 * 1000;

/// What a question says besides whom it is about: `purpose` (required), `channel`, `at`.
struct Asked {
    purpose: Purpose,
    channel: Option<ContactChannel>,
    at: Timestamp,
}

fn asked(purpose: Option<&str>, channel: Option<&str>, at: Option<&str>) -> ApiResult<Asked> {
    let purpose = purpose
        .ok_or_else(|| ApiError::bad_field("purpose", "required: sales, marketing or service"))?
        .parse::<Purpose>()
        .map_err(|_| ApiError::bad_field("purpose", "sales, marketing or service"))?;
    let channel = channel
        .map(|c| {
            ContactChannel::parse(c).ok_or_else(|| {
                ApiError::bad_field("channel", "phone, sms, email, whatsapp, telegram, vk, viber, widget, api (or a channel kind)")
            })
        })
        .transpose()?;
    let now = switchboard_store::now();
    let at = match at {
        None => now,
        Some(raw) => {
            let parsed = ::time::OffsetDateTime::parse(raw, &::time::format_description::well_known::Rfc3339)
                .map_err(|_| ApiError::bad_field("at", "a time in RFC 3339 (2026-12-01T09:00:00+01:00)"))?;
            let at = Timestamp((parsed.unix_timestamp_nanos() / 1_000_000) as i64);
            if at.since(now) > MAX_AHEAD_MS || now.since(at) > MAX_BEHIND_MS {
                return Err(ApiError::bad_field("at", "from now to a year ahead: the facts are today's"));
            }
            at
        }
    };
    Ok(Asked { purpose, channel, at })
}

/// The facts of `subject` and the policy's answer to `asked`, not audited (the agent's own page
/// shows it beside the customer; every API answer is audited by `answer_and_audit`).
pub async fn decide(
    state: &AppState,
    workspace: &WorkspaceId,
    subject: &PolicySubject,
    question: &Question,
) -> ApiResult<(PolicyFacts, Answer)> {
    let facts = state.store.contact_policy_facts(workspace, subject, question.at).await?;
    let answer = contact_policy::decide(&facts.settings, &facts.facts, question);
    Ok((facts, answer))
}

async fn answer_and_audit(state: &AppState, auth: &Auth, subject: PolicySubject, asked: Asked) -> ApiResult<Json<Value>> {
    let lang = auth.lang;
    let ws = &auth.principal.workspace_id;
    let question = Question { purpose: asked.purpose, channel: asked.channel, at: asked.at };
    let (facts, answer) = decide(state, ws, &subject, &question).await.map_err(|e| e.lang(lang))?;
    let body = answer_json(&facts, &question, &answer);
    let check = PolicyCheck { contacts: facts.contacts, subject, question, answer };
    state.store.record_contact_policy_check(ws, check, Actor::Agent(auth.principal.agent_id.clone())).await.map_err(store_err(lang))?;
    Ok(Json(body))
}

/// One reason as the API gives it: `code`, `effect` and what the code needs to be acted on.
pub fn reason_json(reason: &Reason, time_zone: &str) -> Value {
    let mut out = json!({"code": reason.code(), "effect": reason.effect().as_str()});
    if let Some((conversation, number)) = reason.conversation() {
        out["conversation_id"] = json!(conversation);
        out["conversation_number"] = json!(number);
    }
    match reason {
        Reason::OpenComplaint { tag, .. } => out["tag"] = json!(tag),
        Reason::OpenHighPriority { priority, .. } => out["priority"] = json!(priority.as_str()),
        Reason::OptedOut { opt_out, .. } => {
            out["opt_out"] = json!(opt_out.token());
            out["purpose"] = json!(opt_out.purpose.map(Purpose::as_str));
            out["channel"] = json!(opt_out.channel.map(ContactChannel::as_str));
        }
        Reason::QuietHours { until, .. } => {
            out["until"] = json!(until.map(|u| contact_policy::local_rfc3339(u, time_zone)));
            out["time_zone"] = json!(time_zone);
        }
        Reason::RecentComplaint { ended_at, until, .. } => {
            out["ended_at"] = json!(dto::time(*ended_at));
            out["until"] = json!(dto::time(*until));
        }
        Reason::LowRating { rating, rated_at, until, .. } => {
            out["rating"] = json!(rating);
            out["rated_at"] = json!(dto::time(*rated_at));
            out["until"] = json!(dto::time(*until));
        }
        Reason::OptOutUnreadable { value } => out["value"] = json!(value),
    }
    out
}

/// The answer: `decision`, `reasons` (strictest first), whom and what it was about.
pub fn answer_json(facts: &PolicyFacts, question: &Question, answer: &Answer) -> Value {
    json!({
        "decision": answer.decision.as_str(),
        "reasons": answer.reasons.iter().map(|r| reason_json(r, &answer.time_zone)).collect::<Vec<_>>(),
        "purpose": question.purpose.as_str(),
        "channel": question.channel.map(ContactChannel::as_str),
        "at": dto::time(question.at),
        "contact_id": facts.contacts.first(),
        "contact_ids": facts.contacts,
        "time_zone": answer.time_zone,
        "time_zone_source": answer.time_zone_source.as_str(),
    })
}

#[derive(Deserialize)]
pub struct ContactQuestion {
    purpose: Option<String>,
    channel: Option<String>,
    at: Option<String>,
}

/// `GET /api/v1/contacts/{id}/contact-policy?purpose=…[&channel=…][&at=…]`. Any role may ask
/// (a read-only integration of the sales department is a viewer); every answer is audited.
pub async fn for_contact(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    q: QueryResult<ContactQuestion>,
) -> ApiResult<Json<Value>> {
    auth.require(Permission::Read)?;
    let lang = auth.lang;
    let id = ContactId::parse(&id).map_err(|_| ApiError::not_found().lang(lang))?;
    let q = query(q, lang)?;
    let asked = asked(q.purpose.as_deref(), q.channel.as_deref(), q.at.as_deref()).map_err(|e| e.lang(lang))?;
    answer_and_audit(&state, &auth, PolicySubject::Contact(id), asked).await
}

#[derive(Deserialize)]
pub struct IdentityQuestion {
    phone: Option<String>,
    email: Option<String>,
    region: Option<String>,
    purpose: Option<String>,
    channel: Option<String>,
    at: Option<String>,
}

/// A phone number as a query string brings it: an unescaped `+` arrives as a space (form
/// encoding), which a dialer pasting `+48…` into a URL does not mean.
fn phone_from_query(raw: &str) -> String {
    let trimmed = raw.trim_end();
    match trimmed.strip_prefix(' ') {
        Some(rest) if rest.trim_start().starts_with(|c: char| c.is_ascii_digit()) => format!("+{}", rest.trim_start()),
        _ => trimmed.to_owned(),
    }
}

/// The identity a lookup names: exactly one of `phone` (E.164, or national with `region`) and
/// `email`, normalised as intake normalises them.
fn identity(q: &IdentityQuestion) -> ApiResult<Identity> {
    let region = q
        .region
        .as_deref()
        .map(|r| r.parse::<Region>().map_err(|_| ApiError::bad_field("region", "an ISO country code such as PL")))
        .transpose()?;
    match (q.phone.as_deref(), q.email.as_deref()) {
        (Some(_), Some(_)) => Err(ApiError::bad_field("email", "give a phone number or an email address, not both")),
        (None, None) => Err(ApiError::bad_field("phone", "give a phone number (phone=+48601234567) or an email address (email=…)")),
        (Some(phone), None) => Identity::phone(&phone_from_query(phone), region)
            .map_err(|_| ApiError::bad_field("phone", "a phone number in E.164 (+48601234567), or a national one with region")),
        (None, Some(email)) => Identity::email(email).map_err(|_| ApiError::bad_field("email", "an email address")),
    }
}

/// `GET /api/v1/contact-policy?phone=…|email=…&purpose=…[&channel=…][&region=…][&at=…]`: the
/// same answer for whoever has that identity (a verified owner first, then whoever only
/// claimed it, merges followed); an unknown one is `allow` with no reasons. Audited too.
pub async fn for_identity(State(state): State<AppState>, auth: Auth, q: QueryResult<IdentityQuestion>) -> ApiResult<Json<Value>> {
    auth.require(Permission::Read)?;
    let lang = auth.lang;
    let q = query(q, lang)?;
    let identity = identity(&q).map_err(|e| e.lang(lang))?;
    let asked = asked(q.purpose.as_deref(), q.channel.as_deref(), q.at.as_deref()).map_err(|e| e.lang(lang))?;
    answer_and_audit(&state, &auth, PolicySubject::Identity(identity), asked).await
}

#[derive(Deserialize)]
pub struct ChecksQuery {
    limit: Option<String>,
}

/// `GET /api/v1/contacts/{id}/contact-policy/checks[?limit=N]`: who asked about the customer,
/// what and what they were told, newest first (supervisors and admins).
pub async fn checks(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    q: QueryResult<ChecksQuery>,
) -> ApiResult<Json<Value>> {
    auth.require(Permission::ManageTeams)?;
    let lang = auth.lang;
    let id = ContactId::parse(&id).map_err(|_| ApiError::not_found().lang(lang))?;
    let q = query(q, lang)?;
    let limit = match q.limit.as_deref() {
        None => 50,
        Some(l) => {
            l.parse::<usize>().ok().filter(|n| (1..=200).contains(n)).ok_or_else(|| ApiError::bad_field("limit", "1 to 200").lang(lang))?
        }
    };
    let items = state.store.contact_policy_checks(&auth.principal.workspace_id, &id, limit).await.map_err(store_err(lang))?;
    Ok(Json(json!({"items": items.iter().map(dto::audit).collect::<Vec<_>>()})))
}

// ------------------------------------------------------------------ settings

/// The settings as the API shows them.
pub fn settings_json(s: &ContactPolicySettings) -> Value {
    let mut out = serde_json::to_value(s.settings.to_doc()).unwrap_or_else(|_| json!({}));
    out["updated_at"] = json!(s.updated_at.map(dto::time));
    out["updated_by"] = json!(s.updated_by);
    out
}

/// `GET /api/v1/contact-policy/settings` (supervisors and admins).
pub async fn get_settings(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    auth.require(Permission::ManageTeams)?;
    let settings = state.store.contact_policy_settings(&auth.principal.workspace_id).await.map_err(store_err(auth.lang))?;
    Ok(Json(settings_json(&settings)))
}

/// A change of the settings: fields left out keep their value; `quiet_hours: null` turns quiet
/// hours off.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SettingsChange {
    pub complaint_tags: Option<Vec<String>>,
    pub complaint_caution_days: Option<i64>,
    pub low_rating_max: Option<i64>,
    pub low_rating_caution_days: Option<i64>,
    #[serde(default, deserialize_with = "present")]
    pub quiet_hours: Option<Option<QuietHoursDoc>>,
    pub default_time_zone: Option<String>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<QuietHoursDoc>>, D::Error> {
    Option::<QuietHoursDoc>::deserialize(d).map(Some)
}

impl SettingsChange {
    /// `current` with this change, validated; 400 naming the field at fault.
    pub fn apply(self, current: &Settings) -> ApiResult<Settings> {
        let mut doc: SettingsDoc = current.to_doc();
        if let Some(v) = self.complaint_tags {
            doc.complaint_tags = v;
        }
        if let Some(v) = self.complaint_caution_days {
            doc.complaint_caution_days = v;
        }
        if let Some(v) = self.low_rating_max {
            doc.low_rating_max = v;
        }
        if let Some(v) = self.low_rating_caution_days {
            doc.low_rating_caution_days = v;
        }
        if let Some(v) = self.quiet_hours {
            doc.quiet_hours = v;
        }
        if let Some(v) = self.default_time_zone {
            doc.default_time_zone = v;
        }
        Settings::from_doc(&doc).map_err(|e| ApiError::bad_field(e.field, e.message))
    }
}

/// Saves a change of the settings for the caller (admins: `ManageWorkspace`), checked first.
pub async fn change_settings(state: &AppState, auth: &Auth, change: SettingsChange) -> ApiResult<ContactPolicySettings> {
    auth.require(Permission::ManageWorkspace)?;
    let lang = auth.lang;
    let ws = &auth.principal.workspace_id;
    let current = state.store.contact_policy_settings(ws).await.map_err(store_err(lang))?;
    let settings = change.apply(&current.settings).map_err(|e| e.lang(lang))?;
    state.store.set_contact_policy_settings(ws, settings, Actor::Agent(auth.principal.agent_id.clone())).await.map_err(store_err(lang))
}

/// `PUT /api/v1/contact-policy/settings` (admins).
pub async fn put_settings(State(state): State<AppState>, auth: Auth, JsonBody(change): JsonBody<SettingsChange>) -> ApiResult<Json<Value>> {
    Ok(Json(settings_json(&change_settings(&state, &auth, change).await?)))
}

// ------------------------------------------------------------------ opt-outs

/// A customer's opt-outs as the API shows them: `opt_outs` (canonical tokens) and `unreadable`
/// (tokens of the attribute this policy cannot read, which caution every purpose).
pub fn opt_outs_json(contact: &Contact) -> Value {
    let value = contact.attributes.iter().find(|(k, _)| k == contact_policy::OPT_OUT_ATTRIBUTE).map_or("", |(_, v)| v.as_str());
    let (opt_outs, unreadable) = contact_policy::read_opt_outs(value);
    json!({"contact_id": contact.id, "opt_outs": opt_outs.iter().map(OptOut::token).collect::<Vec<_>>(), "unreadable": unreadable})
}

/// `GET /api/v1/contacts/{id}/opt-outs`.
pub async fn get_opt_outs(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    auth.require(Permission::Read)?;
    let id = ContactId::parse(&id).map_err(|_| ApiError::not_found().lang(auth.lang))?;
    let contact = state.store.contact(&auth.principal.workspace_id, &id).await.map_err(store_err(auth.lang))?;
    Ok(Json(opt_outs_json(&contact)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptOutsBody {
    opt_outs: Vec<String>,
}

/// Replaces a customer's opt-outs for the caller (`Write`: agents record what the customer
/// asked), checked first; the contact after.
pub async fn change_opt_outs(state: &AppState, auth: &Auth, id: &ContactId, list: &[String]) -> ApiResult<Contact> {
    auth.require(Permission::Write)?;
    let lang = auth.lang;
    let opt_outs = contact_policy::opt_outs_from_list(list).map_err(|e| ApiError::bad_field(e.field, e.message).lang(lang))?;
    let actor = Actor::Agent(auth.principal.agent_id.clone());
    state.store.set_opt_outs(&auth.principal.workspace_id, id, opt_outs, actor).await.map_err(store_err(lang))
}

/// `PUT /api/v1/contacts/{id}/opt-outs` with `{"opt_outs": ["marketing", "sms", "sales:phone"]}`.
pub async fn put_opt_outs(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<OptOutsBody>,
) -> ApiResult<Json<Value>> {
    auth.require(Permission::Write)?;
    let id = ContactId::parse(&id).map_err(|_| ApiError::not_found().lang(auth.lang))?;
    let contact = change_opt_outs(&state, &auth, &id, &body.opt_outs).await?;
    Ok(Json(opt_outs_json(&contact)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unescaped_plus_in_a_query_is_still_a_plus() {
        assert_eq!(phone_from_query(" 48601234567"), "+48601234567");
        assert_eq!(phone_from_query("+48601234567"), "+48601234567");
        assert_eq!(phone_from_query("601 234 567"), "601 234 567");
        assert_eq!(phone_from_query(" x"), " x");
    }

    #[test]
    fn questions_name_the_field_at_fault() {
        let field = |p: Option<&str>, c: Option<&str>, a: Option<&str>| asked(p, c, a).err().and_then(|e| e.field);
        assert_eq!(field(None, None, None).as_deref(), Some("purpose"));
        assert_eq!(field(Some("spam"), None, None).as_deref(), Some("purpose"));
        assert_eq!(field(Some("sales"), Some("fax"), None).as_deref(), Some("channel"));
        assert_eq!(field(Some("sales"), None, Some("tomorrow")).as_deref(), Some("at"));
        assert_eq!(field(Some("sales"), None, Some("2001-01-01T00:00:00Z")).as_deref(), Some("at"), "the past");
        assert!(asked(Some("service"), Some("twilio_voice"), None).is_ok_and(|a| a.channel == Some(ContactChannel::Phone)));
        let q = |phone: Option<&str>, email: Option<&str>, region: Option<&str>| IdentityQuestion {
            phone: phone.map(str::to_owned),
            email: email.map(str::to_owned),
            region: region.map(str::to_owned),
            purpose: None,
            channel: None,
            at: None,
        };
        assert_eq!(identity(&q(None, None, None)).err().and_then(|e| e.field).as_deref(), Some("phone"));
        assert_eq!(identity(&q(Some("+48601234567"), Some("a@b.pl"), None)).err().and_then(|e| e.field).as_deref(), Some("email"));
        assert_eq!(identity(&q(Some("601 234 567"), None, None)).err().and_then(|e| e.field).as_deref(), Some("phone"), "no region");
        assert_eq!(identity(&q(Some("601 234 567"), None, Some("PL"))).ok().map(|i| i.value().to_owned()), Some("+48601234567".into()));
        assert_eq!(identity(&q(Some("601 234 567"), None, Some("XX"))).err().and_then(|e| e.field).as_deref(), Some("region"));
        assert_eq!(identity(&q(None, Some("Anna@Example.PL"), None)).ok().map(|i| i.value().to_owned()), Some("anna@example.pl".into()));
        assert_eq!(identity(&q(None, Some("not-an-address"), None)).err().and_then(|e| e.field).as_deref(), Some("email"));
    }
}
