//! The knowledge base's API under `/api/v1/kb` (articles, versions, categories, the answer a
//! bot or IVR gets, deflection) and `/api/v1/search`, and the one answering step the built-in
//! bot, the answer API and the agent's suggestions share.

use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, JsonBody};
use crate::{AppState, LiveEvent, markdown};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use switchboard_domain::kb::{self, ArticleStatus, Question, Surface, VariantInput, VariantKind};
use switchboard_domain::*;
use switchboard_store::*;

type QueryResult<T> = Result<Query<T>, axum::extract::rejection::QueryRejection>;

fn query<T>(q: QueryResult<T>, lang: switchboard_i18n::Lang) -> ApiResult<T> {
    q.map(|Query(q)| q).map_err(|e| ApiError::bad_field("query", e.body_text()).lang(lang))
}

fn article_id(raw: &str) -> ApiResult<ArticleId> {
    ArticleId::parse(raw).map_err(|_| ApiError::not_found())
}

/// Today in UTC: `review_by` dates are whole UTC days.
pub fn today() -> ::time::Date {
    ::time::OffsetDateTime::from_unix_timestamp(now().millis().div_euclid(1000)).map(|t| t.date()).unwrap_or(::time::Date::MIN)
}

// ------------------------------------------------------------------ freshness

/// How far this node's indexer has applied the change log, and how to wake it: a search sees
/// every change committed before it began (read your writes), waiting at most
/// `FRESHNESS_WAIT` for the indexer's next pass.
#[derive(Default)]
pub struct IndexProgress {
    applied: std::sync::Mutex<Option<tokio::sync::watch::Sender<i64>>>,
    wake: tokio::sync::Notify,
}

/// Longest a search waits for the index to take in what was committed before it.
pub const FRESHNESS_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

impl IndexProgress {
    /// The indexer's side: it keeps this node's index current from now on.
    pub fn start(&self, cursor: i64) {
        let (tx, _) = tokio::sync::watch::channel(cursor);
        *self.applied.lock().unwrap_or_else(|p| p.into_inner()) = Some(tx);
    }
    /// The indexer committed the log up to `cursor`.
    pub fn applied(&self, cursor: i64) {
        if let Some(tx) = self.applied.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            tx.send_replace(cursor);
        }
    }
    /// Resolves when a search asks the indexer not to wait for its next pause to end.
    pub async fn woken(&self) {
        self.wake.notified().await
    }
    fn watch(&self) -> Option<tokio::sync::watch::Receiver<i64>> {
        self.applied.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map(|tx| tx.subscribe())
    }
}

/// Waits (at most `FRESHNESS_WAIT`) until the index holds every change committed so far. Without
/// an indexer (a state in a unit test) it returns at once.
pub async fn fresh_index(state: &AppState) {
    let Some(mut watch) = state.index_progress.watch() else { return };
    let Ok((latest, _)) = state.store.search_change_bounds().await else { return };
    if *watch.borrow() >= latest {
        return;
    }
    state.index_progress.wake.notify_one();
    let _ = tokio::time::timeout(FRESHNESS_WAIT, watch.wait_for(|applied| *applied >= latest)).await;
}

