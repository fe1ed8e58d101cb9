//! The switchboard program as a library: open the store, serve HTTP, run the workers. `main`
//! only parses the command line; tests call `run` directly.
#![forbid(unsafe_code)]

pub mod cli;
pub mod config;
pub mod demo;
pub mod drivers;
mod files;
pub mod imap_fetch;
pub mod indexer;
pub mod mail_intake;
pub mod supervise;
pub mod timers;
pub mod webhooks;
pub mod worker;

use config::Config;
use std::sync::Arc;
use switchboard_store::{BlobStore, FsBlobStore, Store, StoreError};
use switchboard_web::AppState;

/// Opens the configured database (SQLite under `data` unless `database_url` says otherwise),
/// applying migrations, and makes sure the `default` workspace exists.
pub async fn open_store(config: &Config) -> Result<Arc<dyn Store>, StoreError> {
    let config = config.clone();
    let blobs: Arc<dyn BlobStore> = Arc::new(FsBlobStore::new(config.data.join("attachments")));
    let store: Arc<dyn Store> = tokio::task::spawn_blocking(move || -> Result<Arc<dyn Store>, StoreError> {
        match config.database_url.as_deref() {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Ok(Arc::new(switchboard_store_postgres::open(url, blobs)?))
            }
            Some(url) => {
                let path = url.strip_prefix("sqlite://").ok_or_else(|| StoreError::other(format!("unsupported database URL: {url}")))?;
                Ok(Arc::new(switchboard_store_sqlite::open(std::path::Path::new(path), blobs)?))
            }
            None => Ok(Arc::new(switchboard_store_sqlite::open(&config.data.join("switchboard.db"), blobs)?)),
        }
    })
    .await
    .map_err(|e| StoreError::other(e.to_string()))??;
    store.ensure_default_workspace().await?;
    Ok(store)
}

/// This node's search index under `data/search` (every node its own, even on a shared
/// PostgreSQL: it is derived data, fed from the database's change log).
/// An index that cannot be opened (damaged files) is derived data: it is removed and a new one
/// is built from the database.
pub fn open_index(config: &Config) -> Result<Arc<switchboard_search::SearchIndex>, String> {
    let dir = config.data.join("search");
    match switchboard_search::SearchIndex::open(&dir) {
        Ok(index) => Ok(Arc::new(index)),
        Err(first) => {
            tracing::warn!(error = %first, dir = %dir.display(), "the search index cannot be opened; it is rebuilt from the database");
            std::fs::remove_dir_all(&dir)
                .map_err(|e| format!("cannot open the search index in {} ({first}) nor remove it: {e}", dir.display()))?;
            switchboard_search::SearchIndex::open(&dir)
                .map(Arc::new)
                .map_err(|e| format!("cannot open the search index in {}: {e}", dir.display()))
        }
    }
}

/// Serves until `shutdown` resolves, then finishes in-flight requests and stops the worker.
pub async fn run(
    config: Config,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    run_with_drivers(config, listener, shutdown, drivers::registry()).await
}

