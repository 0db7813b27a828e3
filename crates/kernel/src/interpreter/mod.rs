//! The interpreter side of the kernel: evcxr, and what a language kernel must answer.
//!
//! Like xeus' interpreter, this side knows nothing of sockets or message framing: the
//! protocol side calls it with code and gets plain Rust values back. evcxr's
//! `CommandContext` lives on one worker thread, created in the background so the kernel
//! answers `kernel_info` at once; requests queue until it is ready.

mod dep_rewrite;
mod errors;
mod is_complete;
mod lexer;
mod output_pump;
mod rich_output;
mod warm;

pub use dep_rewrite::workspace_root;
pub use errors::ErrorReport;
pub use is_complete::{is_complete, Completeness};
pub use output_pump::{StreamKind, StreamSink};
pub use rich_output::{Bundle, CellOutput};
pub use warm::compile_cell;

use output_pump::{OutputPump, PanicWatch};
use std::path::PathBuf;
use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock, PoisonError};
use tokio::sync::oneshot;

/// Completion candidates, with the replaced range in characters (Jupyter counts code points).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Completions {
    pub matches: Vec<String>,
    pub cursor_start: usize,
    pub cursor_end: usize,
}

/// Facts about the language for `kernel_info`.
pub struct LanguageFacts {
    pub name: &'static str,
    pub version: String,
    pub mimetype: &'static str,
    pub file_extension: &'static str,
    pub pygments_lexer: &'static str,
    pub codemirror_mode: &'static str,
}

enum Job {
    Execute {
        code: String,
        reply: oneshot::Sender<Result<CellOutput, ErrorReport>>,
    },
    Complete {
        code: String,
        cursor_byte: usize,
        reply: oneshot::Sender<Completions>,
    },
    /// Drop evcxr (its subprocess and its temporary build directory), then confirm.
    Stop { stopped: oneshot::Sender<()> },
}

/// State the control channel reads while the worker runs a cell.
#[derive(Default)]
struct Shared {
    subprocess: OnceLock<Arc<Mutex<Child>>>,
    /// True while a cell runs; the lock orders interrupts with the end of a cell.
    executing: Mutex<bool>,
    interrupted: AtomicBool,
    panics: Arc<PanicWatch>,
}

impl Shared {
    fn set_executing(&self, executing: bool) {
        *self
            .executing
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = executing;
    }
}

/// evcxr behind a queue of jobs.
pub struct Interpreter {
    jobs: mpsc::Sender<Job>,
    shared: Arc<Shared>,
}

impl Interpreter {
    /// Starts evcxr on its worker thread. Environment variables set before this call (the
    /// bridge socket) are inherited by evcxr's subprocess.
    pub fn start(sink: StreamSink, workspace: PathBuf) -> std::io::Result<Interpreter> {
        let (jobs, queue) = mpsc::channel();
        let shared = Arc::new(Shared::default());
        let worker_shared = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("flow-edge-evcxr".into())
            .spawn(move || run_worker(queue, worker_shared, sink, workspace))?;
        Ok(Interpreter { jobs, shared })
    }

    /// Runs one cell.
    pub async fn execute(&self, code: &str) -> Result<CellOutput, ErrorReport> {
        let (reply, answer) = oneshot::channel();
        let job = Job::Execute {
            code: code.to_owned(),
            reply,
        };
        if self.jobs.send(job).is_err() {
            return Err(worker_gone());
        }
        answer.await.unwrap_or_else(|_| Err(worker_gone()))
    }

    /// Completions at `cursor_pos` (in characters).
    pub async fn complete(&self, code: &str, cursor_pos: usize) -> Completions {
        let cursor_byte = code
            .char_indices()
            .nth(cursor_pos)
            .map_or(code.len(), |(byte, _)| byte);
        let (reply, answer) = oneshot::channel();
        let job = Job::Complete {
            code: code.to_owned(),
            cursor_byte,
            reply,
        };
        if self.jobs.send(job).is_err() {
            return Completions::default();
        }
        answer.await.unwrap_or_default()
    }

    /// Stops the running cell by killing evcxr's subprocess (evcxr restarts it); does
    /// nothing when no cell runs. Returns whether a cell was interrupted.
    pub fn interrupt(&self) -> bool {
        let executing = self
            .shared
            .executing
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if !*executing {
            return false;
        }
        self.shared.interrupted.store(true, Ordering::SeqCst);
        self.kill_subprocess();
        true
    }

    /// Shuts evcxr down cleanly: stops a running cell, then lets the worker drop evcxr, which
    /// ends its subprocess and removes its temporary build directory (hundreds of MB once
    /// crates were compiled). Gives up after `patience`.
    pub async fn stop(&self, patience: std::time::Duration) {
        self.kill_subprocess();
        let (stopped, confirmed) = oneshot::channel();
        if self.jobs.send(Job::Stop { stopped }).is_ok() {
            // Timeout or a vanished worker: the process ends anyway.
            let _ = tokio::time::timeout(patience, confirmed).await;
        }
    }

    /// Kills evcxr's subprocess.
    fn kill_subprocess(&self) {
        if let Some(subprocess) = self.shared.subprocess.get() {
            let mut child = subprocess.lock().unwrap_or_else(PoisonError::into_inner);
            if let Err(error) = child.kill() {
                eprintln!("flow-edge-kernel: cannot stop evcxr's subprocess: {error}");
            }
        }
    }

