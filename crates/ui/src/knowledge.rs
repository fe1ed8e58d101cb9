//! The knowledge base in the agent workspace: browse and search articles, see what is due for
//! review (stale or outdated), and, for supervisors and admins, write articles, confirm
//! translations, and read every version with what changed from the one before.

use crate::page::{Section, error_page, frame, respond, tr, when};
use crate::{Agent, PageForm, see_other};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;
use std::collections::HashMap;
use switchboard_domain::kb::{self, ArticleStatus, Question, VariantInput, VariantKind};
use switchboard_domain::*;
use switchboard_i18n::{Lang, t};
use switchboard_store::*;
use switchboard_web::AppState;
use switchboard_web::error::ApiError;
use switchboard_web::kb::today;

fn may_edit(agent: &Agent) -> bool {
    agent.session.principal.role.allows(Permission::ManageKnowledge)
}

fn locale_of(lang: Lang) -> Language {
    match lang {
        Lang::Ru => Language::Ru,
        Lang::Pl => Language::Pl,
        Lang::En => Language::En,
    }
}

/// The article's title in the reader's language, else any.
fn title(a: &Article, lang: Lang) -> String {
    let locale = locale_of(lang);
    a.state.variants.iter().find(|v| v.locale == locale).or_else(|| a.state.variants.first()).map(|v| v.title.clone()).unwrap_or_default()
}

fn page(agent: &Agent, title: &str, body: Markup) -> Response {
    respond(StatusCode::OK, frame(agent, Section::Knowledge, title, body))
}

fn fail(agent: &Agent, e: impl Into<ApiError>) -> Response {
    let lang = agent.lang();
    error_page(lang, &e.into().lang(lang))
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    q: Option<String>,
    filter: Option<String>,
}

/// `/kb`: every article (or those a search finds, or those due for review) with its state,
/// and the bot's deflection over the last 30 days.
pub async fn list(State(state): State<AppState>, agent: Agent, Query(q): Query<ListQuery>) -> Response {
    let lang = agent.lang();
    let ws = agent.session.principal.workspace_id.clone();
    let result = async {
        let mut articles = state.store.list_articles(&ws).await?;
        let words = q.q.as_deref().map(str::trim).filter(|w| !w.is_empty());
        if let Some(words) = words {
            let hits =
                switchboard_web::kb::run_search(&state, &ws, words, vec![switchboard_search::DocKind::Article], None, Vec::new(), 50)
                    .await?;
            let order: HashMap<&str, usize> = hits.iter().enumerate().map(|(i, h)| (h.target_id.as_str(), i)).collect();
            articles.retain(|a| order.contains_key(a.id.as_str()));
            articles.sort_by_key(|a| order.get(a.id.as_str()).copied().unwrap_or(usize::MAX));
        }
        let today = today();
        let due = q.filter.as_deref() == Some("review_due");
        if due {
            articles.retain(|a| a.state.stale(today) || a.state.variants.iter().any(|v| a.state.outdated(v)));
        }
        let since = switchboard_store::now().plus_millis(-30 * switchboard_domain::time::DAY_MS);
        let stats = state.store.kb_stats(&ws, since).await?;
        let per_article: HashMap<&ArticleId, &DeflectionCounts> = stats.by_article.iter().map(|(id, c)| (id, c)).collect();
        let rate = |c: &DeflectionCounts| c.rate().map_or_else(|| "—".to_owned(), |r| format!("{:.0} %", r * 100.0));
        Ok::<_, ApiError>(html! {
            div.kb {
                h1 { (tr(lang, "ui.kb.title")) }
                nav.kb-tools {
                    form method="get" action="/kb" role="search" {
                        label for="kb-q" { (tr(lang, "ui.search")) }
                        input #kb-q type="search" name="q" value=(words.unwrap_or(""));
                        button type="submit" { (tr(lang, "ui.search")) }
                    }
                    a href="/kb" aria-current=[(!due).then_some("page")] { (tr(lang, "ui.kb.all")) }
                    a href="/kb?filter=review_due" aria-current=[due.then_some("page")] { (tr(lang, "ui.kb.review_due")) }
                    @if may_edit(&agent) { a href="/kb/new" { (tr(lang, "ui.kb.new")) } }
                }
                section.kb-stats aria-labelledby="kb-stats-h" {
                    h2 #kb-stats-h { (tr(lang, "ui.kb.deflection")) }
                    p {
                        (t(lang, "ui.kb.deflection_summary", &[
                            ("answered", &stats.total.answered.to_string()),
                            ("deflected", &stats.total.deflected.to_string()),
                            ("pending", &stats.total.pending.to_string()),
                        ]))
                        " · " (tr(lang, "ui.kb.rate")) " " (rate(&stats.total))
                    }
                    @if !stats.by_channel.is_empty() {
                        ul { @for (kind, c) in &stats.by_channel { li { (crate::page::channel_name(lang, *kind)) ": " (c.answered) " / " (rate(c)) } } }
                    }
                }
                @if articles.is_empty() { p { (tr(lang, "ui.kb.none")) } }
                @else {
                    table.kb-list {
                        thead { tr {
                            th { (tr(lang, "ui.kb.article")) } th { (tr(lang, "ui.status")) } th { (tr(lang, "ui.kb.version")) }
                            th { (tr(lang, "ui.kb.languages")) } th { (tr(lang, "ui.kb.bot_answers")) } th { (tr(lang, "ui.kb.updated")) }
                        } }
                        tbody {
                            @for a in &articles {
                                @let stale = a.state.stale(today);
                                @let outdated: Vec<String> = a.state.variants.iter().filter(|v| a.state.outdated(v)).map(|v| format!("{} {}", v.locale, v.kind)).collect();
                                tr {
                                    td { a href=(format!("/kb/{}", a.id)) { (title(a, lang)) } }
                                    td {
                                        (tr(lang, &format!("ui.kb.status.{}", a.state.status.as_str())))
                                        @if stale { " " span.badge-warn { (tr(lang, "ui.kb.stale")) } }
                                        @if !outdated.is_empty() { " " span.badge-warn title=(outdated.join(", ")) { (tr(lang, "ui.kb.outdated")) } }
                                    }
                                    td { (a.state.version) }
                                    td { (locales(a)) }
                                    td { (per_article.get(&a.id).map_or_else(|| "0".to_owned(), |c| format!("{} · {}", c.answered, rate(c)))) }
                                    td { (when(a.updated_at)) }
                                }
                            }
                        }
                    }
                }
            }
        })
    };
    match result.await {
        Ok(body) => page(&agent, &tr(lang, "ui.kb.title"), body),
        Err(e) => fail(&agent, e),
    }
}

