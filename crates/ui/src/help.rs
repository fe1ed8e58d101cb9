//! The public help center at `/help/{workspace}/{locale}/`: categories, articles, search and a
//! language switch, rendered on the server with no script, cacheable (ETag, `Cache-Control`),
//! with the SEO basics (title and description, canonical and `hreflang` links, `sitemap.xml`).
//! It shows exactly what `kb::serve` allows for the help center: published, not stale, not
//! outdated `web` variants; drafts and everything else are "not found".

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde::Deserialize;
use std::hash::{Hash, Hasher};
use switchboard_domain::kb::{self, Surface, VariantKind};
use switchboard_domain::*;
use switchboard_i18n::{Lang, t};
use switchboard_store::*;
use switchboard_web::AppState;
use switchboard_web::extract::AcceptLang;
use switchboard_web::kb::today;

const HELP_CSS: &str = include_str!("../assets/help.css");

/// How long browsers and proxies may keep a page before asking again (with its ETag).
const MAX_AGE_SECONDS: u32 = 60;

fn lang_of(locale: Language) -> Lang {
    match locale {
        Language::Ru => Lang::Ru,
        Language::Pl => Lang::Pl,
        Language::En => Lang::En,
    }
}

fn tr(locale: Language, key: &str) -> String {
    t(lang_of(locale), key, &[])
}

/// What every page of one workspace's help center needs.
struct Center {
    workspace: Workspace,
    locale: Language,
    base: String,
    /// The widget's colour, if the workspace has a widget with one.
    color: Option<String>,
    /// Where a customer who found no answer goes: an email address, a site with the chat.
    email: Option<String>,
    chat: Option<String>,
}

impl Center {
    fn home(&self, locale: Language) -> String {
        format!("{}/help/{}/{}/", self.base, self.workspace.slug, locale)
    }
    fn article_url(&self, locale: Language, id: &ArticleId) -> String {
        format!("{}/help/{}/{}/articles/{}", self.base, self.workspace.slug, locale, id)
    }
    fn path(&self, rest: &str) -> String {
        format!("/help/{}/{}/{}", self.workspace.slug, self.locale, rest)
    }
}

pub enum Problem {
    NotFound(Language),
    Failed(String),
}

impl From<StoreError> for Problem {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Problem::NotFound(Language::En),
            other => Problem::Failed(other.to_string()),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        match self {
            Problem::NotFound(locale) => {
                let body = html! {
                    (DOCTYPE)
                    html lang=(locale.code()) {
                        head { meta charset="utf-8"; meta name="viewport" content="width=device-width, initial-scale=1";
                               meta name="robots" content="noindex"; title { (tr(locale, "help.not_found")) } }
                        body { main.help { h1 { (tr(locale, "help.not_found")) } } }
                    }
                };
                let mut r = (StatusCode::NOT_FOUND, axum::response::Html(body.into_string())).into_response();
                secure(r.headers_mut());
                r
            }
            Problem::Failed(e) => {
                tracing::error!(error = %e, "help center page failed");
                (StatusCode::SERVICE_UNAVAILABLE, "The help center is unavailable; try again shortly.").into_response()
            }
        }
    }
}

fn secure(headers: &mut HeaderMap) {
    let fixed = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'self'; img-src 'self' data: https:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

/// A 200 with an ETag of its body, or a 304 when the client has that one already.
fn cached(request: &HeaderMap, content_type: &'static str, body: String) -> Response {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut hasher);
    let etag = format!("\"{:016x}\"", hasher.finish());
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim().trim_start_matches("W/") == etag));
    let mut response =
        if fresh { StatusCode::NOT_MODIFIED.into_response() } else { ([(header::CONTENT_TYPE, content_type)], body).into_response() };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    if let Ok(value) = HeaderValue::from_str(&format!("public, max-age={MAX_AGE_SECONDS}")) {
        headers.insert(header::CACHE_CONTROL, value);
    }
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    secure(headers);
    response
}

fn locale_of(raw: &str) -> Result<Language, Problem> {
    Language::ALL.into_iter().find(|l| l.code() == raw).ok_or(Problem::NotFound(Language::En))
}

