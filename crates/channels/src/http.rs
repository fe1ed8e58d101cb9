//! The HTTP client every driver reaches its provider with, and what they share in using it:
//! the outbound rule (`crate::outbound`) on every connection, redirects only within a host,
//! and errors that carry a short status line, never a remote body.

use crate::SendError;
use crate::outbound::{self, OutboundPolicy};
use std::sync::Arc;
use std::time::Duration;

/// How long connecting to a provider may take before the attempt counts as failed.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one request may take in all, upload and answer included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How many redirects within one host a request follows.
pub const MAX_REDIRECTS: usize = 3;
/// The longest piece of a provider's own words (its documented error description) that an
/// error message keeps, in characters.
pub const MAX_REMOTE_TEXT: usize = 160;

/// A client with the connect and total timeouts above under the default outbound rule
/// (private networks allowed): a provider that accepts and never answers costs one attempt
/// after `REQUEST_TIMEOUT`, never a stuck worker.
pub fn client() -> reqwest::Client {
    client_for(OutboundPolicy::default())
}

/// `client()` under the operator's outbound rule.
pub fn client_for(policy: OutboundPolicy) -> reqwest::Client {
    client_with(policy, CONNECT_TIMEOUT, REQUEST_TIMEOUT)
}

/// A client with other timeouts (tests, the connection check). Every connection it makes is
/// checked against `policy`: names by the addresses they resolve to, IP literals before any
/// connection (see `outbound::refused_literal_proxy`). A redirect is followed only within the
/// host first asked, at most `MAX_REDIRECTS` times; one to another host is not followed and
/// the caller sees the 3xx answer. Proxy settings from the environment are not used: a proxy
/// would connect wherever it is told, out of reach of the rule.
///
/// Panics only when no TLS client can be set up at all (the roots are compiled in), which is
/// a broken build; a silent fallback would be a client without the rule.
pub fn client_with(policy: OutboundPolicy, connect: Duration, total: Duration) -> reqwest::Client {
    #[allow(clippy::expect_used)]
    checked_builder(policy, connect, total).redirect(same_host_redirects()).build().expect("the HTTP client can be built")
}

/// A client builder whose every connection is checked against `policy` (see `client_with`).
fn checked_builder(policy: OutboundPolicy, connect: Duration, total: Duration) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .connect_timeout(connect)
        .timeout(total)
        .dns_resolver(Arc::new(outbound::Resolver { policy }))
        .proxy(reqwest::Proxy::custom(move |url| outbound::refused_literal_proxy(policy, url)))
}

/// How long connecting to a webhook endpoint may take.
pub const WEBHOOK_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one webhook attempt may take in all: Standard Webhooks recommends 15 to 30 s, so
/// that a receiver has time to acknowledge; longer only ties up the sender.
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(20);

/// The client outgoing webhooks are posted with: under `policy` like every other request, but
/// following no redirect at all (a 3xx answer is a failed attempt, as Standard Webhooks says:
/// the endpoint's URL is to be updated instead).
///
/// Panics only when no TLS client can be set up at all, as `client_with`.
pub fn webhook_client(policy: OutboundPolicy) -> reqwest::Client {
    #[allow(clippy::expect_used)]
    checked_builder(policy, WEBHOOK_CONNECT_TIMEOUT, WEBHOOK_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("the HTTP client can be built")
}

fn same_host_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let first = attempt.previous().first().and_then(|u| u.host_str()).map(str::to_ascii_lowercase);
        let next = attempt.url().host_str().map(str::to_ascii_lowercase);
        if first != next {
            attempt.stop()
        } else if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
        } else {
            attempt.follow()
        }
    })
}

/// A request that got no answer from `who` ("Telegram", a CRM's URL): a refusal by the
/// outbound rule fails for good with its reason ("destination not allowed: link-local
/// address"); anything else (no connection, a timeout) may pass and is retried.
pub fn unreachable(who: &str, error: reqwest::Error) -> SendError {
    match outbound::refusal(&error) {
        Some(refused) => SendError::permanent(refused.to_string()),
        None => SendError::retryable(format!("cannot reach {who}: {}", describe(&error))),
    }
}

/// What went wrong with a request, in a few words and without its URL (which may carry a
/// token, as Telegram's do): the error's own words and, where they say little, its cause's.
pub fn describe(error: &reqwest::Error) -> String {
    if let Some(refused) = outbound::refusal(error) {
        return refused.to_string();
    }
    if error.is_timeout() {
        return "no answer in time".to_owned();
    }
    if error.is_connect() {
        return "cannot connect".to_owned();
    }
    let text = error.to_string();
    let text = match error.url() {
        Some(url) => text.replace(&format!(" ({url})"), "").replace(url.as_str(), ""),
        None => text,
    };
    short(&text)
}

/// A remote party's words as an error message may keep them: the first line, without control
/// characters, at most `MAX_REMOTE_TEXT` characters. Providers' documented error descriptions
/// go through this; their bodies as such never reach a stored field, where other roles than
/// the admin who configured the channel read them.
pub fn short(text: &str) -> String {
    let line = text.trim().lines().next().unwrap_or("").trim();
    let clean: String = line.chars().filter(|c| !c.is_control()).collect();
    let mut out: String = clean.chars().take(MAX_REMOTE_TEXT).collect();
    if clean.chars().count() > MAX_REMOTE_TEXT {
        out.push('…');
    }
    out
}

