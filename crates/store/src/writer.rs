//! Group commit: one writer thread owns the write connection, takes every write request that is
//! waiting, runs them in one transaction (each inside its own savepoint, so one failing request
//! does not undo the others) and acknowledges all of them after the single COMMIT. Concurrent
//! intakes thus share one fsync, and nothing is acknowledged before it is durable.
//!
//! When the backend's COMMIT does not itself reach the disk (SQLite with `synchronous=NORMAL`,
//! see `Conn::log_sync`), the fsync moves to a second thread: the writer commits a batch, hands
//! its answers to the syncer and starts the next batch while the disk works. The syncer fsyncs
//! the log once for everything committed so far and only then answers. Durability per
//! acknowledgement is unchanged; the writer just no longer waits for the disk.

use crate::error::{Result, StoreError};
use crate::sql::{Conn, LogSync};
use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::{mpsc, oneshot};

type Work = Box<dyn FnMut(&mut dyn Conn) -> Result<Box<dyn Any + Send>> + Send>;
type Reply = oneshot::Sender<Result<Box<dyn Any + Send>>>;
/// A request's reply channel with the answer it gets once the batch is durable.
type Answer = (Reply, Result<Box<dyn Any + Send>>);

struct Request {
    work: Work,
    reply: Reply,
}

/// Handle to the writer thread; cheap to clone.
#[derive(Clone)]
pub struct Writer {
    queue: mpsc::Sender<Request>,
    /// Set once the log could not be made durable: writes are refused from then on.
    broken: Arc<AtomicBool>,
}

/// Most requests taken into one transaction; bounds the time one batch holds the lock.
const MAX_BATCH: usize = 256;
/// A request that hits a concurrent-update conflict is run again this many times.
const MAX_RETRIES: u32 = 3;

impl Writer {
    pub fn spawn(mut conn: Box<dyn Conn>, name: &str) -> Result<Self> {
        let (queue, mut requests) = mpsc::channel::<Request>(4096);
        let broken = Arc::new(AtomicBool::new(false));
        let syncer = match conn.log_sync() {
            Some(log) => Some(Syncer::spawn(log, name, broken.clone())?),
            None => None,
        };
        let refusing = broken.clone();
        std::thread::Builder::new()
            .name(format!("{name}-writer"))
            .spawn(move || run(conn.as_mut(), &mut requests, syncer.as_ref(), &broken))
            .map_err(|e| StoreError::other(format!("cannot start writer thread: {e}")))?;
        Ok(Self { queue, broken: refusing })
    }

    /// `Err(why)` when the writer can take no more writes: its thread has stopped, or the log
    /// could not be made durable (a restart is needed). Costs no database round trip.
    pub fn state(&self) -> std::result::Result<(), String> {
        if self.queue.is_closed() {
            Err("the database writer has stopped".into())
        } else if self.broken.load(Ordering::SeqCst) {
            Err("the database log could not be synced to disk; restart the server".into())
        } else {
            Ok(())
        }
    }

    /// Runs `work` inside a write transaction; resolves once it is committed and durable.
    /// `work` may run more than once if another node wrote the same rows concurrently, so it
    /// must not have side effects outside the database.
    pub async fn write<T, F>(&self, mut work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&mut dyn Conn) -> Result<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let work: Work = Box::new(move |conn| work(conn).map(|v| Box::new(v) as Box<dyn Any + Send>));
        // The queue is bounded: when the database falls behind, callers wait here (backpressure).
        self.queue.send(Request { work, reply }).await.map_err(|_| StoreError::Unavailable("the database writer has stopped".into()))?;
        let value = answer.await.map_err(|_| StoreError::other("writer dropped the request"))??;
        value.downcast::<T>().map(|b| *b).map_err(|_| StoreError::other("writer returned the wrong type"))
    }
}

fn run(conn: &mut dyn Conn, requests: &mut mpsc::Receiver<Request>, syncer: Option<&Syncer>, broken: &AtomicBool) {
    let mut retries: Vec<(Request, u32)> = Vec::new();
    loop {
        let mut batch: Vec<(Request, u32)> = std::mem::take(&mut retries);
        if batch.is_empty() {
            match requests.blocking_recv() {
                Some(first) => batch.push((first, 0)),
                None => return, // every handle dropped: the store is closed
            }
        }
        while batch.len() < MAX_BATCH {
            match requests.try_recv() {
                Ok(next) => batch.push((next, 0)),
                Err(_) => break,
            }
        }
        if broken.load(Ordering::SeqCst) {
            // After a failed fsync the kernel may have dropped the dirty log pages: nothing
            // written from now on could be promised durable. Refuse until restarted.
            for (req, _) in batch {
                let _ =
                    req.reply.send(Err(StoreError::Unavailable("the database log could not be synced to disk; restart the server".into())));
            }
            continue;
        }
        let answers = run_batch(conn, batch, &mut retries);
        match syncer {
            Some(syncer) if answers.committed => syncer.after_sync(answers.replies),
            _ => answers.send(),
        }
    }
}

/// Runs one request's work. A panic in it (a bug) fails that request alone: the writer thread
/// every other request waits on carries on, and the transaction is rolled back by the caller.
fn perform(work: &mut Work, conn: &mut dyn Conn) -> Result<Box<dyn Any + Send>> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(conn))).unwrap_or_else(|panic| {
        let what =
            panic.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| panic.downcast_ref::<String>().cloned()).unwrap_or_default();
        tracing::error!(panic = %what, "a database operation panicked; it alone fails");
        Err(StoreError::other(format!("the operation failed unexpectedly: {what}")))
    })
}

/// The outcome of one batch: each request's answer, and whether the COMMIT succeeded.
struct Answers {
    committed: bool,
    replies: Vec<Answer>,
}