async fn center(state: &AppState, slug: &str, locale: Language) -> Result<Center, Problem> {
    let workspace = state.store.workspace_by_slug(slug).await.map_err(|e| match e {
        StoreError::NotFound => Problem::NotFound(locale),
        other => other.into(),
    })?;
    let channels = state.store.list_channels(&workspace.id).await?;
    let widget = channels.iter().find(|c| c.kind == ChannelKind::Widget);
    let color = widget
        .and_then(|w| w.config.get("color").and_then(|c| c.as_str()))
        .filter(|c| c.len() == 7 && c.starts_with('#') && c[1..].bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned);
    let chat = widget
        .and_then(|w| w.config.get("allowed_origins").and_then(|o| o.as_array()).and_then(|o| o.first()).and_then(|o| o.as_str()))
        .filter(|o| o.starts_with("https://") || o.starts_with("http://"))
        .map(str::to_owned);
    let email = channels
        .iter()
        .filter(|c| c.kind == ChannelKind::Email)
        .find_map(|c| c.config.get("address").and_then(|a| a.as_str()).filter(|a| a.contains('@')).map(str::to_owned));
    Ok(Center { workspace, locale, base: state.public_url.trim_end_matches('/').to_owned(), color, email, chat })
}

/// The articles a help center in `locale` shows, with their `web` variant, newest first.
async fn shown(state: &AppState, c: &Center) -> Result<Vec<(Article, kb::Variant)>, Problem> {
    let today = today();
    Ok(state
        .store
        .list_articles(&c.workspace.id)
        .await?
        .into_iter()
        .filter_map(|a| {
            let v = kb::serve(&a.state, c.locale, Surface::HelpCenter, today).ok()?.clone();
            Some((a, v))
        })
        .collect())
}

/// The locales in which `article` can be shown in the help center.
fn shown_locales(article: &Article) -> Vec<Language> {
    let today = today();
    Language::ALL.into_iter().filter(|l| kb::serve(&article.state, *l, Surface::HelpCenter, today).is_ok()).collect()
}

fn layout(c: &Center, title: &str, description: &str, canonical: &str, alternates: &[(Language, String)], body: Markup) -> Markup {
    let l = c.locale;
    html! {
        (DOCTYPE)
        html lang=(l.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                meta name="description" content=(description);
                link rel="canonical" href=(canonical);
                @for (locale, href) in alternates {
                    link rel="alternate" hreflang=(locale.code()) href=(href);
                }
                link rel="stylesheet" href=(format!("/help/{}/help.css", c.workspace.slug));
            }
            body {
                a.skip href="#main" { (tr(l, "help.skip")) }
                header.hc-top {
                    a.hc-brand href=(c.path("")) { (c.workspace.name) " · " (tr(l, "help.title")) }
                    nav aria-label=(tr(l, "help.languages")) {
                        ul.hc-langs {
                            @for locale in Language::ALL {
                                @let href = alternates.iter().find(|(x, _)| *x == locale).map(|(_, h)| h.clone());
                                @if let Some(href) = href {
                                    li { a href=(href) hreflang=(locale.code()) lang=(locale.code()) aria-current=[(locale == l).then_some("page")] { (language_name(locale)) } }
                                }
                            }
                        }
                    }
                    form.hc-search role="search" method="get" action=(c.path("search")) {
                        label for="hc-q" { (tr(l, "help.search")) }
                        input #hc-q type="search" name="q" maxlength="200";
                        button type="submit" { (tr(l, "help.search_button")) }
                    }
                }
                main.help #main { (body) }
                footer.hc-foot {
                    h2 { (tr(l, "help.still_need_help")) }
                    @if let Some(chat) = &c.chat { p { a href=(chat) rel="noopener" { (tr(l, "help.chat_with_us")) } } }
                    @if let Some(email) = &c.email { p { (tr(l, "help.write_to_us")) " " a href=(format!("mailto:{email}")) { (email) } } }
                    @if c.chat.is_none() && c.email.is_none() { p { (tr(l, "help.no_contact")) } }
                }
            }
        }
    }
}

fn language_name(l: Language) -> &'static str {
    match l {
        Language::Ru => "Русский",
        Language::Pl => "Polski",
        Language::En => "English",
    }
}

/// `/help/{workspace}/`: to the reader's language.
pub async fn root(State(state): State<AppState>, Path(slug): Path<String>, AcceptLang(lang): AcceptLang) -> Response {
    let locale = match lang {
        Lang::Ru => Language::Ru,
        Lang::Pl => Language::Pl,
        Lang::En => Language::En,
    };
    match state.store.workspace_by_slug(&slug).await {
        Ok(w) => Redirect::to(&format!("/help/{}/{}/", w.slug, locale)).into_response(),
        Err(StoreError::NotFound) => Problem::NotFound(locale).into_response(),
        Err(e) => Problem::from(e).into_response(),
    }
}

/// `/help/{workspace}/{locale}` without its slash: to the page with it.
pub async fn to_home(Path((slug, locale)): Path<(String, String)>) -> Result<Response, Problem> {
    let locale = locale_of(&locale)?;
    Ok(Redirect::permanent(&format!("/help/{}/{locale}/", crate::page::url_encode(&slug))).into_response())
}