/// `": words"` for a provider's words when it gave any (cut by `short`), else nothing: the
/// tail of a message like "Telegram answered 400 to sendMessage", never ending in ": ".
pub fn said(text: &str) -> String {
    let words = short(text);
    if words.is_empty() { String::new() } else { format!(": {words}") }
}

/// The hosts a provider keeps customers' files on: a file link in a webhook (VK's photo URLs,
/// Viber's media) is fetched only from there, so that a forged or odd link cannot make the
/// server fetch from anywhere else.
#[derive(Debug, Clone, Copy)]
pub struct FileHosts<'a> {
    /// The provider's name, for messages ("VK").
    pub provider: &'a str,
    /// Domains whose hosts serve the files: the domain itself and every name under it.
    pub domains: &'a [&'a str],
    /// The channel's `api_base_url` when it overrides the provider's API (a test double, a
    /// proxy of the provider's): its host is the provider's too.
    pub api_base_url: Option<&'a str>,
}

impl FileHosts<'_> {
    /// Whether `url` is on one of the provider's hosts (over https, or any scheme on the host of
    /// the overriding `api_base_url`).
    pub fn allows(&self, url: &reqwest::Url) -> bool {
        let Some(host) = url.host_str().map(str::to_ascii_lowercase) else { return false };
        let overridden = self
            .api_base_url
            .and_then(|base| reqwest::Url::parse(base).ok())
            .and_then(|base| base.host_str().map(str::to_ascii_lowercase))
            .is_some_and(|base| base == host);
        overridden
            || (url.scheme() == "https"
                && self.domains.iter().any(|d| host == *d || host.strip_suffix(d).is_some_and(|h| h.ends_with('.'))))
    }

    fn refuse(&self, url: &reqwest::Url) -> SendError {
        SendError::permanent(format!(
            "the file's link points at {}, not at {}'s file hosts: kept as a link, not fetched",
            url.host_str().unwrap_or("no host"),
            self.provider
        ))
    }
}

