//! One library connection as the kernel sees it: writes with a deadline, a way to cut it, and
//! whether a callback on it is overdue.
//!
//! A write that misses its deadline may have left half a line on the socket, so the link is
//! cut rather than reused. A callback that misses the callback timeout makes the link *busy*:
//! the library handles the frontend's messages one at a time, so anything sent now would only
//! wait behind it. Busy lasts until the overdue callbacks report `done`.

use flow_edge_bridge_protocol::wire::BridgeMessage;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::unix::OwnedWriteHalf;
use tokio::sync::Notify;

/// Why a write to a library failed; after any of them the link is unusable.
#[derive(Debug)]
pub(crate) enum WriteError {
    /// The library did not take the line within the deadline.
    TimedOut(Duration),
    /// The socket failed (the library's process died).
    Io(std::io::Error),
    /// The link was already cut.
    Cut,
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::TimedOut(deadline) => write!(
                f,
                "the widgets library did not read for {:.0} s",
                deadline.as_secs_f64()
            ),
            WriteError::Io(error) => write!(f, "writing to the widgets library failed: {error}"),
            WriteError::Cut => write!(f, "the link to the widgets library was cut"),
        }
    }
}

/// One accepted library connection.
pub(crate) struct Link {
    pub(crate) generation: u64,
    writer: tokio::sync::Mutex<Option<OwnedWriteHalf>>,
    write_timeout: Duration,
    /// Wakes the reading task when the link is cut.
    cut: Notify,
    /// Requests whose callback outlived the callback timeout: seq → when it was sent.
    overdue: Mutex<BTreeMap<u64, Instant>>,
    /// Whether the loss of this link was reported already. Not tied to who forgets the link:
    /// a cut wakes the reading task, which may forget it before the failed writer does.
    loss_reported: AtomicBool,
}

impl Link {
    pub(crate) fn new(generation: u64, writer: OwnedWriteHalf, write_timeout: Duration) -> Link {
        Link {
            generation,
            writer: tokio::sync::Mutex::new(Some(writer)),
            write_timeout,
            cut: Notify::new(),
            overdue: Mutex::new(BTreeMap::new()),
            loss_reported: AtomicBool::new(false),
        }
    }

    /// Writes one line, waiting at most the write deadline (the wait for a concurrent write
    /// included). On failure the link is cut.
    pub(crate) async fn write(&self, message: &BridgeMessage) -> Result<(), WriteError> {
        let line = message.to_line();
        let attempt = async {
            let mut writer = self.writer.lock().await;
            let Some(stream) = writer.as_mut() else {
                return Err(WriteError::Cut);
            };
            stream
                .write_all(line.as_bytes())
                .await
                .map_err(WriteError::Io)?;
            stream.flush().await.map_err(WriteError::Io)
        };
        let outcome = tokio::time::timeout(self.write_timeout, attempt)
            .await
            .unwrap_or(Err(WriteError::TimedOut(self.write_timeout)));
        if outcome.is_err() {
            self.cut().await;
        }
        outcome
    }

    /// Closes the socket (the library sees the end of its stream and connects anew when it
    /// next needs the kernel) and stops the reading task.
    pub(crate) async fn cut(&self) {
        // A write stuck past its deadline was cancelled and gave the lock back.
        self.writer.lock().await.take();
        self.cut.notify_one();
    }

    /// Resolves once the link is cut.
    pub(crate) async fn was_cut(&self) {
        self.cut.notified().await;
    }

    /// True for the first caller only: the one that reports why the link was lost (two
    /// writes failing at once report it once).
    pub(crate) fn claim_loss_report(&self) -> bool {
        !self.loss_reported.swap(true, Ordering::SeqCst)
    }

    fn overdue(&self) -> MutexGuard<'_, BTreeMap<u64, Instant>> {
        self.overdue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Request `seq`, sent at `sent`, outlived the callback timeout.
    pub(crate) fn mark_overdue(&self, seq: u64, sent: Instant) {
        self.overdue().insert(seq, sent);
    }

    /// Request `seq` is done; the link stops being busy when nothing else is overdue.
    pub(crate) fn finished(&self, seq: u64) {
        self.overdue().remove(&seq);
    }

    /// Since when the oldest overdue callback runs, if one does.
    pub(crate) fn busy_since(&self) -> Option<Instant> {
        self.overdue().values().min().copied()
    }
}