fn locales(a: &Article) -> String {
    let mut seen: Vec<&str> = a.state.variants.iter().map(|v| v.locale.code()).collect();
    seen.dedup();
    seen.join(", ")
}

// ------------------------------------------------------------------ one article

/// `/kb/{id}`: the article's variants (with what is outdated and a confirm button), its ways
/// of asking, the edit form for editors, and the link to its versions.
pub async fn show(State(state): State<AppState>, agent: Agent, Path(id): Path<String>) -> Response {
    let lang = agent.lang();
    let ws = agent.session.principal.workspace_id.clone();
    let result = async {
        let id = ArticleId::parse(&id).map_err(|_| ApiError::not_found())?;
        let a = state.store.article(&ws, &id).await?;
        let categories = state.store.list_categories(&ws).await?;
        Ok::<_, ApiError>((title(&a, lang), view(lang, &agent, &a, &categories)))
    };
    match result.await {
        Ok((title, body)) => page(&agent, &title, body),
        Err(e) => fail(&agent, e),
    }
}

fn view(lang: Lang, agent: &Agent, a: &Article, categories: &[KbCategory]) -> Markup {
    let today = today();
    html! {
        div.kb {
            p { a href="/kb" { "← " (tr(lang, "ui.kb.title")) } }
            h1 { (title(a, lang)) }
            p.meta {
                (tr(lang, &format!("ui.kb.status.{}", a.state.status.as_str()))) " · "
                (tr(lang, "ui.kb.version")) " " (a.state.version) " · "
                a href=(format!("/kb/{}/versions", a.id)) { (tr(lang, "ui.kb.versions")) }
                @if let Some(by) = a.state.review_by {
                    " · " (tr(lang, "ui.kb.review_by")) " " (kb::format_date(by))
                    @if a.state.stale(today) { " " span.badge-warn { (tr(lang, "ui.kb.stale")) } }
                }
            }
            @for v in &a.state.variants {
                section.kb-variant {
                    h2 { (v.locale) " · " (tr(lang, &format!("ui.kb.kind.{}", v.kind.as_str()))) ": " (v.title) }
                    @if a.state.outdated(v) {
                        p.badge-warn { (tr(lang, "ui.kb.outdated_hint")) }
                        @if may_edit(agent) {
                            form method="post" action=(format!("/kb/{}/confirm", a.id)) {
                                input type="hidden" name="locale" value=(v.locale.code());
                                input type="hidden" name="kind" value=(v.kind.as_str());
                                button type="submit" { (tr(lang, "ui.kb.confirm")) }
                            }
                        }
                    }
                    div.kb-body { (PreEscaped(switchboard_web::markdown::to_html(&v.body))) }
                }
            }
            @if !a.questions.is_empty() {
                h2 { (tr(lang, "ui.kb.questions")) }
                ul { @for q in &a.questions { li { (q.locale) ": " (q.text) } } }
            }
            @if may_edit(agent) {
                h2 { (tr(lang, "ui.kb.edit")) }
                (editor(lang, &format!("/kb/{}", a.id), Some(a), categories))
            }
        }
    }
}