/// `/help/{workspace}/{locale}/`: every category with its articles.
pub async fn home(
    State(state): State<AppState>,
    Path((slug, locale)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let locale = locale_of(&locale)?;
    let c = center(&state, &slug, locale).await?;
    let articles = shown(&state, &c).await?;
    let categories = state.store.list_categories(&c.workspace.id).await?;
    let in_category = |id: Option<&KbCategoryId>| -> Vec<&(Article, kb::Variant)> {
        let mut list: Vec<_> = articles.iter().filter(|(a, _)| a.category_id.as_ref() == id).collect();
        list.sort_by_key(|x| x.1.title.to_lowercase());
        list
    };
    let title = format!("{} · {}", tr(locale, "help.title"), c.workspace.name);
    let description = t(lang_of(locale), "help.description", &[("workspace", c.workspace.name.as_str())]);
    let alternates: Vec<(Language, String)> = Language::ALL.into_iter().map(|l| (l, c.home(l))).collect();
    let uncategorised = in_category(None);
    let body = html! {
        h1 { (tr(locale, "help.title")) }
        @if articles.is_empty() { p { (tr(locale, "help.empty")) } }
        @for category in &categories {
            @let list = in_category(Some(&category.id));
            @if !list.is_empty() {
                section.hc-category {
                    h2 { (category.names.get(&locale).or_else(|| category.names.values().next()).cloned().unwrap_or_default()) }
                    ul { @for (a, v) in list { li { a href=(c.path(&format!("articles/{}", a.id))) { (v.title) } } } }
                }
            }
        }
        @if !uncategorised.is_empty() {
            section.hc-category {
                @if !categories.is_empty() { h2 { (tr(locale, "help.other_articles")) } }
                ul { @for (a, v) in uncategorised { li { a href=(c.path(&format!("articles/{}", a.id))) { (v.title) } } } }
            }
        }
    };
    let page = layout(&c, &title, &description, &c.home(locale), &alternates, body);
    Ok(cached(&headers, "text/html; charset=utf-8", page.into_string()))
}

/// `/help/{workspace}/{locale}/articles/{id}`: one article; "not found" unless it may be shown.
pub async fn article(
    State(state): State<AppState>,
    Path((slug, locale, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let locale = locale_of(&locale)?;
    let id = ArticleId::parse(&id).map_err(|_| Problem::NotFound(locale))?;
    let c = center(&state, &slug, locale).await?;
    let a = state.store.article(&c.workspace.id, &id).await.map_err(|e| match e {
        StoreError::NotFound => Problem::NotFound(locale),
        other => other.into(),
    })?;
    let variant = kb::serve(&a.state, locale, Surface::HelpCenter, today()).map_err(|_| Problem::NotFound(locale))?.clone();
    let alternates: Vec<(Language, String)> = shown_locales(&a).into_iter().map(|l| (l, c.article_url(l, &a.id))).collect();
    let plain = switchboard_web::markdown::to_plain(&variant.body);
    let description: String = plain.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(160).collect();
    let category = match &a.category_id {
        Some(id) => state.store.list_categories(&c.workspace.id).await?.into_iter().find(|x| &x.id == id),
        None => None,
    };
    let updated = switchboard_web::dto::time(a.updated_at);
    let body = html! {
        nav aria-label=(tr(locale, "help.breadcrumbs")) {
            ol.hc-crumbs {
                li { a href=(c.path("")) { (tr(locale, "help.title")) } }
                @if let Some(cat) = &category { li { (cat.names.get(&locale).cloned().unwrap_or_default()) } }
            }
        }
        article.hc-article {
            h1 { (variant.title) }
            div.hc-body { (PreEscaped(switchboard_web::markdown::to_html(&variant.body))) }
            p.hc-meta { (tr(locale, "help.updated")) " " time datetime=(updated) { (updated.get(..10).unwrap_or(&updated)) } }
        }
    };
    let title = format!("{} · {}", variant.title, c.workspace.name);
    let page = layout(&c, &title, &description, &c.article_url(locale, &a.id), &alternates, body);
    Ok(cached(&headers, "text/html; charset=utf-8", page.into_string()))
}

#[derive(Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
}

/// `/help/{workspace}/{locale}/search?q=`: articles of this locale by their words in any form.
pub async fn search(
    State(state): State<AppState>,
    Path((slug, locale)): Path<(String, String)>,
    query: Result<Query<SearchQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let locale = locale_of(&locale)?;
    let c = center(&state, &slug, locale).await?;
    let q: String = query.ok().and_then(|Query(q)| q.q).unwrap_or_default().trim().chars().take(200).collect();
    let mut found: Vec<(Article, kb::Variant, String)> = Vec::new();
    if !q.is_empty() {
        let hits = switchboard_web::kb::run_search(
            &state,
            &c.workspace.id,
            &q,
            vec![switchboard_search::DocKind::Article],
            Some(locale),
            vec![VariantKind::Web.as_str().to_owned(), "questions".to_owned()],
            30,
        )
        .await
        .map_err(|e| Problem::Failed(e.message()))?;
        let ids: Vec<ArticleId> = hits.iter().filter_map(|h| ArticleId::parse(&h.target_id).ok()).collect();
        let articles = state.store.articles_by_id(&c.workspace.id, &ids).await?;
        let today = today();
        for hit in &hits {
            let Some(a) = articles.iter().find(|a| a.id.as_str() == hit.target_id) else { continue };
            if found.iter().any(|(f, _, _)| f.id == a.id) {
                continue;
            }
            if let Ok(v) = kb::serve(&a.state, locale, Surface::HelpCenter, today) {
                // A hit on the ways of asking shows the article's own opening as its snippet.
                let snippet = if hit.variant == "web" { hit.snippet.clone() } else { String::new() };
                let snippet =
                    if snippet.is_empty() { switchboard_web::markdown::to_plain(&v.body).chars().take(200).collect() } else { snippet };
                found.push((a.clone(), v.clone(), snippet));
            }
        }
    }
    let title = format!("{} · {}", tr(locale, "help.search_results"), c.workspace.name);
    let alternates: Vec<(Language, String)> = Language::ALL
        .into_iter()
        .map(|l| (l, format!("{}/help/{}/{}/search?q={}", c.base, c.workspace.slug, l, crate::page::url_encode(&q))))
        .collect();
    let body = html! {
        h1 { (tr(locale, "help.search_results")) }
        @if !q.is_empty() {
            p { (t(lang_of(locale), "help.results_for", &[("count", &found.len().to_string()), ("q", q.as_str())])) }
        }
        @if found.is_empty() && !q.is_empty() { p { (tr(locale, "help.no_results")) } }
        ol.hc-results {
            @for (a, v, snippet) in &found {
                li { a href=(c.path(&format!("articles/{}", a.id))) { (v.title) } p { (snippet) } }
            }
        }
    };
    let canonical = format!("{}/help/{}/{}/search", c.base, c.workspace.slug, locale);
    let mut page = layout(&c, &title, &title, &canonical, &alternates, body).into_string();
    // Search result pages are not for indexing.
    page = page.replacen("<head>", "<head><meta name=\"robots\" content=\"noindex\">", 1);
    Ok(cached(&headers, "text/html; charset=utf-8", page))
}

/// `/help/{workspace}/sitemap.xml`: every page a search engine may index, with its other languages.
pub async fn sitemap(State(state): State<AppState>, Path(slug): Path<String>, headers: HeaderMap) -> Result<Response, Problem> {
    let c = center(&state, &slug, Language::En).await?;
    let articles = state.store.list_articles(&c.workspace.id).await?;
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" xmlns:xhtml=\"http://www.w3.org/1999/xhtml\">\n",
    );
    let entry = |xml: &mut String, loc: &str, alternates: &[(Language, String)], lastmod: Option<&str>| {
        xml.push_str(&format!("<url><loc>{}</loc>", escape(loc)));
        if let Some(m) = lastmod {
            xml.push_str(&format!("<lastmod>{m}</lastmod>"));
        }
        for (l, href) in alternates {
            xml.push_str(&format!("<xhtml:link rel=\"alternate\" hreflang=\"{}\" href=\"{}\"/>", l.code(), escape(href)));
        }
        xml.push_str("</url>\n");
    };
    let homes: Vec<(Language, String)> = Language::ALL.into_iter().map(|l| (l, c.home(l))).collect();
    for (_, href) in &homes {
        entry(&mut xml, href, &homes, None);
    }
    for a in &articles {
        let locales = shown_locales(a);
        let alternates: Vec<(Language, String)> = locales.iter().map(|l| (*l, c.article_url(*l, &a.id))).collect();
        let updated = switchboard_web::dto::time(a.updated_at);
        for (_, href) in &alternates {
            entry(&mut xml, href, &alternates, updated.get(..10));
        }
    }
    xml.push_str("</urlset>\n");
    Ok(cached(&headers, "application/xml; charset=utf-8", xml))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// `/help/{workspace}/help.css`: the help center's styles in the workspace's colour.
pub async fn stylesheet(State(state): State<AppState>, Path(slug): Path<String>, headers: HeaderMap) -> Result<Response, Problem> {
    let c = center(&state, &slug, Language::En).await?;
    let accent = c.color.unwrap_or_else(|| "#0b57d0".to_owned());
    Ok(cached(&headers, "text/css; charset=utf-8", format!(":root {{ --accent: {accent}; }}\n{HELP_CSS}")))
}
