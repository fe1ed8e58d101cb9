//! The parts of signing people in that do not depend on pages: argon2id password hashes, the
//! session cookie, throttling of attempts, argon2 work bounded in parallel, and the check that a state-changing request
//! made with a cookie comes from our own pages (Sec-Fetch-Site, else Origin).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::http::HeaderMap;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// How long a session lasts.
pub const SESSION_TTL_MS: i64 = 14 * 24 * 60 * 60 * 1000;
/// The cookie's name over TLS; browsers accept the `__Host-` prefix only with `Secure`.
pub const SECURE_COOKIE: &str = "__Host-sb_session";
/// The name over plain HTTP (a local evaluation), where `__Host-` would be refused.
pub const PLAIN_COOKIE: &str = "sb_session";

/// Shortest and longest password accepted (argon2 takes any length; the cap bounds the work).
pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Why a password cannot be used.
pub fn password_problem(password: &str) -> Option<&'static str> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        Some("must be at least 10 characters")
    } else if password.len() > MAX_PASSWORD_BYTES {
        Some("must be at most 1024 bytes")
    } else {
        None
    }
}

/// argon2id with the crate's defaults (19 MiB, 2 passes, 1 lane: OWASP's minimum) and a random
/// 16-byte salt, as a PHC string. Takes tens of milliseconds: call it off the async threads.
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt_bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| e.to_string())?;
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
}

/// Whether `password` matches the PHC string (a malformed hash matches nothing).
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
}

/// `Set-Cookie` for a new session: HttpOnly (no script reads it), SameSite=Lax (not sent on
/// cross-site POSTs), Path=/ and no Domain (this host only), Secure over TLS.
pub fn session_cookie(token: &str, secure: bool) -> String {
    let max_age = SESSION_TTL_MS / 1000;
    if secure {
        format!("{SECURE_COOKIE}={token}; Path=/; Max-Age={max_age}; HttpOnly; Secure; SameSite=Lax")
    } else {
        format!("{PLAIN_COOKIE}={token}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax")
    }
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_session_cookie(secure: bool) -> String {
    if secure {
        format!("{SECURE_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax")
    } else {
        format!("{PLAIN_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax")
    }
}

/// The session token a request carries, under either name.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    headers.get_all(axum::http::header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == SECURE_COOKIE || name == PLAIN_COOKIE).then(|| value.to_owned()).filter(|v| !v.is_empty())
    })
}

/// Whether a state-changing request made with the session cookie comes from our own pages.
/// Browsers send `Sec-Fetch-Site`; older ones at least `Origin` on POST. A request with
/// neither is refused: a cookie-authenticated change must prove where it comes from.
pub fn from_our_pages(headers: &HeaderMap, public_origin: &str) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return site == "same-origin" || site == "none";
    }
    match headers.get(axum::http::header::ORIGIN).and_then(|v| v.to_str().ok()) {
        Some(origin) => origin.trim_end_matches('/').eq_ignore_ascii_case(public_origin.trim_end_matches('/')),
        None => false,
    }
}

/// Sign-in attempts are counted per account (the email) and per client address *before* the
/// password is checked, so that a burst of concurrent guesses cannot all be tried: an attempt
/// takes its slot under one lock, and only an attempt that got one reaches argon2.
///
/// The rule (OWASP Authentication Cheat Sheet, "Account lockout"; the per-address part is how
/// GitHub and Zendesk keep an office behind one NAT usable):
/// - an account takes at most `account_limit` attempts (default 5) in `window` (15 minutes)
///   counted from its first; a correct password forgets them;
/// - an address takes at most `address_limit` attempts (default 50, ten accounts' worth); a
///   correct password gives its own slot back. From an address past its limit only an account
///   with no attempts in its window is still tried: a colleague's correct password gets in,
///   while a script spraying passwords from there gets one guess per account, not five.
///
/// Failures against account A never lock out account B's correct password: B's own count is
/// untouched, and one account's failures fill at most a tenth of the address allowance.
pub struct LoginThrottle {
    account_limit: u32,
    address_limit: u32,
    window: Duration,
    counts: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self::new(5, 50, Duration::from_secs(15 * 60))
    }
}