/// A file at a provider's link, at most `max` bytes, from the provider's own hosts only
/// (`hosts`). `auth` (user, password) goes with the first request only, and with later ones
/// to the same host: a provider's redirect to its CDN (Twilio's media) gets no credentials.
pub async fn download(
    client: &reqwest::Client,
    url: &str,
    max: usize,
    hosts: &FileHosts<'_>,
    auth: Option<(&str, &str)>,
) -> Result<Vec<u8>, SendError> {
    let first = reqwest::Url::parse(url).map_err(|_| SendError::permanent("the file's link is not a URL"))?;
    let mut current = first.clone();
    let mut response = None;
    for _ in 0..=MAX_REDIRECTS {
        if !hosts.allows(&current) {
            return Err(hosts.refuse(&current));
        }
        let mut request = client.get(current.clone());
        if let Some((user, password)) = auth
            && current.host_str() == first.host_str()
        {
            request = request.basic_auth(user, Some(password));
        }
        let answer = request.send().await.map_err(|e| unreachable("the file's host", e))?;
        // The client follows redirects within a host; one to another host ends here, and is
        // followed only to another of the provider's hosts.
        let next = answer
            .status()
            .is_redirection()
            .then(|| answer.headers().get(reqwest::header::LOCATION).and_then(|l| l.to_str().ok()).and_then(|l| current.join(l).ok()))
            .flatten();
        match next {
            Some(next) => current = next,
            None => {
                response = Some(answer);
                break;
            }
        }
    }
    let mut response = response.ok_or_else(|| SendError::permanent(format!("more than {MAX_REDIRECTS} redirects")))?;
    let status = response.status();
    if !status.is_success() {
        return Err(SendError {
            message: format!("the file's host answered {status}"),
            retryable: status.as_u16() == 429 || status.is_server_error(),
            retry_after: None,
        });
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| unreachable("the file's host", e))? {
        if bytes.len() + chunk.len() > max {
            return Err(SendError::permanent(format!("the file is over {max} bytes")));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_words_are_cut_to_one_short_line() {
        assert_eq!(short("  Bad Request: chat not found \n<html>secret</html>"), "Bad Request: chat not found");
        let long = "x".repeat(1000);
        assert_eq!(short(&long).chars().count(), MAX_REMOTE_TEXT + 1);
        assert_eq!(short("a\u{1b}[31mb\u{7}"), "a[31mb");
    }

    #[test]
    fn files_come_only_from_the_providers_hosts() {
        let vk = FileHosts { provider: "VK", domains: &["userapi.com", "vk.com"], api_base_url: None };
        let url = |u: &str| reqwest::Url::parse(u).expect("url");
        assert!(vk.allows(&url("https://sun9-12.userapi.com/impg/z.jpg")));
        assert!(vk.allows(&url("https://vk.com/doc1_2")));
        assert!(vk.allows(&url("https://VK.com/doc1_2")));
        for foreign in [
            "https://evil.example/z.jpg",
            "https://notuserapi.com/z.jpg",
            "https://userapi.com.evil.example/z.jpg",
            "http://sun9-12.userapi.com/z.jpg",
            "https://169.254.169.254/latest",
        ] {
            assert!(!vk.allows(&url(foreign)), "{foreign}");
        }
        let test = FileHosts { api_base_url: Some("http://127.0.0.1:4000/method"), ..vk };
        assert!(test.allows(&url("http://127.0.0.1:5000/files/z.jpg")));
        assert!(!test.allows(&url("http://127.0.0.2/files/z.jpg")));
    }

    /// A server on loopback: `/` answers "hello", `/away` redirects to `other`, `/here`
    /// redirects to `/`; how many requests it got.
    async fn server(other: String) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let hits = std::sync::Arc::new(AtomicUsize::new(0));
        let counted = hits.clone();
        let app = axum::Router::new()
            .route("/", axum::routing::get(|| async { "hello" }))
            .route("/away", axum::routing::get(move || async move { axum::response::Redirect::temporary(&other) }))
            .route("/here", axum::routing::get(|| async { axum::response::Redirect::temporary("/") }))
            .layer(axum::middleware::from_fn(move |req: axum::extract::Request, next: axum::middleware::Next| {
                counted.fetch_add(1, Ordering::SeqCst);
                next.run(req)
            }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (format!("127.0.0.1:{port}"), hits)
    }

    #[tokio::test]
    async fn refused_destinations_are_never_connected_to() {
        use std::sync::atomic::Ordering;
        let (addr, hits) = server("http://example.invalid/".into()).await;
        let port = addr.rsplit(':').next().expect("port");
        let open = client_with(OutboundPolicy::default(), Duration::from_secs(2), Duration::from_secs(5));
        let closed = client_with(OutboundPolicy { allow_private_networks: false }, Duration::from_secs(2), Duration::from_secs(5));
        assert_eq!(open.get(format!("http://{addr}/")).send().await.expect("allowed").text().await.expect("text"), "hello");
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        // Loopback by literal and by name, while private networks are closed: nothing reaches it.
        for url in [format!("http://{addr}/"), format!("http://localhost:{port}/"), format!("http://[::ffff:127.0.0.1]:{port}/")] {
            let e = closed.get(&url).send().await.expect_err("refused");
            let refused = unreachable("the CRM", e);
            assert_eq!((refused.message.as_str(), refused.retryable), ("destination not allowed: loopback address", false), "{url}");
        }
        assert_eq!(hits.load(Ordering::SeqCst), 1, "no request reached the server");
        // Metadata addresses, whatever the setting, in every spelling.
        for url in ["http://169.254.169.254/latest/meta-data/", "http://[::ffff:a9fe:a9fe]/", "http://[fd00:ec2::254]/", "http://0.0.0.0/"]
        {
            let e = open.get(url).send().await.expect_err("refused");
            assert!(unreachable("x", e).message.starts_with("destination not allowed: "), "{url}");
        }
    }

    #[tokio::test]
    async fn redirects_stay_on_their_host() {
        let (target, target_hits) = server(String::new()).await;
        // `localhost` is another host than 127.0.0.1, though the same machine.
        let port = target.rsplit(':').next().expect("port");
        let (addr, _) = server(format!("http://localhost:{port}/")).await;
        let client = client();
        let answer = client.get(format!("http://{addr}/away")).send().await.expect("answer");
        assert_eq!(answer.status(), 307, "the redirect to another host is not followed");
        assert_eq!(target_hits.load(std::sync::atomic::Ordering::SeqCst), 0);
        let answer = client.get(format!("http://{addr}/here")).send().await.expect("answer");
        assert_eq!((answer.status().as_u16(), answer.text().await.expect("text").as_str()), (200, "hello"), "same host: followed");
    }

    #[tokio::test]
    async fn a_download_refuses_a_foreign_host_and_a_redirect_to_one() {
        let (addr, hits) = server("https://evil.example/x".into()).await;
        let client = client();
        let base = format!("http://{addr}/method");
        let ours = FileHosts { provider: "VK", domains: &["userapi.com"], api_base_url: Some(&base) };
        assert_eq!(download(&client, &format!("http://{addr}/"), 100, &ours, None).await.expect("ours"), b"hello");
        let e = download(&client, &format!("http://{addr}/away"), 100, &ours, None).await.expect_err("redirected away");
        assert!(e.message.contains("evil.example") && !e.retryable, "{e:?}");
        let before = hits.load(std::sync::atomic::Ordering::SeqCst);
        let theirs = FileHosts { api_base_url: None, ..ours };
        let e = download(&client, &format!("http://{addr}/"), 100, &theirs, None).await.expect_err("not VK's");
        assert!(e.message.contains("not at VK's file hosts") && !e.retryable, "{e:?}");
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), before, "not fetched");
        let e = download(&client, &format!("http://{addr}/"), 3, &ours, None).await.expect_err("too large");
        assert!(e.message.contains("over 3 bytes"), "{e:?}");
    }
}
