//! Configuration: defaults, then a TOML file, then `SWITCHBOARD_*` environment variables, then
//! command-line flags. Secrets in it (the database URL's password) never reach the logs.

use serde::Deserialize;
use std::fmt;
use std::path::PathBuf;

#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: String,
    /// Data directory: the SQLite database lives here.
    pub data: PathBuf,
    /// `sqlite://PATH` or `postgres://…`; overrides the SQLite file in `data`.
    pub database_url: Option<String>,
    /// Base URL providers reach this server on; used in `webhook_url`.
    pub public_url: Option<String>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Log format: `text` or `json`.
    pub log_format: String,
    /// Threads serving HTTP. Default: one per core less one, at least one.
    pub workers: Option<usize>,
    /// Address of the LMTP listener a mail server delivers to; none by default.
    pub lmtp_listen: Option<String>,
    /// Reverse proxies (IP addresses or CIDR networks) whose `X-Forwarded-For` names the
    /// client, for throttling per client address; none by default (the TCP peer is the client).
    pub trusted_proxies: Vec<String>,
    /// Where requests that channel settings point at may go (`[outbound]`).
    pub outbound: Outbound,
}

/// The `[outbound]` section: the rule for requests an admin's channel settings make the
/// server send (reply URLs, API base URLs, SMTP and IMAP hosts, connection tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Outbound {
    /// Whether loopback and private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7)
    /// may be reached. On by default, since a company's own CRM often sits on its network; an
    /// integrator hosting several clients' workspaces turns it off. Link-local and metadata
    /// addresses (169.254.0.0/16, fd00:ec2::254) are never reached either way.
    pub allow_private_networks: bool,
}

impl Default for Outbound {
    fn default() -> Self {
        let policy = switchboard_channels::outbound::OutboundPolicy::default();
        Self { allow_private_networks: policy.allow_private_networks }
    }
}

impl Outbound {
    pub fn policy(&self) -> switchboard_channels::outbound::OutboundPolicy {
        switchboard_channels::outbound::OutboundPolicy { allow_private_networks: self.allow_private_networks }
    }
}

impl Config {
    /// The HTTP worker threads to start. One core is left to the database writer thread: every
    /// write goes through it, and when HTTP workers take every core they preempt it and all
    /// writes wait (measured in BENCHMARKS.md: intake on 2 cores is faster with 1 worker than 2).
    pub fn worker_threads(&self) -> usize {
        self.workers.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1)).max(1))
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            data: PathBuf::from("./data"),
            database_url: None,
            public_url: None,
            max_body_bytes: 10 * 1024 * 1024,
            log_format: "text".into(),
            workers: None,
            lmtp_listen: None,
            trusted_proxies: Vec::new(),
            outbound: Outbound::default(),
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data", &self.data)
            .field("database_url", &self.database_url.as_ref().map(|_| "***"))
            .field("public_url", &self.public_url)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("log_format", &self.log_format)
            .field("workers", &self.workers)
            .field("lmtp_listen", &self.lmtp_listen)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("outbound", &self.outbound)
            .finish()
    }
}

pub const EXAMPLE: &str = r#"# Switchboard configuration. Every key is optional; shown are the defaults.
# Precedence: built-in defaults < this file < SWITCHBOARD_* environment variables < command-line flags.

# Address the HTTP server listens on (SWITCHBOARD_LISTEN, --listen).
listen = "127.0.0.1:8080"

# Data directory: the SQLite database and attachments (SWITCHBOARD_DATA, --data).
data = "./data"

# Use PostgreSQL (or another SQLite file) instead (SWITCHBOARD_DATABASE_URL, --database-url).
# database_url = "postgres://switchboard:secret@127.0.0.1:5432/switchboard"

# Base URL providers reach this server on, used for webhook URLs (SWITCHBOARD_PUBLIC_URL).
# public_url = "https://support.example.com"

# Largest request body accepted, in bytes (SWITCHBOARD_MAX_BODY_BYTES).
max_body_bytes = 10485760

# "text" or "json" (SWITCHBOARD_LOG_FORMAT).
log_format = "text"

# Threads serving HTTP (SWITCHBOARD_WORKERS). Default: one per core less one (at least one),
# leaving a core to the database writer thread.
# workers = 1

# LMTP listener for a mail server (Postfix: `mailbox_transport = lmtp:inet:127.0.0.1:2424`)
# delivering to email channels by recipient address (SWITCHBOARD_LMTP_LISTEN). Off by default.
# lmtp_listen = "127.0.0.1:2424"

# Reverse proxies in front of the server whose X-Forwarded-For header names the client
# (SWITCHBOARD_TRUSTED_PROXIES, comma-separated): addresses or CIDR networks. Sign-ins and
# widget messages are limited per client address; without this every client behind a proxy
# looks like the proxy. X-Forwarded-For from any other peer is ignored (anyone can write it).
trusted_proxies = []
# trusted_proxies = ["127.0.0.1", "::1", "10.0.0.0/8"]