/// One sign-in attempt holding its slots. Dropped without [`Attempt::succeeded`] or
/// [`Attempt::not_tried`] it stays counted as a failure (a cancelled request was a guess too).
pub struct Attempt {
    throttle: Arc<LoginThrottle>,
    account: String,
    address: Option<String>,
}

impl LoginThrottle {
    /// Keys kept at most; past it the oldest windows are dropped (an attacker spraying keys
    /// must not grow memory without bound).
    const CAPACITY: usize = 100_000;

    pub fn new(account_limit: u32, address_limit: u32, window: Duration) -> Self {
        Self { account_limit, address_limit, window, counts: Mutex::default() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u32, Instant)>> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes a slot for an attempt at `email` from `address` (none: an attempt with no client,
    /// such as the current password on the account page, counts for the account alone).
    /// `Err(seconds to wait)` when the attempt must not be tried.
    pub fn begin(self: &Arc<Self>, email: &str, address: Option<IpAddr>) -> Result<Attempt, u64> {
        let account = format!("email:{}", email.trim().to_lowercase());
        let address = address.map(|ip| format!("ip:{}", crate::client::address_key(ip)));
        let mut map = self.lock();
        if map.len() >= Self::CAPACITY {
            let window = self.window;
            map.retain(|_, (_, since)| since.elapsed() < window);
        }
        let window = self.window;
        let current = |map: &mut HashMap<String, (u32, Instant)>, key: &str| -> (u32, Duration) {
            match map.get(key) {
                Some((count, since)) if since.elapsed() < window => (*count, window - since.elapsed()),
                Some(_) => {
                    map.remove(key);
                    (0, Duration::ZERO)
                }
                None => (0, Duration::ZERO),
            }
        };
        let (tried, account_left) = current(&mut map, &account);
        if tried >= self.account_limit {
            return Err(account_left.as_secs().max(1));
        }
        if let Some(key) = &address {
            let (from_there, address_left) = current(&mut map, key);
            if from_there >= self.address_limit && tried > 0 {
                return Err(address_left.as_secs().max(1));
            }
        }
        for key in std::iter::once(&account).chain(address.as_ref()) {
            map.entry(key.clone()).or_insert((0, Instant::now())).0 += 1;
        }
        Ok(Attempt { throttle: self.clone(), account, address })
    }

    fn give_back(&self, key: &str) {
        let mut map = self.lock();
        if let Some((count, _)) = map.get_mut(key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                map.remove(key);
            }
        }
    }
}

impl Attempt {
    /// The password was right: the account's attempts are forgotten and the address gets its
    /// slot back.
    pub fn succeeded(self) {
        self.throttle.lock().remove(&self.account);
        if let Some(address) = &self.address {
            self.throttle.give_back(address);
        }
    }

    /// Nothing was checked (the server was too busy): both slots are given back.
    pub fn not_tried(self) {
        self.throttle.give_back(&self.account);
        if let Some(address) = &self.address {
            self.throttle.give_back(address);
        }
    }
}

/// Why a password could not be hashed or checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordError {
    /// More passwords are waiting for argon2 than the queue holds.
    Busy,
    Failed(String),
}

impl From<PasswordError> for crate::error::ApiError {
    fn from(e: PasswordError) -> Self {
        match e {
            PasswordError::Busy => {
                crate::error::ApiError::new(axum::http::StatusCode::SERVICE_UNAVAILABLE, "sign_in_busy", "error.sign_in_busy")
            }
            PasswordError::Failed(detail) => crate::error::ApiError::internal(detail),
        }
    }
}

/// argon2 work bounded in parallel: each hash or check holds 19 MiB for tens of milliseconds,
/// so at most `parallel` run at once (on the blocking pool, off the async threads) and at most
/// `queue` wait; past that a request is answered `Busy` at once instead of queueing without
/// bound. A burst of sign-ins thus takes at most `parallel` × 19 MiB.
pub struct PasswordWork {
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    queue: usize,
    runs: AtomicU64,
}

