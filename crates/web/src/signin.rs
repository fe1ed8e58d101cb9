//! The parts of signing people in that do not depend on pages: argon2id password hashes, the
//! session cookie, throttling of failed attempts, and the check that a state-changing request
//! made with a cookie comes from our own pages (Sec-Fetch-Site, else Origin).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::http::HeaderMap;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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

/// Failed sign-ins are limited per key (the email, and the client address): after `limit`
/// failures within `window` the key waits until the window has passed since its first failure.
pub struct LoginThrottle {
    limit: u32,
    window: Duration,
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self::new(5, Duration::from_secs(15 * 60))
    }
}

impl LoginThrottle {
    /// Keys kept at most; past it the oldest windows are dropped (an attacker spraying keys
    /// must not grow memory without bound).
    const CAPACITY: usize = 100_000;

    pub fn new(limit: u32, window: Duration) -> Self {
        Self { limit, window, failures: Mutex::default() }
    }

    /// `Err(seconds to wait)` when `key` used up its attempts.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(key) {
            Some((count, since)) if since.elapsed() < self.window && *count >= self.limit => {
                Err((self.window - since.elapsed()).as_secs().max(1))
            }
            Some((_, since)) if since.elapsed() >= self.window => {
                map.remove(key);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    pub fn failed(&self, key: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= Self::CAPACITY {
            let window = self.window;
            map.retain(|_, (_, since)| since.elapsed() < window);
        }
        let entry = map.entry(key.to_owned()).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= self.window {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
    }

    pub fn succeeded(&self, key: &str) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
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

    #[test]
    fn failed_sign_ins_are_throttled_per_key() {
        let throttle = LoginThrottle::new(3, Duration::from_secs(60));
        for _ in 0..3 {
            assert_eq!(throttle.check("anna@example.com"), Ok(()));
            throttle.failed("anna@example.com");
        }
        assert!(throttle.check("anna@example.com").is_err_and(|wait| (1..=60).contains(&wait)));
        assert_eq!(throttle.check("jan@example.com"), Ok(()), "other keys are not affected");
        throttle.succeeded("anna@example.com");
        assert_eq!(throttle.check("anna@example.com"), Ok(()));
        let short = LoginThrottle::new(1, Duration::from_millis(20));
        short.failed("k");
        assert!(short.check("k").is_err());
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(short.check("k"), Ok(()), "the window passes");
    }
}