impl Answers {
    fn send(self) {
        for (reply, result) in self.replies {
            let _ = reply.send(result);
        }
    }
}

fn begin(conn: &mut dyn Conn) -> Result<()> {
    conn.batch(match conn.dialect() {
        crate::sql::Dialect::Sqlite => "BEGIN IMMEDIATE",
        crate::sql::Dialect::Postgres => "BEGIN",
    })
}

/// Runs a batch. First optimistically, every request straight into one transaction: almost
/// every write succeeds, and a savepoint per request costs a statement journal on SQLite and two
/// round trips on PostgreSQL. If any request fails, the whole transaction is rolled back and the
/// batch runs again with one savepoint per request, so that only the failing one is undone.
fn run_batch(conn: &mut dyn Conn, mut batch: Vec<(Request, u32)>, retries: &mut Vec<(Request, u32)>) -> Answers {
    if let Err(e) = begin(conn) {
        return Answers { committed: false, replies: batch.into_iter().map(|(req, _)| (req.reply, Err(e.clone()))).collect() };
    }
    let mut values = Vec::with_capacity(batch.len());
    let mut failure = None;
    for (req, _) in &mut batch {
        match perform(&mut req.work, conn) {
            Ok(value) => values.push(value),
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    if failure.is_none() {
        match conn.batch("COMMIT") {
            Ok(()) => {
                let replies = batch.into_iter().zip(values).map(|((req, _), value)| (req.reply, Ok(value))).collect();
                return Answers { committed: true, replies };
            }
            Err(e) => failure = Some(e),
        }
    }
    let _ = conn.batch("ROLLBACK");
    drop(values);
    match (batch.len(), failure) {
        // One request: the rollback undid exactly it; no need to run it again.
        (1, Some(err)) => {
            let mut replies = Vec::new();
            for (req, attempts) in batch {
                match err {
                    StoreError::Retry if attempts < MAX_RETRIES => retries.push((req, attempts + 1)),
                    _ => replies.push((req.reply, Err(err.clone()))),
                }
            }
            Answers { committed: false, replies }
        }
        _ => run_batch_with_savepoints(conn, batch, retries),
    }
}

fn run_batch_with_savepoints(conn: &mut dyn Conn, batch: Vec<(Request, u32)>, retries: &mut Vec<(Request, u32)>) -> Answers {
    if let Err(e) = begin(conn) {
        return Answers { committed: false, replies: batch.into_iter().map(|(req, _)| (req.reply, Err(e.clone()))).collect() };
    }
    let mut done: Vec<Answer> = Vec::with_capacity(batch.len());
    for (mut req, attempts) in batch {
        if let Err(e) = conn.batch("SAVEPOINT request") {
            done.push((req.reply, Err(e)));
            continue;
        }
        match perform(&mut req.work, conn) {
            Ok(value) => match conn.batch("RELEASE SAVEPOINT request") {
                Ok(()) => done.push((req.reply, Ok(value))),
                Err(e) => done.push((req.reply, Err(e))),
            },
            Err(err) => {
                // Undo this request's partial writes; the rest of the batch stays.
                let undo = conn.batch("ROLLBACK TO SAVEPOINT request; RELEASE SAVEPOINT request");
                match (err, undo) {
                    (_, Err(e)) => done.push((req.reply, Err(e))),
                    (StoreError::Retry, Ok(())) if attempts < MAX_RETRIES => retries.push((req, attempts + 1)),
                    (err, Ok(())) => done.push((req.reply, Err(err))),
                }
            }
        }
    }
    match conn.batch("COMMIT") {
        Ok(()) => Answers { committed: true, replies: done },
        Err(e) => {
            let _ = conn.batch("ROLLBACK");
            Answers { committed: false, replies: done.into_iter().map(|(reply, _)| (reply, Err(e.clone()))).collect() }
        }
    }
}

/// The thread that makes committed batches durable before they are acknowledged.
struct Syncer {
    queue: std::sync::mpsc::Sender<Vec<Answer>>,
}

impl Syncer {
    fn spawn(mut log: Box<dyn LogSync>, name: &str, broken: Arc<AtomicBool>) -> Result<Self> {
        let (queue, committed) = std::sync::mpsc::channel::<Vec<Answer>>();
        std::thread::Builder::new()
            .name(format!("{name}-sync"))
            .spawn(move || {
                while let Ok(first) = committed.recv() {
                    // Everything queued now was committed before this sync starts: one fsync covers it all.
                    let mut waiting = first;
                    while let Ok(more) = committed.try_recv() {
                        waiting.extend(more);
                    }
                    let synced = if broken.load(Ordering::SeqCst) {
                        Err(StoreError::Unavailable("the database log could not be made durable; restart the server".into()))
                    } else {
                        log.sync()
                    };
                    if let Err(e) = &synced {
                        broken.store(true, Ordering::SeqCst);
                        tracing::error!(error = %e, "cannot sync the database log; refusing further writes");
                    }
                    for (reply, result) in waiting {
                        let _ = reply.send(match &synced {
                            Ok(()) => result,
                            Err(e) => Err(e.clone()),
                        });
                    }
                }
            })
            .map_err(|e| StoreError::other(format!("cannot start sync thread: {e}")))?;
        Ok(Self { queue })
    }

    fn after_sync(&self, replies: Vec<Answer>) {
        if let Err(std::sync::mpsc::SendError(replies)) = self.queue.send(replies) {
            // The sync thread is gone: nothing can be promised durable.
            for (reply, _) in replies {
                let _ = reply.send(Err(StoreError::other("the sync thread has stopped")));
            }
        }
    }
}
