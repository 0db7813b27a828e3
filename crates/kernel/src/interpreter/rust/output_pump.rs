//! Streams the cell's stdout and stderr to the frontend while it runs.
//!
//! evcxr's `execute` does not return until its stdout channel is drained, so these channels
//! are read on their own thread from the start. A flush handshake lets the executor make
//! sure every line of a cell went out before its result does.

use crate::interpreter::{StreamKind, StreamSink};
use crossbeam_channel::{Receiver, Select, Sender};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// Lines sent in one stream message at most, so a chatty cell still streams.
const MAX_LINES_PER_MESSAGE: usize = 500;

/// Notices a panic report on stderr while a cell runs: evcxr catches a panicking cell and
/// reports success, the panic message only goes to stderr.
#[derive(Default)]
pub(crate) struct PanicWatch {
    armed: AtomicBool,
    report: Mutex<Option<String>>,
}

/// Most panic report text kept (the message and location, not a long backtrace).
const MAX_PANIC_REPORT: usize = 4096;

impl PanicWatch {
    /// Starts watching for the cell about to run.
    pub(crate) fn arm(&self) {
        *self.lock() = None;
        self.armed.store(true, Ordering::SeqCst);
    }

    /// Stops watching; returns the panic report seen since `arm`, if any.
    pub(crate) fn disarm(&self) -> Option<String> {
        self.armed.store(false, Ordering::SeqCst);
        self.lock().take()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.report.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Looks at stderr text: keeps what follows the first `thread '…' panicked at` line.
    fn observe(&self, text: &str) {
        if !self.armed.load(Ordering::SeqCst) {
            return;
        }
        let mut report = self.lock();
        match report.as_mut() {
            Some(kept) if kept.len() < MAX_PANIC_REPORT => kept.push_str(text),
            Some(_) => {}
            None => {
                // `thread 'name' panicked at`; Rust 1.95 adds the thread id: `'name' (42)`.
                let start = text.find("thread '").filter(|&at| {
                    text[at..]
                        .lines()
                        .next()
                        .is_some_and(|line| line.contains(" panicked at "))
                });
                if let Some(start) = start {
                    *report = Some(text[start..].to_owned());
                }
            }
        }
    }
}

/// How long stderr must stay quiet before a flush counts it as complete.
const STDERR_GRACE: Duration = Duration::from_millis(5);

/// Handle to the pump thread.
pub(crate) struct OutputPump {
    flush_requests: Sender<Sender<()>>,
}

impl OutputPump {
    /// Starts pumping `outputs` into `sink`.
    pub(crate) fn start(
        outputs: evcxr::EvalContextOutputs,
        sink: StreamSink,
        panics: Arc<PanicWatch>,
    ) -> OutputPump {
        let (flush_requests, flushes) = crossbeam_channel::unbounded::<Sender<()>>();
        // Stderr text passes the panic watch on its way out.
        let sink: StreamSink = Arc::new(move |kind, text: String| {
            if kind == StreamKind::Stderr {
                panics.observe(&text);
            }
            sink(kind, text);
        });
        let spawned = std::thread::Builder::new()
            .name("flow-edge-output-pump".into())
            .spawn(move || pump(outputs.stdout, outputs.stderr, flushes, sink));
        if let Err(error) = spawned {
            eprintln!("flow-edge-kernel: cannot start the output thread: {error}");
        }
        OutputPump { flush_requests }
    }

    /// Returns once every line evcxr has handed over so far was passed to the sink.
    pub(crate) fn flush(&self) {
        let (done, finished) = crossbeam_channel::bounded(1);
        if self.flush_requests.send(done).is_ok() {
            // A pump that died cannot be waited for; the timeout keeps a cell from hanging.
            let _ = finished.recv_timeout(Duration::from_secs(5));
        }
    }
}

fn pump(
    stdout: Receiver<String>,
    stderr: Receiver<String>,
    flushes: Receiver<Sender<()>>,
    sink: StreamSink,
) {
    let mut select = Select::new();
    let stdout_index = select.recv(&stdout);
    let stderr_index = select.recv(&stderr);
    let flush_index = select.recv(&flushes);
    loop {
        let operation = select.select();
        let index = operation.index();
        if index == flush_index {
            let Ok(done) = operation.recv(&flushes) else {
                return;
            };
            forward_pending(&stdout, StreamKind::Stdout, &sink);
            // evcxr drains stdout before a cell ends, but stderr comes through its own pipe
            // and reader thread: give lines written just before the end a moment to arrive.
            while let Ok(line) = stderr.recv_timeout(STDERR_GRACE) {
                let mut text = line;
                text.push('\n');
                append_pending(&stderr, &mut text);
                sink(StreamKind::Stderr, text);
            }
            // The flusher may have given up waiting; nothing to do then.
            let _ = done.send(());
            continue;
        }
        let (channel, kind) = if index == stdout_index {
            (&stdout, StreamKind::Stdout)
        } else if index == stderr_index {
            (&stderr, StreamKind::Stderr)
        } else {
            continue;
        };
        // A closed channel means the evcxr context is gone: the kernel is shutting down.
        let Ok(first) = operation.recv(channel) else {
            return;
        };
        let mut text = first;
        text.push('\n');
        append_pending(channel, &mut text);
        sink(kind, text);
    }
}

/// Appends lines already waiting in `channel`, up to the per-message limit.
fn append_pending(channel: &Receiver<String>, text: &mut String) {
    for line in channel.try_iter().take(MAX_LINES_PER_MESSAGE) {
        text.push_str(&line);
        text.push('\n');
    }
}

fn forward_pending(channel: &Receiver<String>, kind: StreamKind, sink: &StreamSink) {
    loop {
        let mut text = String::new();
        append_pending(channel, &mut text);
        if text.is_empty() {
            return;
        }
        sink(kind, text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_report_on_stderr_is_kept_only_while_armed() {
        let watch = PanicWatch::default();
        watch.observe("thread 'main' panicked at src/lib.rs:1:1:\nignored\n");
        watch.arm();
        watch.observe("some warning\n\nthread '<unnamed>' (7) panicked at src/lib.rs:3:5:\n");
        watch.observe("boom\n");
        assert_eq!(
            watch.disarm().as_deref(),
            Some("thread '<unnamed>' (7) panicked at src/lib.rs:3:5:\nboom\n")
        );
        assert_eq!(watch.disarm(), None);
    }
}