// ------------------------------------------------------------------ articles

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArticleBody {
    status: String,
    #[serde(default)]
    review_by: Option<String>,
    #[serde(default)]
    category_id: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    variants: Vec<VariantBody>,
    #[serde(default)]
    questions: Vec<QuestionBody>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariantBody {
    locale: String,
    kind: String,
    title: String,
    body: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionBody {
    locale: String,
    text: String,
}

fn locale(raw: &str, field: &str) -> ApiResult<Language> {
    match raw.parse::<Language>() {
        Ok(l) if l.code() == raw => Ok(l),
        _ => Err(ApiError::bad_field(field, "must be ru, pl or en")),
    }
}

fn article_input(body: ArticleBody) -> ApiResult<ArticleInput> {
    let status = body.status.parse::<ArticleStatus>().map_err(|_| ApiError::bad_field("status", "must be draft or published"))?;
    let review_by = match body.review_by.as_deref() {
        None | Some("") => None,
        Some(raw) => Some(kb::parse_date(raw).ok_or_else(|| ApiError::bad_field("review_by", "must be a date YYYY-MM-DD"))?),
    };
    let category_id = body
        .category_id
        .as_deref()
        .map(|c| KbCategoryId::parse(c).map_err(|_| ApiError::bad_field("category_id", "not a valid id")))
        .transpose()?;
    if body.variants.len() > kb::MAX_VARIANTS {
        return Err(ApiError::bad_field("variants", format!("at most {} variants", kb::MAX_VARIANTS)));
    }
    if body.questions.len() > kb::MAX_QUESTIONS {
        return Err(ApiError::bad_field("questions", format!("at most {} questions", kb::MAX_QUESTIONS)));
    }
    let mut variants = Vec::with_capacity(body.variants.len());
    for (i, v) in body.variants.into_iter().enumerate() {
        let kind = v
            .kind
            .parse::<VariantKind>()
            .map_err(|_| ApiError::bad_field(format!("variants[{i}].kind"), "must be web, short, spoken or agent"))?;
        variants.push(VariantInput { locale: locale(&v.locale, &format!("variants[{i}].locale"))?, kind, title: v.title, body: v.body });
    }
    let mut questions = Vec::with_capacity(body.questions.len());
    for (i, q) in body.questions.into_iter().enumerate() {
        questions.push(Question { locale: locale(&q.locale, &format!("questions[{i}].locale"))?, text: q.text });
    }
    // Checked here, before the writer, with the store's own rules: a 400 naming the field.
    let (variants, questions) = kb::clean_content(&variants, &questions).map_err(|e| ApiError::bad_field(e.field, e.message))?;
    let tags = tags::clean_tags(&body.tags).map_err(|e| ApiError::bad_field(e.field, e.message))?;
    Ok(ArticleInput { status, review_by, category_id, tags, variants, questions })
}

/// An article as the API shows it: each variant with whether it is outdated and its HTML.
pub fn article_json(a: &Article, today: ::time::Date) -> Value {
    json!({
        "id": a.id, "version": a.state.version, "status": a.state.status.as_str(),
        "review_by": a.state.review_by.map(kb::format_date), "stale": a.state.stale(today),
        "category_id": a.category_id, "tags": a.tags,
        "variants": a.state.variants.iter().map(|v| json!({
            "locale": v.locale.code(), "kind": v.kind.as_str(), "title": v.title, "body": v.body,
            "html": markdown::to_html(&v.body), "outdated": a.state.outdated(v),
            "changed_in_version": v.changed_in, "current_as_of_version": v.current_as_of,
        })).collect::<Vec<_>>(),
        "questions": a.questions.iter().map(|q| json!({"locale": q.locale.code(), "text": q.text})).collect::<Vec<_>>(),
        "created_at": crate::dto::time(a.created_at), "updated_at": crate::dto::time(a.updated_at), "updated_by": a.updated_by,
    })
}

fn announce(state: &AppState, workspace: &WorkspaceId, a: &Article) {
    state.publish(LiveEvent::new(workspace, "kb.article.changed", json!({"id": a.id, "version": a.state.version})));
}

pub async fn create_article(State(state): State<AppState>, auth: Auth, JsonBody(body): JsonBody<ArticleBody>) -> ApiResult<Response> {
    auth.require(Permission::ManageKnowledge)?;
    let input = article_input(body).map_err(|e| e.lang(auth.lang))?;
    let ws = &auth.principal.workspace_id;
    let article =
        state.store.create_article(ws, input, Some(&auth.principal.agent_id)).await.map_err(|e| ApiError::from(e).lang(auth.lang))?;
    announce(&state, ws, &article);
    Ok((StatusCode::CREATED, Json(article_json(&article, today()))).into_response())
}

pub async fn update_article(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ArticleBody>,
) -> ApiResult<Json<Value>> {
    auth.require(Permission::ManageKnowledge)?;
    let id = article_id(&id)?;
    let input = article_input(body).map_err(|e| e.lang(auth.lang))?;
    let ws = &auth.principal.workspace_id;
    let article =
        state.store.update_article(ws, &id, input, Some(&auth.principal.agent_id)).await.map_err(|e| ApiError::from(e).lang(auth.lang))?;
    announce(&state, ws, &article);
    Ok(Json(article_json(&article, today())))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmBody {
    locale: String,
    kind: String,
}

/// Someone checked a translation: it is current again (a new version).
pub async fn confirm_variant(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ConfirmBody>,
) -> ApiResult<Json<Value>> {
    auth.require(Permission::ManageKnowledge)?;
    let id = article_id(&id)?;
    let locale = locale(&body.locale, "locale").map_err(|e| e.lang(auth.lang))?;
    let kind =
        body.kind.parse::<VariantKind>().map_err(|_| ApiError::bad_field("kind", "must be web, short, spoken or agent").lang(auth.lang))?;
    let ws = &auth.principal.workspace_id;
    let article = state
        .store
        .confirm_variant(ws, &id, locale, kind, Some(&auth.principal.agent_id))
        .await
        .map_err(|e| ApiError::from(e).lang(auth.lang))?;
    announce(&state, ws, &article);
    Ok(Json(article_json(&article, today())))
}

#[derive(Deserialize)]
pub struct ArticleListQuery {
    /// `stale`, `outdated` or `review_due` (either).
    filter: Option<String>,
    status: Option<String>,
}

pub async fn list_articles(State(state): State<AppState>, auth: Auth, q: QueryResult<ArticleListQuery>) -> ApiResult<Json<Value>> {
    auth.require(Permission::Read)?;
    let q = query(q, auth.lang)?;
    let today = today();
    let status = q
        .status
        .as_deref()
        .map(|s| s.parse::<ArticleStatus>().map_err(|_| ApiError::bad_field("status", "must be draft or published").lang(auth.lang)))
        .transpose()?;
    let keep = |a: &Article| -> ApiResult<bool> {
        let stale = a.state.stale(today);
        let outdated = a.state.variants.iter().any(|v| a.state.outdated(v));
        let by_filter = match q.filter.as_deref() {
            None => true,
            Some("stale") => stale,
            Some("outdated") => outdated,
            Some("review_due") => stale || outdated,
            Some(_) => return Err(ApiError::bad_field("filter", "must be stale, outdated or review_due").lang(auth.lang)),
        };
        Ok(by_filter && status.is_none_or(|s| s == a.state.status))
    };
    let mut items = Vec::new();
    for a in state.store.list_articles(&auth.principal.workspace_id).await.map_err(|e| ApiError::from(e).lang(auth.lang))? {
        if keep(&a)? {
            items.push(article_json(&a, today));
        }
    }
    Ok(Json(json!({"items": items})))
}

pub async fn get_article(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    auth.require(Permission::Read)?;
    let id = article_id(&id)?;
    let a = state.store.article(&auth.principal.workspace_id, &id).await.map_err(|e| ApiError::from(e).lang(auth.lang))?;
    Ok(Json(article_json(&a, today())))
}

pub async fn article_versions(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    auth.require(Permission::Read)?;
    let id = article_id(&id)?;
    let versions = state.store.article_versions(&auth.principal.workspace_id, &id).await.map_err(|e| ApiError::from(e).lang(auth.lang))?;
    Ok(Json(json!({"items": versions.iter().map(version_json).collect::<Vec<_>>()})))
}

pub fn version_json(v: &ArticleVersion) -> Value {
    json!({
        "version": v.version, "status": v.status.as_str(), "review_by": v.review_by.map(kb::format_date),
        "category_id": v.category_id, "tags": v.tags, "change": v.change,
        "author": v.author_id.as_ref().map(|id| json!({"id": id, "name": v.author_name})),
        "created_at": crate::dto::time(v.created_at),
        "variants": v.variants.iter().map(|x| json!({"locale": x.locale.code(), "kind": x.kind.as_str(), "title": x.title, "body": x.body,
            "changed_in_version": x.changed_in, "current_as_of_version": x.current_as_of})).collect::<Vec<_>>(),
        "questions": v.questions.iter().map(|q| json!({"locale": q.locale.code(), "text": q.text})).collect::<Vec<_>>(),
    })
}

// ------------------------------------------------------------------ categories

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryBody {
    names: BTreeMap<String, String>,
    #[serde(default)]
    position: i64,
}

fn category_json(c: &KbCategory) -> Value {
    json!({"id": c.id, "names": c.names.iter().map(|(l, n)| (l.code().to_owned(), Value::String(n.clone()))).collect::<serde_json::Map<_, _>>(), "position": c.position})
}

/// Longest category name, in characters.
const MAX_CATEGORY_NAME: usize = 120;

/// The names by locale, each 1 to 120 printable characters, at least one: a 400 naming the
/// field otherwise, before anything reaches the writer.
fn category_names(body: BTreeMap<String, String>) -> ApiResult<BTreeMap<Language, String>> {
    if body.is_empty() {
        return Err(ApiError::bad_field("names", "a name in at least one locale"));
    }
    body.into_iter()
        .map(|(l, n)| {
            let locale = locale(&l, &format!("names.{l}"))?;
            let name = n.trim();
            if name.is_empty() || name.chars().count() > MAX_CATEGORY_NAME || name.chars().any(char::is_control) {
                return Err(ApiError::bad_field(format!("names.{l}"), format!("1 to {MAX_CATEGORY_NAME} printable characters")));
            }
            Ok((locale, name.to_owned()))
        })
        .collect()
}

pub async fn list_categories(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    auth.require(Permission::Read)?;
    let list = state.store.list_categories(&auth.principal.workspace_id).await.map_err(|e| ApiError::from(e).lang(auth.lang))?;
    Ok(Json(json!({"items": list.iter().map(category_json).collect::<Vec<_>>()})))
}

pub async fn create_category(State(state): State<AppState>, auth: Auth, JsonBody(body): JsonBody<CategoryBody>) -> ApiResult<Response> {
    auth.require(Permission::ManageKnowledge)?;
    let names = category_names(body.names).map_err(|e| e.lang(auth.lang))?;
    let c = state
        .store
        .save_category(&auth.principal.workspace_id, None, names, body.position)
        .await
        .map_err(|e| ApiError::from(e).lang(auth.lang))?;
    Ok((StatusCode::CREATED, Json(category_json(&c))).into_response())
}

pub async fn update_category(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<CategoryBody>,
) -> ApiResult<Json<Value>> {
    auth.require(Permission::ManageKnowledge)?;
    let id = KbCategoryId::parse(&id).map_err(|_| ApiError::not_found())?;
    let names = category_names(body.names).map_err(|e| e.lang(auth.lang))?;
    let c = state
        .store
        .save_category(&auth.principal.workspace_id, Some(&id), names, body.position)
        .await
        .map_err(|e| ApiError::from(e).lang(auth.lang))?;
    Ok(Json(category_json(&c)))
}

pub async fn delete_category(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<StatusCode> {
    auth.require(Permission::ManageKnowledge)?;
    let id = KbCategoryId::parse(&id).map_err(|_| ApiError::not_found())?;
    state
        .store
        .delete_category(&auth.principal.workspace_id, &id, Some(&auth.principal.agent_id))
        .await
        .map_err(|e| ApiError::from(e).lang(auth.lang))?;
    Ok(StatusCode::NO_CONTENT)
}

// ------------------------------------------------------------------ answering

/// The bot's threshold when a channel sets none, and the answer API's default.
pub const DEFAULT_MIN_CONFIDENCE: f32 = 0.6;
/// Longest question the answering step reads, in bytes (a longer one is cut at a character
/// boundary): matching stays bounded whatever a customer pastes.
pub const MAX_QUESTION_BYTES: usize = 2000;

/// What the knowledge base answers a customer.
#[derive(Debug, Clone)]
pub struct Decision {
    pub answer: Option<Answered>,
    /// `answered`, `no_match`, `low_confidence`, `asks_for_person`, `empty_question`, or why
    /// the best match may not be served (`draft`, `stale`, `missing`, `outdated`).
    pub reason: &'static str,
    /// The locale the question was read in.
    pub locale: Language,
    /// The best candidates considered: (article, title, confidence).
    pub candidates: Vec<(ArticleId, String, f32)>,
}

#[derive(Debug, Clone)]
pub struct Answered {
    pub article: Article,
    pub kind: VariantKind,
    pub title: String,
    /// Markdown as written.
    pub body: String,
    pub confidence: f32,
}

impl Answered {
    /// The answer as a customer's channel carries it: plain text for chat and speech, the web
    /// variant's text with its title for email.
    pub fn text(&self) -> String {
        markdown::to_plain(&self.body)
    }
}

fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The one answering step: the best servable article for `text` read in `locale` (detected
/// when `None`), in the kind `surface` takes, if its confidence reaches `min_confidence`.
/// Drafts, stale articles, variants in another locale or kind and outdated translations are
/// never answered (`kb::serve`).
pub async fn decide(
    state: &AppState,
    workspace: &WorkspaceId,
    text: &str,
    locale: Option<Language>,
    surface: Surface,
    min_confidence: f32,
) -> ApiResult<Decision> {
    let text = cut(text.trim(), MAX_QUESTION_BYTES);
    let locale = locale.unwrap_or_else(|| language::detect_or(text, Language::En));
    let mut decision = Decision { answer: None, reason: "no_match", locale, candidates: Vec::new() };
    if language::detect(text).is_none() {
        decision.reason = "empty_question";
        return Ok(decision);
    }
    if kb::asks_for_person(text) {
        decision.reason = "asks_for_person";
        return Ok(decision);
    }
    fresh_index(state).await;
    let index = state.search.clone();
    let (ws, question) = (workspace.to_string(), text.to_owned());
    let matches = tokio::task::spawn_blocking(move || index.match_articles(&ws, locale, &question, 5))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    if matches.is_empty() {
        return Ok(decision);
    }
    let ids: Vec<ArticleId> = matches.iter().map(|m| ArticleId::from_trusted(m.article_id.clone())).collect();
    let articles = state.store.articles_by_id(workspace, &ids).await?;
    let today = today();
    // Candidates come best first; the first servable one at or above the threshold answers.
    // Otherwise the reason is the best candidate's: why it may not be served, or that it is
    // not sure enough.
    let mut reason: Option<&'static str> = None;
    for m in &matches {
        let Some(article) = articles.iter().find(|a| a.id.as_str() == m.article_id) else { continue };
        let title = article.state.variants.iter().find(|v| v.locale == locale).map(|v| v.title.clone()).unwrap_or_default();
        decision.candidates.push((article.id.clone(), title, m.confidence));
        if decision.answer.is_some() {
            continue;
        }
        match kb::serve(&article.state, locale, surface, today) {
            Ok(variant) if m.confidence >= min_confidence => {
                decision.answer = Some(Answered {
                    article: article.clone(),
                    kind: variant.kind,
                    title: variant.title.clone(),
                    body: variant.body.clone(),
                    confidence: m.confidence,
                });
            }
            Ok(_) => {
                reason.get_or_insert("low_confidence");
            }
            Err(why) => {
                reason.get_or_insert(why.as_str());
            }
        }
    }
    decision.reason = if decision.answer.is_some() { "answered" } else { reason.unwrap_or("no_match") };
    Ok(decision)
}

#[derive(Deserialize)]
pub struct AnswerQuery {
    q: Option<String>,
    locale: Option<String>,
    channel_kind: Option<String>,
    min_confidence: Option<f32>,
}

/// `GET /api/v1/kb/answer`: what the bot would answer a customer on that kind of channel.
pub async fn answer(State(state): State<AppState>, auth: Auth, q: QueryResult<AnswerQuery>) -> ApiResult<Json<Value>> {
    auth.require(Permission::Read)?;
    let lang = auth.lang;
    let q = query(q, lang)?;
    let text = q.q.as_deref().map(str::trim).unwrap_or("");
    let locale = q.locale.as_deref().map(|l| locale(l, "locale")).transpose().map_err(|e| e.lang(lang))?;
    let surface = match q.channel_kind.as_deref() {
        None => Surface::Channel(ChannelKind::Widget),
        Some(raw) => Surface::parse(raw)
            .filter(|s| *s != Surface::HelpCenter)
            .ok_or_else(|| ApiError::bad_field("channel_kind", "a channel kind (telegram, email, twilio_voice…) or phone").lang(lang))?,
    };
    let min = q.min_confidence.unwrap_or(DEFAULT_MIN_CONFIDENCE);
    if !(0.0..=1.0).contains(&min) {
        return Err(ApiError::bad_field("min_confidence", "between 0 and 1").lang(lang));
    }
    let decision = decide(&state, &auth.principal.workspace_id, text, locale, surface, min).await.map_err(|e| e.lang(lang))?;
    Ok(Json(json!({
        "answer": decision.answer.as_ref().map(|a| json!({
            "article_id": a.article.id, "kind": a.kind.as_str(), "title": a.title, "text": a.text(),
            "html": markdown::to_html(&a.body), "confidence": round(a.confidence), "version": a.article.state.version,
        })),
        "reason": decision.reason,
        "locale": decision.locale.code(),
        "candidates": decision.candidates.iter().map(|(id, title, c)| json!({"article_id": id, "title": title, "confidence": round(*c)})).collect::<Vec<_>>(),
    })))
}

fn round(x: f32) -> f64 {
    (f64::from(x) * 1000.0).round() / 1000.0
}

// ------------------------------------------------------------------ deflection

#[derive(Deserialize)]
pub struct StatsQuery {
    days: Option<i64>,
}

fn counts_json(c: &DeflectionCounts) -> Value {
    json!({"answered": c.answered, "deflected": c.deflected, "pending": c.pending, "rate": c.rate()})
}

/// `GET /api/v1/kb/stats?days=N` (default 30, at most 365): the bot's answers and how many
/// were deflected (the customer reached no agent on any channel within 72 hours), in total,
/// per channel kind and per article.
pub async fn stats(State(state): State<AppState>, auth: Auth, q: QueryResult<StatsQuery>) -> ApiResult<Json<Value>> {
    auth.require(Permission::Read)?;
    let q = query(q, auth.lang)?;
    let days = q.days.unwrap_or(30);
    if !(1..=365).contains(&days) {
        return Err(ApiError::bad_field("days", "1 to 365").lang(auth.lang));
    }
    let since = now().plus_millis(-days * time_ms::DAY_MS);
    let ws = &auth.principal.workspace_id;
    let stats = state.store.kb_stats(ws, since).await.map_err(|e| ApiError::from(e).lang(auth.lang))?;
    let ids: Vec<ArticleId> = stats.by_article.iter().map(|(id, _)| id.clone()).collect();
    let articles = state.store.articles_by_id(ws, &ids).await.map_err(|e| ApiError::from(e).lang(auth.lang))?;
    let title = |id: &ArticleId| articles.iter().find(|a| &a.id == id).and_then(|a| a.state.variants.first()).map(|v| v.title.clone());
    Ok(Json(json!({
        "days": days,
        "window_hours": kb::DEFLECTION_WINDOW_MS / time_ms::HOUR_MS,
        "total": counts_json(&stats.total),
        "by_channel": stats.by_channel.iter().map(|(k, c)| { let mut v = counts_json(c); v["channel_kind"] = json!(k.as_str()); v }).collect::<Vec<_>>(),
        "by_article": stats.by_article.iter().map(|(id, c)| { let mut v = counts_json(c); v["article_id"] = json!(id); v["title"] = json!(title(id)); v }).collect::<Vec<_>>(),
    })))
}

use switchboard_domain::time as time_ms;

// ------------------------------------------------------------------ search

#[derive(Deserialize)]
pub struct SearchParams {
    q: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    locale: Option<String>,
    limit: Option<usize>,
}

/// Longest search query read, in bytes.
pub const MAX_SEARCH_BYTES: usize = 1000;

/// `GET /api/v1/search`: conversations, contacts and articles by their words in any form.
pub async fn search(State(state): State<AppState>, auth: Auth, q: QueryResult<SearchParams>) -> ApiResult<Json<Value>> {
    auth.require(Permission::Read)?;
    let lang = auth.lang;
    let q = query(q, lang)?;
    let text = q.q.as_deref().map(str::trim).unwrap_or("");
    let kinds = match q.kind.as_deref() {
        None | Some("") => Vec::new(),
        Some("conversation") => vec![switchboard_search::DocKind::Conversation, switchboard_search::DocKind::Message],
        Some("contact") => vec![switchboard_search::DocKind::Contact],
        Some("article") => vec![switchboard_search::DocKind::Article],
        Some(_) => return Err(ApiError::bad_field("type", "conversation, contact or article").lang(lang)),
    };
    let locale = q.locale.as_deref().map(|l| locale(l, "locale")).transpose().map_err(|e| e.lang(lang))?;
    let limit = q.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::bad_field("limit", "1 to 100").lang(lang));
    }
    // Nothing typed finds nothing (as an empty search box does), after the parameters are checked.
    if text.is_empty() {
        return Ok(Json(json!({"items": []})));
    }
    let items = search_items(&state, &auth.principal.workspace_id, cut(text, MAX_SEARCH_BYTES), kinds, locale, limit).await?;
    Ok(Json(json!({"items": items})))
}

/// Search hits as the API shows them, with conversations' and contacts' titles read from the
/// database (so a renamed subject shows as it is now, and a merged-away one not at all).
pub async fn search_items(
    state: &AppState,
    workspace: &WorkspaceId,
    text: &str,
    kinds: Vec<switchboard_search::DocKind>,
    locale: Option<Language>,
    limit: usize,
) -> ApiResult<Vec<Value>> {
    let hits = run_search(state, workspace, text, kinds, locale, Vec::new(), limit).await?;
    let mut items = Vec::with_capacity(hits.len());
    for hit in hits {
        let (kind, title) = match hit.kind {
            switchboard_search::DocKind::Conversation | switchboard_search::DocKind::Message => {
                let Ok(id) = ConversationId::parse(&hit.target_id) else { continue };
                match state.store.conversation(workspace, &id).await {
                    Ok(c) if c.merged_into.is_none() => ("conversation", c.subject.clone().unwrap_or_else(|| format!("#{}", c.number))),
                    Ok(_) | Err(StoreError::NotFound) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
            switchboard_search::DocKind::Contact => ("contact", hit.title.clone()),
            switchboard_search::DocKind::Article => ("article", hit.title.clone()),
        };
        items.push(json!({
            "type": kind, "id": hit.target_id, "title": title, "snippet": hit.snippet, "score": round(hit.score),
            "locale": hit.language.map(|l| l.code()), "variant": (!hit.variant.is_empty()).then_some(hit.variant.clone()),
        }));
    }
    Ok(items)
}

/// Most conversations a search narrows a listing to (the inbox's search box, `q` of the
/// conversation list): the best-scoring ones.
pub const MAX_CONVERSATIONS_MATCHED: usize = 500;

/// The conversations whose subject or messages contain `words` in any form (best first, at
/// most `MAX_CONVERSATIONS_MATCHED`), for a listing filtered by search.
pub async fn conversations_matching(state: &AppState, workspace: &WorkspaceId, words: &str) -> ApiResult<Vec<ConversationId>> {
    let kinds = vec![switchboard_search::DocKind::Conversation, switchboard_search::DocKind::Message];
    let hits = run_search(state, workspace, cut(words, MAX_SEARCH_BYTES), kinds, None, Vec::new(), MAX_CONVERSATIONS_MATCHED).await?;
    Ok(hits.into_iter().filter_map(|h| ConversationId::parse(&h.target_id).ok()).collect())
}

/// The index's hits for `text`, off the async threads.
pub async fn run_search(
    state: &AppState,
    workspace: &WorkspaceId,
    text: &str,
    kinds: Vec<switchboard_search::DocKind>,
    language: Option<Language>,
    variants: Vec<String>,
    limit: usize,
) -> ApiResult<Vec<switchboard_search::Hit>> {
    fresh_index(state).await;
    let index = state.search.clone();
    let (ws, text) = (workspace.to_string(), text.to_owned());
    tokio::task::spawn_blocking(move || {
        index.search(&switchboard_search::SearchQuery { workspace: &ws, text: &text, kinds, language, variants, limit })
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)
}

// ------------------------------------------------------------------ the agent's side

/// `GET /api/v1/conversations/{id}/kb-suggestions`: the articles that best answer the
/// customer's last messages, in their language, each with its `agent` instructions and what an
/// agent may insert (the `short` variant, or a link to the `web` one).
pub async fn suggestions(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    auth.require(Permission::Read)?;
    let id = ConversationId::parse(&id).map_err(|_| ApiError::not_found())?;
    let ws = auth.principal.workspace_id.clone();
    let messages = state.store.messages(&ws, &id).await.map_err(|e| ApiError::from(e).lang(auth.lang))?;
    let list = suggest(&state, &ws, &messages).await.map_err(|e| e.lang(auth.lang))?;
    Ok(Json(json!({"items": list})))
}

/// Best first: at most 3 articles for the customer's last three messages of `messages` (one
/// conversation's, in time order).
pub async fn suggest(state: &AppState, workspace: &WorkspaceId, messages: &[Message]) -> ApiResult<Vec<Value>> {
    let asked: Vec<&str> =
        messages.iter().rev().filter(|m| m.direction == conversation::Direction::In).take(3).map(|m| m.text.as_str()).collect();
    let text: String = asked.into_iter().rev().collect::<Vec<_>>().join("\n");
    let text = cut(&text, MAX_QUESTION_BYTES).to_owned();
    let Some(locale) = language::detect(&text) else { return Ok(Vec::new()) };
    fresh_index(state).await;
    let index = state.search.clone();
    let ws = workspace.to_string();
    let matches = tokio::task::spawn_blocking(move || index.match_articles(&ws, locale, &text, 3))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    let ids: Vec<ArticleId> = matches.iter().map(|m| ArticleId::from_trusted(m.article_id.clone())).collect();
    let articles = state.store.articles_by_id(workspace, &ids).await?;
    let today = today();
    let workspace_slug = state.store.workspace(workspace).await?.slug;
    let mut out = Vec::new();
    for m in matches.iter().filter(|m| m.confidence > 0.0) {
        let Some(a) = articles.iter().find(|a| a.id.as_str() == m.article_id) else { continue };
        if a.state.status != ArticleStatus::Published {
            continue;
        }
        let short = kb::serve(&a.state, locale, Surface::Channel(ChannelKind::Widget), today).ok();
        let web = kb::serve(&a.state, locale, Surface::HelpCenter, today).ok();
        let agent = a.state.variant(locale, VariantKind::Agent);
        let title = a.state.variants.iter().find(|v| v.locale == locale).map(|v| v.title.clone()).unwrap_or_default();
        let link = web.map(|_| format!("{}/help/{}/{}/articles/{}", state.public_url.trim_end_matches('/'), workspace_slug, locale, a.id));
        let insert = match (short, &link) {
            (Some(v), _) => Some(markdown::to_plain(&v.body)),
            (None, Some(link)) => Some(format!("{title}: {link}")),
            (None, None) => None,
        };
        out.push(json!({
            "article_id": a.id, "title": title, "locale": locale.code(), "confidence": round(m.confidence),
            "stale": a.state.stale(today),
            "agent_instructions": agent.map(|v| markdown::to_html(&v.body)),
            "insert": insert, "web_url": link,
        }));
    }
    Ok(out)
}