/// The article form: status, review date, category, tags, then per locale every kind's title
/// and body and the ways customers ask it (one per line). Empty pairs are left out.
fn editor(lang: Lang, action: &str, a: Option<&Article>, categories: &[KbCategory]) -> Markup {
    let variant = |l: Language, k: VariantKind| a.and_then(|a| a.state.variant(l, k));
    let status = a.map_or(ArticleStatus::Draft, |a| a.state.status);
    let locale = locale_of(lang);
    html! {
        form.kb-editor.stack method="post" action=(action) {
            label for="kb-status" { (tr(lang, "ui.status")) }
            select #kb-status name="status" {
                @for s in [ArticleStatus::Draft, ArticleStatus::Published] {
                    option value=(s.as_str()) selected[s == status] { (tr(lang, &format!("ui.kb.status.{}", s.as_str()))) }
                }
            }
            label for="kb-review" { (tr(lang, "ui.kb.review_by")) }
            input #kb-review type="date" name="review_by" value=(a.and_then(|a| a.state.review_by).map(kb::format_date).unwrap_or_default());
            label for="kb-category" { (tr(lang, "ui.kb.category")) }
            select #kb-category name="category_id" {
                option value="" { "—" }
                @for c in categories {
                    option value=(c.id) selected[a.and_then(|a| a.category_id.as_ref()) == Some(&c.id)] {
                        (c.names.get(&locale).or_else(|| c.names.values().next()).cloned().unwrap_or_default())
                    }
                }
            }
            label for="kb-tags" { (tr(lang, "ui.kb.tags")) }
            input #kb-tags name="tags" value=(a.map(|a| a.tags.join(", ")).unwrap_or_default());
            @for l in Language::ALL {
                fieldset.kb-locale {
                    legend { (l) }
                    @for k in VariantKind::ALL {
                        @let v = variant(l, k);
                        @let name = format!("{}_{}", l, k.as_str());
                        label for=(format!("t-{name}")) { (tr(lang, &format!("ui.kb.kind.{}", k.as_str()))) " · " (tr(lang, "ui.kb.field_title")) }
                        input id=(format!("t-{name}")) name=(format!("title_{name}")) value=(v.map(|v| v.title.as_str()).unwrap_or(""));
                        label for=(format!("b-{name}")) { (tr(lang, &format!("ui.kb.kind.{}", k.as_str()))) " · " (tr(lang, "ui.kb.field_body")) }
                        textarea id=(format!("b-{name}")) name=(format!("body_{name}")) rows=(if k == VariantKind::Web { "6" } else { "3" }) { (v.map(|v| v.body.as_str()).unwrap_or("")) }
                    }
                    label for=(format!("q-{l}")) { (tr(lang, "ui.kb.questions_hint")) }
                    textarea id=(format!("q-{l}")) name=(format!("questions_{l}")) rows="3" {
                        (a.map(|a| a.questions.iter().filter(|q| q.locale == l).map(|q| q.text.as_str()).collect::<Vec<_>>().join("\n")).unwrap_or_default())
                    }
                }
            }
            button type="submit" { (tr(lang, "ui.save")) }
        }
    }
}

