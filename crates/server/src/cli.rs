//! The command line (CONTRACT.md): serve, migrate, token create, workspace create, demo,
//! config example.

use crate::config::{self, Config};
use clap::{Parser, Subcommand};
use std::io::Write as _;
use std::path::PathBuf;
use switchboard_domain::Role;
use switchboard_i18n::{Lang, t};

#[derive(Parser)]
#[command(name = "switchboard", version, about = "Omnichannel customer service in one binary")]
pub struct Cli {
    /// TOML configuration file (see `switchboard config example`).
    #[arg(long, global = true, env = "SWITCHBOARD_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory (SQLite database, attachments).
    #[arg(long, global = true)]
    data: Option<PathBuf>,
    /// `sqlite://PATH` or `postgres://…`; overrides the SQLite file in --data.
    #[arg(long, global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long)]
        listen: Option<String>,
        /// Also accept mail by LMTP on this address (e.g. 127.0.0.1:2424).
        #[arg(long)]
        lmtp_listen: Option<String>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Rebuild the full-text search index under --data from the database (with the server
    /// stopped: a running server keeps its own index current and holds it).
    Reindex,
    /// API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// People who sign in to the agent workspace.
    Account {
        #[command(subcommand)]
        command: AccountCommand,
    },
    /// Workspaces.
    Workspace {
        #[command(subcommand)]
        command: WorkspaceCommand,
    },
    /// Fill the database with a realistic demo workspace.
    Demo {
        #[arg(long, default_value = "default")]
        workspace: String,
    },
    /// Configuration helpers.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token; it is printed alone on the last line.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "default")]
        workspace: String,
        #[arg(long, default_value = "admin", value_parser = ["admin", "supervisor", "agent", "viewer"])]
        role: String,
    },
}

#[derive(Subcommand)]
enum AccountCommand {
    /// Create an account that signs in with its email; the password is read from the
    /// SWITCHBOARD_PASSWORD environment variable (never from the command line, which others see).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "default")]
        workspace: String,
        #[arg(long, default_value = "agent", value_parser = ["admin", "supervisor", "agent", "viewer"])]
        role: String,
    },
}

#[derive(Subcommand)]
enum WorkspaceCommand {
    Create {
        #[arg(long)]
        slug: String,
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print a commented example configuration.
    Example,
}

fn lang() -> Lang {
    let var = std::env::var("LC_ALL").ok().or_else(|| std::env::var("LANG").ok());
    Lang::from_env_locale(var.as_deref())
}

fn valid_slug(slug: &str) -> bool {
    (1..=50).contains(&slug.len()) && slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

pub fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            // Not eprintln!: it panics when stderr cannot be written.
            let _ = writeln!(std::io::stderr(), "switchboard: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    if let Command::Config { command: ConfigCommand::Example } = cli.command {
        print!("{}", config::EXAMPLE);
        return Ok(());
    }
    let mut config: Config = config::load(cli.config.as_deref())?;
    if let Some(data) = cli.data {
        config.data = data;
    }
    if let Some(url) = cli.database_url {
        config.database_url = Some(url);
    }
    let _log_guard = init_logging(&config);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.worker_threads())
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let lang = lang();
        match cli.command {
            Command::Serve { listen, lmtp_listen } => {
                if let Some(listen) = listen {
                    config.listen = listen;
                }
                if lmtp_listen.is_some() {
                    config.lmtp_listen = lmtp_listen;
                }
                let listener =
                    tokio::net::TcpListener::bind(&config.listen).await.map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
                let addr = listener.local_addr().map_err(|e| e.to_string())?;
                tracing::info!("{}", t(lang, "cli.listening", &[("addr", &addr.to_string())]));
                crate::run(config, listener, shutdown_signal()).await
            }
            Command::Migrate => {
                let applied = match config.database_url.as_deref() {
                    Some(url) if url.starts_with("postgres") => {
                        let url = url.to_owned();
                        tokio::task::spawn_blocking(move || switchboard_store_postgres::migrate_only(&url))
                            .await
                            .map_err(|e| e.to_string())?
                    }
                    Some(url) => {
                        let path = PathBuf::from(url.strip_prefix("sqlite://").unwrap_or(url));
                        tokio::task::spawn_blocking(move || switchboard_store_sqlite::migrate_only(&path))
                            .await
                            .map_err(|e| e.to_string())?
                    }
                    None => {
                        std::fs::create_dir_all(&config.data).map_err(|e| format!("cannot create {}: {e}", config.data.display()))?;
                        let path = config.data.join("switchboard.db");
                        tokio::task::spawn_blocking(move || switchboard_store_sqlite::migrate_only(&path))
                            .await
                            .map_err(|e| e.to_string())?
                    }
                }
                .map_err(|e| e.to_string())?;
                println!("{}", t(lang, "cli.migrated", &[("count", &applied.len().to_string())]));
                Ok(())
            }
            Command::Reindex => {
                let store = crate::open_store(&config).await.map_err(|e| e.to_string())?;
                let index = crate::open_index(&config)?;
                let started = std::time::Instant::now();
                let mut bar = Progress::default();
                let added = crate::indexer::Indexer { store, index, progress: Default::default() }
                    .rebuild(move |done, total| bar.show(done, total))
                    .await
                    .map_err(|e| t(lang, "cli.reindex_failed", &[("error", &e.to_string())]))?;
                eprintln!();
                let seconds = format!("{:.1}", started.elapsed().as_secs_f64());
                println!("{}", t(lang, "cli.reindexed", &[("documents", &added.to_string()), ("seconds", &seconds)]));
                Ok(())
            }
            Command::Token { command: TokenCommand::Create { name, workspace, role } } => {
                let role: Role = role.parse().map_err(|_| format!("unknown role {role}"))?;
                let name = name.trim();
                if name.is_empty() {
                    return Err("--name must not be empty".into());
                }
                let store = crate::open_store(&config).await.map_err(|e| e.to_string())?;
                let ws =
                    store.workspace_by_slug(&workspace).await.map_err(|_| t(lang, "cli.unknown_workspace", &[("slug", &workspace)]))?;
                let created = store.create_token(&ws.id, name, role).await.map_err(|e| e.to_string())?;
                println!("{}", t(lang, "cli.token_created", &[("name", name), ("role", role.as_str()), ("workspace", &ws.slug)]));
                println!("{}", created.token);
                Ok(())
            }
            Command::Account { command: AccountCommand::Create { email, name, workspace, role } } => {
                let role: Role = role.parse().map_err(|_| format!("unknown role {role}"))?;
                let password = std::env::var("SWITCHBOARD_PASSWORD").map_err(|_| t(lang, "cli.password_needed", &[]))?;
                if let Some(problem) = switchboard_web::signin::password_problem(&password) {
                    return Err(format!("SWITCHBOARD_PASSWORD {problem}"));
                }
                if !email.contains('@') || name.trim().is_empty() {
                    return Err("--email must be an address and --name must not be empty".into());
                }
                let store = crate::open_store(&config).await.map_err(|e| e.to_string())?;
                let ws =
                    store.workspace_by_slug(&workspace).await.map_err(|_| t(lang, "cli.unknown_workspace", &[("slug", &workspace)]))?;
                let password_hash = switchboard_web::signin::hash_password(&password)?;
                let new =
                    switchboard_store::NewAccount { workspace_id: ws.id.clone(), name: name.trim().to_owned(), email, role, password_hash };
                let account = store.create_account(new).await.map_err(|e| e.to_string())?;
                println!(
                    "{}",
                    t(lang, "cli.account_created", &[("email", &account.email), ("role", role.as_str()), ("workspace", &ws.slug)])
                );
                Ok(())
            }
            Command::Workspace { command: WorkspaceCommand::Create { slug, name } } => {
                if !valid_slug(&slug) {
                    return Err(format!("--slug {slug:?}: use 1 to 50 lower-case letters, digits and dashes"));
                }
                if name.trim().is_empty() {
                    return Err("--name must not be empty".into());
                }
                let store = crate::open_store(&config).await.map_err(|e| e.to_string())?;
                store.create_workspace(&slug, name.trim()).await.map_err(|e| e.to_string())?;
                println!("{}", t(lang, "cli.workspace_created", &[("slug", &slug)]));
                Ok(())
            }
            Command::Demo { workspace } => {
                let store = crate::open_store(&config).await.map_err(|e| e.to_string())?;
                let ws =
                    store.workspace_by_slug(&workspace).await.map_err(|_| t(lang, "cli.unknown_workspace", &[("slug", &workspace)]))?;
                let count = crate::demo::fill(&store, &ws.id).await.map_err(|e| e.to_string())?;
                println!("{}", t(lang, "cli.demo_done", &[("workspace", &ws.slug), ("conversations", &count.to_string())]));
                Ok(())
            }
            Command::Config { .. } => Ok(()),
        }
    })
}

