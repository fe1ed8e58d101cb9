//! Group commit: one writer thread owns the write connection, takes every write request that is
//! waiting, runs them in one transaction (each inside its own savepoint, so one failing request
//! does not undo the others) and acknowledges all of them after the single COMMIT. Concurrent
//! intakes thus share one fsync, and nothing is acknowledged before it is durable.

use crate::error::{Result, StoreError};
use crate::sql::Conn;
use std::any::Any;
use std::sync::mpsc;
use tokio::sync::oneshot;

type Work = Box<dyn FnMut(&mut dyn Conn) -> Result<Box<dyn Any + Send>> + Send>;

struct Request {
    work: Work,
    reply: oneshot::Sender<Result<Box<dyn Any + Send>>>,
}

/// Handle to the writer thread; cheap to clone.
#[derive(Clone)]
pub struct Writer {
    queue: mpsc::SyncSender<Request>,
}

/// Most requests taken into one transaction; bounds the time one batch holds the lock.
const MAX_BATCH: usize = 256;
/// A request that hits a concurrent-update conflict is run again this many times.
const MAX_RETRIES: u32 = 3;

impl Writer {
    pub fn spawn(mut conn: Box<dyn Conn>, name: &str) -> Result<Self> {
        let (queue, requests) = mpsc::sync_channel::<Request>(4096);
        std::thread::Builder::new()
            .name(format!("{name}-writer"))
            .spawn(move || run(conn.as_mut(), &requests))
            .map_err(|e| StoreError::other(format!("cannot start writer thread: {e}")))?;
        Ok(Self { queue })
    }

    /// Runs `work` inside a write transaction; resolves after COMMIT. `work` may run more than
    /// once if another node wrote the same rows concurrently, so it must not have side effects
    /// outside the database.
    pub async fn write<T, F>(&self, mut work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&mut dyn Conn) -> Result<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let work: Work = Box::new(move |conn| work(conn).map(|v| Box::new(v) as Box<dyn Any + Send>));
        let queue = self.queue.clone();
        // The queue is bounded: when the database falls behind, callers wait here (backpressure).
        tokio::task::spawn_blocking(move || queue.send(Request { work, reply }))
            .await
            .map_err(|e| StoreError::other(format!("writer join: {e}")))?
            .map_err(|_| StoreError::other("writer thread has stopped"))?;
        let value = answer.await.map_err(|_| StoreError::other("writer dropped the request"))??;
        value.downcast::<T>().map(|b| *b).map_err(|_| StoreError::other("writer returned the wrong type"))
    }
}

fn run(conn: &mut dyn Conn, requests: &mpsc::Receiver<Request>) {
    let mut retries: Vec<(Request, u32)> = Vec::new();
    loop {
        let mut batch: Vec<(Request, u32)> = std::mem::take(&mut retries);
        if batch.is_empty() {
            match requests.recv() {
                Ok(first) => batch.push((first, 0)),
                Err(_) => return, // every handle dropped: the store is closed
            }
        }
        while batch.len() < MAX_BATCH {
            match requests.try_recv() {
                Ok(next) => batch.push((next, 0)),
                Err(_) => break,
            }
        }
        run_batch(conn, batch, &mut retries);
    }
}

fn run_batch(conn: &mut dyn Conn, batch: Vec<(Request, u32)>, retries: &mut Vec<(Request, u32)>) {
    let begin = match conn.dialect() {
        crate::sql::Dialect::Sqlite => "BEGIN IMMEDIATE",
        crate::sql::Dialect::Postgres => "BEGIN",
    };
    if let Err(e) = conn.batch(begin) {
        for (req, _) in batch {
            let _ = req.reply.send(Err(e.clone()));
        }
        return;
    }
    let mut done: Vec<(oneshot::Sender<_>, Result<Box<dyn Any + Send>>)> = Vec::with_capacity(batch.len());
    for (mut req, attempts) in batch {
        if let Err(e) = conn.batch("SAVEPOINT request") {
            done.push((req.reply, Err(e)));
            continue;
        }
        match (req.work)(conn) {
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
        Ok(()) => {
            for (reply, result) in done {
                let _ = reply.send(result);
            }
        }
        Err(e) => {
            let _ = conn.batch("ROLLBACK");
            for (reply, _) in done {
                let _ = reply.send(Err(e.clone()));
            }
        }
    }
}
