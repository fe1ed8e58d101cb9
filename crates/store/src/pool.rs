//! Read connections: reads run on the blocking thread pool with a connection taken from here,
//! so they never wait behind the writer (SQLite WAL and PostgreSQL both allow concurrent reads).
//! At most twice `max_idle` reads run at once: a burst of readers (thousands of chat widgets
//! connecting) waits its turn instead of starting a thread and a connection each (which took the
//! blocking pool to 512 threads and the server to hundreds of MiB).

use crate::error::{Result, StoreError};
use crate::sql::{Conn, Connector};
use std::sync::{Arc, Mutex};

pub struct ReadPool {
    connector: Arc<dyn Connector>,
    idle: Mutex<Vec<Box<dyn Conn>>>,
    max_idle: usize,
    running: tokio::sync::Semaphore,
}

impl ReadPool {
    pub fn new(connector: Arc<dyn Connector>, max_idle: usize) -> Self {
        Self { connector, idle: Mutex::new(Vec::new()), max_idle, running: tokio::sync::Semaphore::new(max_idle.max(1) * 2) }
    }

    pub async fn read<T, F>(self: &Arc<Self>, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Conn) -> Result<T> + Send + 'static,
    {
        let _turn = self.running.acquire().await.map_err(|_| StoreError::other("read pool closed"))?;
        let pool = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.take()?;
            let result = work(conn.as_mut());
            // A connection that failed at the transport level is dropped rather than reused.
            if !matches!(result, Err(StoreError::Other(_))) {
                pool.give_back(conn);
            }
            result
        })
        .await
        .map_err(|e| StoreError::other(format!("read task failed: {e}")))?
    }

    fn take(&self) -> Result<Box<dyn Conn>> {
        let idle = self.idle.lock().map_err(|_| StoreError::other("read pool poisoned"))?.pop();
        match idle {
            Some(conn) => Ok(conn),
            None => self.connector.connect(),
        }
    }

    fn give_back(&self, conn: Box<dyn Conn>) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < self.max_idle
        {
            idle.push(conn);
        }
    }
}