/// A progress bar on stderr, redrawn at most five times a second.
#[derive(Default)]
struct Progress {
    shown: Option<std::time::Instant>,
}

impl Progress {
    const WIDTH: u64 = 30;

    fn show(&mut self, done: u64, total: u64) {
        let due = self.shown.is_none_or(|at| at.elapsed() >= std::time::Duration::from_millis(200));
        if !due && done < total {
            return;
        }
        self.shown = Some(std::time::Instant::now());
        let filled = (done * Self::WIDTH).checked_div(total).unwrap_or(Self::WIDTH).min(Self::WIDTH) as usize;
        let percent = (done * 100).checked_div(total).unwrap_or(100).min(100);
        use std::io::Write;
        let mut err = std::io::stderr();
        let _ = write!(err, "\r[{}{}] {percent:>3}% {done}/{total}", "#".repeat(filled), ".".repeat(Self::WIDTH as usize - filled));
        let _ = err.flush();
    }
}

/// Logs go to stderr through a buffer drained by their own thread: a stderr that blocks (a
/// pipe nobody reads) or fails (a full log disk, a closed pipe) never holds or breaks the work
/// that logs. A line that cannot be written is dropped and counted (`log_lines_lost` on
/// `/healthz`); tracing's own fallback, `eprintln!`, would panic on a failed write. The guard
/// flushes what is buffered when the program ends.
fn init_logging(config: &Config) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("SWITCHBOARD_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(true)
        .buffered_lines_limit(LOG_BUFFER_LINES)
        .thread_name("switchboard-log")
        .finish(LossyStderr);
    let dropped = writer.error_counter();
    switchboard_web::health::count_buffer_drops(Box::new(move || dropped.dropped_lines() as u64));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer).log_internal_errors(false);
    let installed = if config.log_format == "json" { builder.json().try_init() } else { builder.try_init() };
    installed.ok().map(|()| guard)
}

/// Lines waiting for stderr before new ones are dropped (and counted).
const LOG_BUFFER_LINES: usize = 16_384;

/// stderr that never fails: a line it cannot write is counted as lost instead.
struct LossyStderr;

impl std::io::Write for LossyStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if std::io::stderr().write_all(buf).is_err() {
            switchboard_web::health::LOG_LINES_LOST.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let _ = std::io::stderr().flush();
        Ok(())
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