impl Default for PasswordWork {
    /// One run per core, at most 4 (76 MiB), and 32 waiting.
    fn default() -> Self {
        Self::new(std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4), 32)
    }
}

impl PasswordWork {
    pub fn new(parallel: usize, queue: usize) -> Self {
        Self { permits: Arc::new(Semaphore::new(parallel.max(1))), waiting: AtomicUsize::new(0), queue, runs: AtomicU64::new(0) }
    }

    /// How many hashes and checks have run: what a test counts argon2 work by.
    pub fn runs(&self) -> u64 {
        self.runs.load(Ordering::Relaxed)
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, PasswordError> {
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.queue {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(PasswordError::Busy);
        }
        // Counted as waiting until a permit is had, also when the request is dropped meanwhile.
        struct Waiting<'a>(&'a AtomicUsize);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::AcqRel);
            }
        }
        let waiting = Waiting(&self.waiting);
        let permit = self.permits.clone().acquire_owned().await.map_err(|e| PasswordError::Failed(e.to_string()))?;
        drop(waiting);
        self.runs.fetch_add(1, Ordering::Relaxed);
        // The permit goes with the work: a request dropped meanwhile still holds it until the
        // hash is done, so the bound holds for the blocking threads too.
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(|e| PasswordError::Failed(e.to_string()))
    }

    /// [`hash_password`] within the bound.
    pub async fn hash(&self, password: String) -> Result<String, PasswordError> {
        self.run(move || hash_password(&password)).await?.map_err(PasswordError::Failed)
    }

    /// [`verify_password`] within the bound. Without a hash (no such account) the password is
    /// hashed all the same, so that the time taken does not tell which emails have accounts.
    pub async fn verify(&self, password: String, phc: Option<String>) -> Result<bool, PasswordError> {
        self.run(move || match phc {
            Some(phc) => verify_password(&password, &phc),
            None => {
                let _ = hash_password(&password);
                false
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let hash = hash_password("correct horse battery").expect("hash");
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterY", &hash));
        assert!(!verify_password("anything", "not a hash"));
        assert_ne!(hash_password("correct horse battery").expect("hash"), hash, "salted");
        assert_eq!(password_problem("short"), Some("must be at least 10 characters"));
        assert_eq!(password_problem(&"x".repeat(2000)), Some("must be at most 1024 bytes"));
        assert_eq!(password_problem("długie hasło ąę"), None);
    }

    #[test]
    fn cookies_carry_the_right_flags() {
        let secure = session_cookie("abc", true);
        assert!(secure.starts_with("__Host-sb_session=abc; Path=/;"), "{secure}");
        for flag in ["HttpOnly", "Secure", "SameSite=Lax"] {
            assert!(secure.contains(flag), "{secure}");
        }
        assert!(!secure.contains("Domain"));
        let plain = session_cookie("abc", false);
        assert!(plain.starts_with("sb_session=abc;") && !plain.contains("Secure") && plain.contains("HttpOnly"), "{plain}");
        assert!(clear_session_cookie(true).contains("Max-Age=0"));
        let mut headers = HeaderMap::new();
        headers.insert(axum::http::header::COOKIE, "a=1; __Host-sb_session=tok; b=2".parse().expect("header"));
        assert_eq!(session_token(&headers).as_deref(), Some("tok"));
        assert_eq!(session_token(&HeaderMap::new()), None);
    }

    #[test]
    fn only_our_own_pages_may_change_state() {
        let with = |pairs: &[(&'static str, &str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(*k, v.parse().expect("value"));
            }
            h
        };
        let ours = "https://support.example.com";
        assert!(from_our_pages(&with(&[("sec-fetch-site", "same-origin")]), ours));
        assert!(!from_our_pages(&with(&[("sec-fetch-site", "cross-site"), ("origin", ours)]), ours));
        assert!(!from_our_pages(&with(&[("sec-fetch-site", "same-site")]), ours));
        assert!(from_our_pages(&with(&[("origin", "https://support.example.com")]), ours));
        assert!(!from_our_pages(&with(&[("origin", "https://evil.example")]), ours));
        assert!(!from_our_pages(&with(&[]), ours), "no proof of origin, no change");
    }

    fn addr(s: &str) -> Option<IpAddr> {
        Some(s.parse().expect("ip"))
    }

    #[test]
    fn attempts_are_counted_before_the_check_per_account() {
        let throttle = Arc::new(LoginThrottle::new(3, 100, Duration::from_secs(60)));
        // Three attempts in flight at once take the three slots; the fourth is refused before
        // any of them is settled.
        let held: Vec<Attempt> = (0..3).map(|_| throttle.begin("Anna@example.com", addr("203.0.113.7")).expect("slot")).collect();
        assert!(throttle.begin("anna@example.com", addr("198.51.100.1")).is_err_and(|wait| (1..=60).contains(&wait)));
        drop(held); // failures, as they stay counted
        assert!(throttle.begin("anna@example.com", None).is_err(), "still refused, from anywhere");
        let other = throttle.begin("jan@example.com", addr("203.0.113.7")).expect("another account is not affected");
        other.succeeded();

        let short = Arc::new(LoginThrottle::new(1, 100, Duration::from_millis(20)));
        drop(short.begin("k@example.com", None).expect("slot"));
        assert!(short.begin("k@example.com", None).is_err());
        std::thread::sleep(Duration::from_millis(30));
        assert!(short.begin("k@example.com", None).is_ok(), "the window passes");
    }

    #[test]
    fn a_success_forgets_the_account_and_a_busy_server_gives_the_slots_back() {
        let throttle = Arc::new(LoginThrottle::new(2, 2, Duration::from_secs(60)));
        drop(throttle.begin("anna@example.com", addr("203.0.113.7")).expect("slot"));
        throttle.begin("anna@example.com", addr("203.0.113.7")).expect("slot").succeeded();
        // Both of Anna's slots are free again, and the address holds one failure.
        throttle.begin("anna@example.com", addr("198.51.100.1")).expect("slot").not_tried();
        throttle.begin("anna@example.com", addr("198.51.100.1")).expect("slot").not_tried();
        drop(throttle.begin("jan@example.com", addr("203.0.113.7")).expect("the address has one slot left"));
        assert!(throttle.begin("jan@example.com", addr("203.0.113.7")).is_err(), "the address is full and Jan has failed");
    }

    #[test]
    fn an_address_past_its_limit_still_tries_an_untouched_account() {
        let throttle = Arc::new(LoginThrottle::new(5, 3, Duration::from_secs(60)));
        for email in ["a@example.com", "b@example.com", "c@example.com"] {
            drop(throttle.begin(email, addr("203.0.113.7")).expect("slot"));
        }
        // The sprayer's next guess at an account it already tried is refused...
        assert!(throttle.begin("a@example.com", addr("203.0.113.7")).is_err());
        // ...a colleague behind the same address is still tried, once.
        drop(throttle.begin("d@example.com", addr("203.0.113.7")).expect("untouched account"));
        assert!(throttle.begin("d@example.com", addr("203.0.113.7")).is_err());
        // Another address is not affected, nor is an IPv6 neighbour's /64 the same key.
        assert!(throttle.begin("a@example.com", addr("198.51.100.1")).is_ok());
    }

    #[tokio::test]
    async fn argon2_work_is_bounded_and_the_overflow_is_refused() {
        let work = Arc::new(PasswordWork::new(1, 2));
        let hash = work.hash("correct horse battery".into()).await.expect("hash");
        assert!(work.verify("correct horse battery".into(), Some(hash.clone())).await.expect("checked"));
        assert!(!work.verify("wrong".into(), None).await.expect("checked"));
        assert_eq!(work.runs(), 3);
        // One running and two waiting: the fourth at once is refused without running.
        let calls: Vec<_> = (0..4)
            .map(|_| {
                let (work, hash) = (work.clone(), hash.clone());
                tokio::spawn(async move { work.verify("wrong".into(), Some(hash)).await })
            })
            .collect();
        let mut busy = 0;
        for call in calls {
            if call.await.expect("join") == Err(PasswordError::Busy) {
                busy += 1;
            }
        }
        assert!(busy >= 1, "past the queue a request is refused");
        assert_eq!(work.runs(), 3 + 4 - busy);
    }
}
