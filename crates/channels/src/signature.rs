//! HMAC-SHA256 signatures: inbound webhooks (`sha256=HEX`, checked on the raw body in constant
//! time), signed file links, and outgoing webhooks as Standard Webhooks signs them.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// `sha256=` followed by the lower-case hex HMAC of `body` under `secret`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether `header` is the signature of `body` under `secret`.
pub fn verify(secret: &str, body: &[u8], header: &str) -> bool {
    let Some(hex_mac) = header.trim().strip_prefix("sha256=") else { return false };
    let Ok(given) = hex::decode(hex_mac) else { return false };
    let Ok(mut mac) = HmacSha256::new_from_slice(secret.as_bytes()) else { return false };
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

/// Whether a shared secret a provider echoes back (Telegram's secret token) is the one we set,
/// compared in constant time. An empty expected secret matches nothing.
pub fn same_secret(expected: &str, given: &str) -> bool {
    use subtle::ConstantTimeEq;
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

/// The path of a link to one file of a channel's workspace that works without signing in, until
/// `expires` (Unix seconds): for providers that fetch a reply's files themselves (Viber, Twilio)
/// and for a widget visitor's own files. Signed with the channel's secret.
pub fn file_link(channel: &str, secret: &str, attachment: &str, expires: i64) -> String {
    format!("/files/{channel}/{attachment}/{expires}/{}", file_link_signature(secret, attachment, expires))
}

/// Whether a file link's signature is this channel's, for this file and expiry.
pub fn file_link_ok(secret: &str, attachment: &str, expires: i64, given: &str) -> bool {
    same_secret(&file_link_signature(secret, attachment, expires), given)
}

fn file_link_signature(secret: &str, attachment: &str, expires: i64) -> String {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(format!("file\n{attachment}\n{expires}").as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..16])
}

/// Outgoing webhooks signed as the Standard Webhooks specification 1.0.0 says
/// (<https://www.standardwebhooks.com>, "Signature scheme" and "Webhook headers"): the secret is
/// shown as `whsec_` + base64 of random bytes (at least 24, at most 64), the signed content is
/// `{webhook-id}.{webhook-timestamp}.{body}`, and `webhook-signature` is `v1,` + base64 of its
/// HMAC-SHA256 under the secret's bytes; several signatures (during a rotation) are separated by
/// spaces.
pub mod standard_webhooks {
    use super::HmacSha256;
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use hmac::Mac;

    /// How a symmetric signing secret is shown, so that it is told apart at a glance.
    pub const SECRET_PREFIX: &str = "whsec_";

    /// A secret as shown to users: `whsec_` + base64 of `key`.
    pub fn secret_of(key: &[u8]) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
    }

    /// The key bytes of a secret (with or without its `whsec_` prefix); `None` when it is not
    /// base64 or empty.
    pub fn key_of(secret: &str) -> Option<Vec<u8>> {
        let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
        STANDARD.decode(encoded).ok().filter(|k| !k.is_empty())
    }

    /// `v1,` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")); `timestamp` in Unix seconds.
    pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_webhooks_signatures_match_the_reference_libraries() {
        // The vector of the reference libraries' tests ("sign function works",
        // standard-webhooks/libraries/javascript/src/webhook.test.ts).
        let key = standard_webhooks::key_of("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("base64");
        let signature = standard_webhooks::sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, br#"{"test": 2432232314}"#);
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert_eq!(standard_webhooks::key_of("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), Some(key.clone()), "the prefix is optional");
        assert_eq!(standard_webhooks::secret_of(&key), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        assert_eq!(standard_webhooks::key_of("whsec_not base64!"), None);
        assert_eq!(standard_webhooks::key_of("whsec_"), None);
    }

    #[test]
    fn file_links_are_signed_per_file_and_expiry() {
        let link = file_link("ch1", "secret", "att1", 1_800_000_000);
        let sig = link.rsplit('/').next().expect("signature");
        assert_eq!(link, format!("/files/ch1/att1/1800000000/{sig}"));
        assert!(file_link_ok("secret", "att1", 1_800_000_000, sig));
        assert!(!file_link_ok("secret", "att2", 1_800_000_000, sig), "another file");
        assert!(!file_link_ok("secret", "att1", 1_800_000_001, sig), "another expiry");
        assert!(!file_link_ok("other", "att1", 1_800_000_000, sig), "another channel's secret");
    }

    #[test]
    fn echoed_secrets_match_exactly() {
        assert!(same_secret("tg-test-secret_2026-Xq9", "tg-test-secret_2026-Xq9"));
        assert!(!same_secret("tg-test-secret_2026-Xq9", "tg-test-secret_2026-Xq"));
        assert!(!same_secret("", ""), "no secret configured: nothing is accepted");
    }

    #[test]
    fn round_trip_and_tamper() {
        let sig = sign("k", b"{\"a\":1}");
        assert!(verify("k", b"{\"a\":1}", &sig));
        assert!(!verify("k", b"{\"a\":2}", &sig));
        assert!(!verify("other", b"{\"a\":1}", &sig));
        assert!(!verify("k", b"{\"a\":1}", "sha256=zz"));
        assert!(!verify("k", b"{\"a\":1}", &sig.replace("sha256=", "sha1=")));
    }

    #[test]
    fn known_vector() {
        // RFC 4231 test case 2.
        let mut mac = HmacSha256::new_from_slice(b"Jefe").expect("key");
        mac.update(b"what do ya want for nothing?");
        assert_eq!(hex::encode(mac.finalize().into_bytes()), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        assert!(verify("Jefe", b"what do ya want for nothing?", "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
    }
}