/// The editor's fields by name (`title_ru_web`, `body_pl_short`, `questions_en`…).
pub type EditorForm = HashMap<String, String>;

fn input_of(form: &EditorForm) -> Result<ArticleInput, ApiError> {
    let status = form
        .get("status")
        .and_then(|s| s.parse::<ArticleStatus>().ok())
        .ok_or_else(|| ApiError::bad_field("status", "must be draft or published"))?;
    let review_by = match form.get("review_by").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => Some(kb::parse_date(raw).ok_or_else(|| ApiError::bad_field("review_by", "must be a date YYYY-MM-DD"))?),
    };
    let category_id = match form.get("category_id").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => Some(KbCategoryId::parse(raw).map_err(|_| ApiError::bad_field("category_id", "not a valid id"))?),
    };
    let tags: Vec<String> =
        form.get("tags").map(|t| t.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect()).unwrap_or_default();
    let mut variants = Vec::new();
    let mut questions = Vec::new();
    for l in Language::ALL {
        for k in VariantKind::ALL {
            let field = |prefix: &str| form.get(&format!("{prefix}_{l}_{}", k.as_str())).map(|s| s.trim().to_owned()).unwrap_or_default();
            let (title, body) = (field("title"), field("body"));
            if title.is_empty() && body.is_empty() {
                continue;
            }
            variants.push(VariantInput { locale: l, kind: k, title, body });
        }
        if let Some(asked) = form.get(&format!("questions_{l}")) {
            questions.extend(asked.lines().map(str::trim).filter(|q| !q.is_empty()).map(|q| Question { locale: l, text: q.to_owned() }));
        }
    }
    Ok(ArticleInput { status, review_by, category_id, tags, variants, questions })
}

/// `/kb/new`: the empty form.
pub async fn new_page(State(state): State<AppState>, agent: Agent) -> Response {
    let lang = agent.lang();
    if !may_edit(&agent) {
        return fail(&agent, ApiError::new(StatusCode::FORBIDDEN, "forbidden", "error.forbidden"));
    }
    match state.store.list_categories(&agent.session.principal.workspace_id).await {
        Ok(categories) => page(
            &agent,
            &tr(lang, "ui.kb.new"),
            html! {
                div.kb { p { a href="/kb" { "← " (tr(lang, "ui.kb.title")) } } h1 { (tr(lang, "ui.kb.new")) } (editor(lang, "/kb/new", None, &categories)) }
            },
        ),
        Err(e) => fail(&agent, e),
    }
}

pub async fn create(State(state): State<AppState>, agent: Agent, PageForm(form): PageForm<EditorForm>) -> Response {
    if !may_edit(&agent) {
        return fail(&agent, ApiError::new(StatusCode::FORBIDDEN, "forbidden", "error.forbidden"));
    }
    let p = &agent.session.principal;
    let result = async {
        let input = input_of(&form)?;
        Ok::<_, ApiError>(state.store.create_article(&p.workspace_id, input, Some(&p.agent_id)).await?)
    };
    match result.await {
        Ok(a) => see_other(&format!("/kb/{}", a.id)),
        Err(e) => fail(&agent, e),
    }
}

pub async fn update(State(state): State<AppState>, agent: Agent, Path(id): Path<String>, PageForm(form): PageForm<EditorForm>) -> Response {
    if !may_edit(&agent) {
        return fail(&agent, ApiError::new(StatusCode::FORBIDDEN, "forbidden", "error.forbidden"));
    }
    let p = &agent.session.principal;
    let result = async {
        let id = ArticleId::parse(&id).map_err(|_| ApiError::not_found())?;
        let input = input_of(&form)?;
        Ok::<_, ApiError>(state.store.update_article(&p.workspace_id, &id, input, Some(&p.agent_id)).await?)
    };
    match result.await {
        Ok(a) => see_other(&format!("/kb/{}", a.id)),
        Err(e) => fail(&agent, e),
    }
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    locale: String,
    kind: String,
}