# Requests that channel settings point the server at (reply URLs, api_base_url, SMTP and IMAP
# hosts, connection tests). Link-local and cloud metadata addresses (169.254.0.0/16,
# fd00:ec2::254) are never reached. Loopback and private ranges (10/8, 172.16/12, 192.168/16,
# 100.64/10, fc00::/7) are reached while this is true: a company's own CRM often sits on its
# network. An integrator hosting several clients' workspaces sets it to false
# (SWITCHBOARD_OUTBOUND_ALLOW_PRIVATE_NETWORKS).
[outbound]
allow_private_networks = true
"#;

/// Reads the file (if any) then the environment.
pub fn load(file: Option<&std::path::Path>) -> Result<Config, String> {
    let mut config = match file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
            toml::from_str::<Config>(&text).map_err(|e| format!("config file {}: {e}", path.display()))?
        }
        None => Config::default(),
    };
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if let Some(v) = env("SWITCHBOARD_LISTEN") {
        config.listen = v;
    }
    if let Some(v) = env("SWITCHBOARD_DATA") {
        config.data = v.into();
    }
    if let Some(v) = env("SWITCHBOARD_DATABASE_URL") {
        config.database_url = Some(v);
    }
    if let Some(v) = env("SWITCHBOARD_PUBLIC_URL") {
        config.public_url = Some(v);
    }
    if let Some(v) = env("SWITCHBOARD_MAX_BODY_BYTES") {
        config.max_body_bytes = v.parse().map_err(|_| format!("SWITCHBOARD_MAX_BODY_BYTES: not a number: {v}"))?;
    }
    if let Some(v) = env("SWITCHBOARD_LOG_FORMAT") {
        config.log_format = v;
    }
    if let Some(v) = env("SWITCHBOARD_WORKERS") {
        config.workers = Some(v.parse().map_err(|_| format!("SWITCHBOARD_WORKERS: not a number: {v}"))?);
    }
    if let Some(v) = env("SWITCHBOARD_LMTP_LISTEN") {
        config.lmtp_listen = Some(v);
    }
    if let Some(v) = env("SWITCHBOARD_TRUSTED_PROXIES") {
        config.trusted_proxies = v.split(',').map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned).collect();
    }
    switchboard_web::client::TrustedProxies::parse(&config.trusted_proxies)?;
    if let Some(v) = env("SWITCHBOARD_OUTBOUND_ALLOW_PRIVATE_NETWORKS") {
        config.outbound.allow_private_networks = match v.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => true,
            "false" | "0" | "no" | "off" => false,
            _ => return Err("SWITCHBOARD_OUTBOUND_ALLOW_PRIVATE_NETWORKS: must be true or false".into()),
        };
    }
    if config.workers == Some(0) {
        return Err("workers: must be at least 1".into());
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_parses_to_the_defaults() {
        let parsed: Config = toml::from_str(EXAMPLE).expect("example parses");
        let defaults = Config::default();
        assert_eq!(parsed.listen, defaults.listen);
        assert_eq!(parsed.data, defaults.data);
        assert_eq!(parsed.max_body_bytes, defaults.max_body_bytes);
        assert_eq!(parsed.trusted_proxies, defaults.trusted_proxies);
        assert_eq!(parsed.outbound, defaults.outbound);
        assert!(defaults.outbound.allow_private_networks, "on unless the operator turns it off");
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        let dir = std::env::temp_dir().join(format!("sb-config-proxies-{}", std::process::id()));
        std::fs::write(&dir, "trusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\", \"::1\"]\n").expect("write config");
        let loaded = load(Some(&dir)).expect("loads");
        assert_eq!(loaded.trusted_proxies, ["127.0.0.1", "10.0.0.0/8", "::1"]);
        std::fs::write(&dir, "trusted_proxies = [\"proxy.internal\"]\n").expect("write config");
        let err = load(Some(&dir)).expect_err("a host name is refused");
        std::fs::remove_file(&dir).ok();
        assert!(err.contains("proxy.internal"), "{err}");
    }

    #[test]
    fn private_networks_can_be_closed_in_the_file() {
        let parsed: Config = toml::from_str("[outbound]\nallow_private_networks = false\n").expect("parses");
        assert!(!parsed.outbound.policy().allow_private_networks);
        assert!(toml::from_str::<Config>("[outbound]\nallow_private = false\n").is_err(), "unknown keys are refused");
        assert!(toml::from_str::<Config>("[outbound]\nallow_private_networks = \"no\"\n").is_err(), "a boolean");
    }

    #[test]
    fn secrets_are_redacted_and_unknown_keys_rejected() {
        let config = Config { database_url: Some("postgres://u:hunter2@h/db".into()), ..Config::default() };
        assert!(!format!("{config:?}").contains("hunter2"));
        assert!(toml::from_str::<Config>("lisen = \"x\"").is_err());
    }

    #[test]
    fn workers_default_to_at_least_one_and_can_be_set() {
        assert!(Config::default().worker_threads() >= 1);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(Config::default().worker_threads(), cores.saturating_sub(1).max(1));
        let config = Config { workers: Some(3), ..Config::default() };
        assert_eq!(config.worker_threads(), 3);
        let dir = std::env::temp_dir().join(format!("sb-config-{}", std::process::id()));
        std::fs::write(&dir, "workers = 0\n").expect("write config");
        let err = load(Some(&dir)).expect_err("0 workers is refused");
        std::fs::remove_file(&dir).ok();
        assert!(err.contains("workers"), "{err}");
    }
}