    /// What `kernel_info` says about Rust.
    pub fn language() -> LanguageFacts {
        static RUSTC_VERSION: OnceLock<String> = OnceLock::new();
        let version = RUSTC_VERSION.get_or_init(|| {
            std::process::Command::new("rustc")
                .arg("--version")
                .output()
                .ok()
                .and_then(|output| {
                    let text = String::from_utf8_lossy(&output.stdout).into_owned();
                    text.split_whitespace().nth(1).map(str::to_owned)
                })
                .unwrap_or_default()
        });
        LanguageFacts {
            name: "rust",
            version: version.clone(),
            mimetype: "text/rust",
            file_extension: ".rs",
            pygments_lexer: "rust",
            codemirror_mode: "rust",
        }
    }
}

fn worker_gone() -> ErrorReport {
    ErrorReport {
        ename: "KernelError".into(),
        evalue: "the evcxr worker thread stopped".into(),
        traceback: vec!["the evcxr worker thread stopped".into()],
    }
}

fn run_worker(
    queue: mpsc::Receiver<Job>,
    shared: Arc<Shared>,
    sink: StreamSink,
    workspace: PathBuf,
) {
    let (mut context, pump) = match evcxr::CommandContext::new() {
        Ok((context, outputs)) => {
            let pump = OutputPump::start(outputs, sink, Arc::clone(&shared.panics));
            // Set once, right here; the handle stays valid across evcxr's restarts.
            let _ = shared.subprocess.set(context.process_handle());
            (context, pump)
        }
        Err(error) => return refuse_all(queue, &error.to_string()),
    };
    for job in queue {
        match job {
            Job::Execute { code, reply } => {
                let outcome = execute(&mut context, &pump, &shared, &code, &workspace);
                // The requester may have gone (shutdown); the outcome has nowhere to go then.
                let _ = reply.send(outcome);
            }
            Job::Complete {
                code,
                cursor_byte,
                reply,
            } => {
                let _ = reply.send(complete(&mut context, &code, cursor_byte));
            }
            Job::Stop { stopped } => {
                drop(context);
                drop(pump);
                // Whoever asked may have stopped waiting.
                let _ = stopped.send(());
                return;
            }
        }
    }
}

fn execute(
    context: &mut evcxr::CommandContext,
    pump: &OutputPump,
    shared: &Shared,
    code: &str,
    workspace: &std::path::Path,
) -> Result<CellOutput, ErrorReport> {
    let code = dep_rewrite::rewrite(code, workspace);
    shared.interrupted.store(false, Ordering::SeqCst);
    shared.panics.arm();
    shared.set_executing(true);
    let result = context.execute(&code);
    shared.set_executing(false);
    pump.flush();
    let panic = shared.panics.disarm();
    let interrupted = shared.interrupted.swap(false, Ordering::SeqCst);
    match (result, panic) {
        (Err(error), _) => Err(errors::report(&error, interrupted)),
        (Ok(outputs), panic) => {
            if interrupted {
                restart_if_killed(context, shared);
            }
            match panic {
                Some(report) => Err(errors::panic_report(&report)),
                None => Ok(rich_output::cell_output(&code, outputs)),
            }
        }
    }
}

/// An interrupt that arrived as the cell finished may have killed the idle subprocess;
/// restart it now rather than fail the next cell.
fn restart_if_killed(context: &mut evcxr::CommandContext, shared: &Shared) {
    let exited = shared.subprocess.get().is_some_and(|subprocess| {
        let mut child = subprocess.lock().unwrap_or_else(PoisonError::into_inner);
        matches!(child.try_wait(), Ok(Some(_)))
    });
    if exited {
        if let Err(error) = context.execute(":restart") {
            eprintln!("flow-edge-kernel: restarting evcxr's subprocess failed: {error}");
        }
    }
}

fn complete(context: &mut evcxr::CommandContext, code: &str, cursor_byte: usize) -> Completions {
    let Ok(found) = context.completions(code, cursor_byte) else {
        return Completions::default();
    };
    let to_chars = |byte: usize| code.get(..byte).map_or(0, |prefix| prefix.chars().count());
    Completions {
        matches: found
            .completions
            .into_iter()
            .map(|completion| completion.code)
            .collect(),
        cursor_start: to_chars(found.start_offset),
        cursor_end: to_chars(found.end_offset),
    }
}

/// evcxr could not start: every cell gets the reason.
fn refuse_all(queue: mpsc::Receiver<Job>, reason: &str) {
    eprintln!("flow-edge-kernel: evcxr failed to start: {reason}");
    for job in queue {
        match job {
            Job::Execute { reply, .. } => {
                let _ = reply.send(Err(ErrorReport {
                    ename: "EvcxrStartFailed".into(),
                    evalue: reason.to_owned(),
                    traceback: reason.lines().map(str::to_owned).collect(),
                }));
            }
            Job::Complete { reply, .. } => {
                let _ = reply.send(Completions::default());
            }
            Job::Stop { stopped } => {
                let _ = stopped.send(());
                return;
            }
        }
    }
}