pub async fn confirm(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<String>,
    PageForm(form): PageForm<ConfirmForm>,
) -> Response {
    if !may_edit(&agent) {
        return fail(&agent, ApiError::new(StatusCode::FORBIDDEN, "forbidden", "error.forbidden"));
    }
    let p = &agent.session.principal;
    let result = async {
        let id = ArticleId::parse(&id).map_err(|_| ApiError::not_found())?;
        let locale = form.locale.parse::<Language>().map_err(|_| ApiError::bad_field("locale", "must be ru, pl or en"))?;
        let kind = form.kind.parse::<VariantKind>().map_err(|_| ApiError::bad_field("kind", "must be web, short, spoken or agent"))?;
        Ok::<_, ApiError>(state.store.confirm_variant(&p.workspace_id, &id, locale, kind, Some(&p.agent_id)).await?)
    };
    match result.await {
        Ok(a) => see_other(&format!("/kb/{}", a.id)),
        Err(e) => fail(&agent, e),
    }
}

// ------------------------------------------------------------------ versions

/// `/kb/{id}/versions`: every version, newest first, each with what changed from the one before
/// (a line diff of every variant's title and body).
pub async fn versions(State(state): State<AppState>, agent: Agent, Path(id): Path<String>) -> Response {
    let lang = agent.lang();
    let ws = agent.session.principal.workspace_id.clone();
    let result = async {
        let id = ArticleId::parse(&id).map_err(|_| ApiError::not_found())?;
        let a = state.store.article(&ws, &id).await?;
        let versions = state.store.article_versions(&ws, &id).await?;
        Ok::<_, ApiError>((
            title(&a, lang),
            html! {
                div.kb {
                    p { a href=(format!("/kb/{}", a.id)) { "← " (title(&a, lang)) } }
                    h1 { (tr(lang, "ui.kb.versions")) }
                    ol.kb-versions {
                        @for (i, v) in versions.iter().enumerate() {
                            li {
                                h2 {
                                    (tr(lang, "ui.kb.version")) " " (v.version) " · " (v.change) " · "
                                    (v.author_name.clone().unwrap_or_else(|| "Switchboard".into())) " · " (when(v.created_at))
                                }
                                (diff(lang, versions.get(i + 1), v))
                            }
                        }
                    }
                }
            },
        ))
    };
    match result.await {
        Ok((title, body)) => page(&agent, &title, body),
        Err(e) => fail(&agent, e),
    }
}

/// What `after` changed from `before` (`None`: the first version, all of it new).
fn diff(lang: Lang, before: Option<&ArticleVersion>, after: &ArticleVersion) -> Markup {
    let text = |v: Option<&kb::Variant>| v.map(|v| format!("# {}\n{}", v.title, v.body)).unwrap_or_default();
    let mut keys: Vec<(Language, VariantKind)> = after.variants.iter().map(|v| (v.locale, v.kind)).collect();
    if let Some(b) = before {
        keys.extend(b.variants.iter().map(|v| (v.locale, v.kind)));
    }
    keys.sort();
    keys.dedup();
    html! {
        @if let Some(b) = before {
            @if b.status != after.status { p { (tr(lang, "ui.status")) ": " (b.status.as_str()) " → " (after.status.as_str()) } }
            @if b.review_by != after.review_by {
                p { (tr(lang, "ui.kb.review_by")) ": " (b.review_by.map(kb::format_date).unwrap_or_default()) " → " (after.review_by.map(kb::format_date).unwrap_or_default()) }
            }
        }
        @for (l, k) in keys {
            @let old = text(before.and_then(|b| b.variants.iter().find(|v| v.locale == l && v.kind == k)));
            @let new = text(after.variants.iter().find(|v| v.locale == l && v.kind == k));
            @if old != new {
                h3 { (l) " · " (tr(lang, &format!("ui.kb.kind.{}", k.as_str()))) }
                pre.kb-diff {
                    @for change in similar::TextDiff::from_lines(&old, &new).iter_all_changes() {
                        @match change.tag() {
                            similar::ChangeTag::Delete => del { "- " (change.value()) },
                            similar::ChangeTag::Insert => ins { "+ " (change.value()) },
                            similar::ChangeTag::Equal => span { "  " (change.value()) },
                        }
                    }
                }
            }
        }
    }
}