/// `run` with other channel drivers (tests put a misbehaving provider in).
pub async fn run_with_drivers(
    config: Config,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    drivers: switchboard_channels::Registry,
) -> Result<(), String> {
    let store = open_store(&config).await.map_err(|e| format!("cannot open the database: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let public_url = config.public_url.clone().unwrap_or_else(|| format!("http://{addr}"));
    let index = open_index(&config)?;
    // Rules read word forms as search does.
    store.set_word_forms(Arc::new(switchboard_search::WordStems));
    let mut state =
        AppState::new(store.clone(), public_url, config.max_body_bytes).with_outbound(config.outbound.policy()).with_search(index.clone());
    state.drivers = Arc::new(drivers);
    state.trusted_proxies = Arc::new(switchboard_web::client::TrustedProxies::parse(&config.trusted_proxies)?);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let health = state.health.clone();
    let worker = {
        let (state, stop) = (state.clone(), stop_rx.clone());
        supervise::supervise("delivery", health.clone(), stop_rx.clone(), move || {
            let (state, stop) = (state.clone(), stop.clone());
            async move {
                worker::run(state, stop).await;
                Ok(())
            }
        })
    };
    let mut tasks = vec![worker];
    {
        let (state, stop) = (state.clone(), stop_rx.clone());
        tasks.push(supervise::supervise("imap", health.clone(), stop_rx.clone(), move || {
            let (state, stop) = (state.clone(), stop.clone());
            async move {
                imap_fetch::supervise(state, stop).await;
                Ok(())
            }
        }));
    }
    {
        let (state, stop) = (state.clone(), stop_rx.clone());
        tasks.push(supervise::supervise("presence", health.clone(), stop_rx.clone(), move || {
            let (state, stop) = (state.clone(), stop.clone());
            async move {
                presence_heartbeat(state, stop).await;
                Ok(())
            }
        }));
    }
    {
        let (state, stop) = (state.clone(), stop_rx.clone());
        tasks.push(supervise::supervise("webhook-log", health.clone(), stop_rx.clone(), move || {
            webhooks::prune_log(state.clone(), stop.clone())
        }));
    }
    {
        let indexer = indexer::Indexer { store: store.clone(), index, progress: state.index_progress.clone() };
        let stop = stop_rx.clone();
        tasks.push(supervise::supervise("search", health.clone(), stop_rx.clone(), move || indexer.clone().run(stop.clone())));
    }
    {
        let (state, stop) = (state.clone(), stop_rx.clone());
        tasks.push(supervise::supervise("timers", health.clone(), stop_rx.clone(), move || timers::run(state.clone(), stop.clone())));
    }
    if let Some(address) = &config.lmtp_listen {
        let lmtp = tokio::net::TcpListener::bind(address).await.map_err(|e| format!("cannot listen for LMTP on {address}: {e}"))?;
        let bound = lmtp.local_addr().map_err(|e| e.to_string())?;
        tracing::info!(addr = %bound, "LMTP listener ready");
        let sink: Arc<dyn switchboard_email_transport::lmtp::MailSink> = Arc::new(mail_intake::ChannelMailSink { state: state.clone() });
        // The first run takes the listener bound above (so a bad address fails the start);
        // a restart binds the same address again.
        let mut first = Some(lmtp);
        let stop = stop_rx.clone();
        tasks.push(supervise::supervise("lmtp", health.clone(), stop_rx.clone(), move || {
            let (listener, sink, stop) = (first.take(), sink.clone(), stop.clone());
            async move {
                let listener = match listener {
                    Some(l) => l,
                    None => tokio::net::TcpListener::bind(bound).await.map_err(|e| format!("cannot listen for LMTP on {bound}: {e}"))?,
                };
                switchboard_email_transport::lmtp::serve(listener, sink, Default::default(), stop).await;
                Ok(())
            }
        }));
    }
    announce_setup_link(&state).await;
    let app = switchboard_web::router(state.clone())
        .merge(switchboard_widget::router(state.clone()))
        .merge(switchboard_ui::router().with_state(state))
        .layer(axum::middleware::from_fn(switchboard_web::error::json_errors))
        .layer(axum::middleware::from_fn(switchboard_web::error::catch_panic));
    let served = axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| e.to_string());
    let _ = stop_tx.send(true);
    for task in tasks {
        let _ = task.await;
    }
    served
}

/// Until the default workspace has its first admin, every start prints a new one-time link
/// that creates them (the previous link stops working).
async fn announce_setup_link(state: &AppState) {
    let workspace = match state.store.ensure_default_workspace().await {
        Ok(w) => w,
        Err(e) => return tracing::error!(error = %e, "cannot read the default workspace"),
    };
    match state.store.create_setup_link(&workspace.id).await {
        Ok(Some(token)) => {
            let url = format!("{}/setup/{token}", state.public_url.trim_end_matches('/'));
            tracing::warn!(%url, "no admin yet: open this one-time link to create the first admin");
        }
        Ok(None) => {}
        Err(e) => tracing::error!(error = %e, "cannot create the setup link"),
    }
}

/// Repeats this node's agents' presence to the other nodes until the server stops.
async fn presence_heartbeat(state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(switchboard_web::presence::HEARTBEAT);
    loop {
        tokio::select! {
            _ = tick.tick() => state.presence_heartbeat(),
            _ = stop.changed() => return,
        }
    }
}
