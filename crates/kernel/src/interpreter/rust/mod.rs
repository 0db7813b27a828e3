//! Rust cells on evcxr: the interpreter the kernel runs for its users.
//!
//! evcxr's `CommandContext` lives on one worker thread ([`worker`]), created in the
//! background so the kernel answers `kernel_info` at once; requests queue until it is ready.
//! This handle sends that thread jobs and reads the state the control channel needs while a
//! cell runs (is one running, evcxr's subprocess to kill).

mod dep_rewrite;
mod errors;
mod is_complete;
mod lexer;
mod output_pump;
mod plain_display;
mod rich_output;
mod std_library;
mod warm;
mod worker;

pub use dep_rewrite::workspace_root;
pub use std_library::expose_to_cells as expose_std_library_to_cells;
pub use warm::compile_cell;

use super::{
    CellOutput, Completeness, Completions, ErrorReport, HelpLink, Interpreter, InterpreterInfo,
    LanguageFacts, StreamSink,
};
use output_pump::PanicWatch;
use std::path::PathBuf;
use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;
use tokio::sync::oneshot;

/// What the worker thread is asked to do.
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
pub struct RustInterpreter {
    jobs: mpsc::Sender<Job>,
    shared: Arc<Shared>,
}

impl RustInterpreter {
    /// Starts evcxr on its worker thread; bare `:dep flow_edge…` lines resolve under
    /// `workspace`. Environment variables set before this call (the bridge socket) are
    /// inherited by evcxr's subprocess.
    pub fn start(sink: StreamSink, workspace: PathBuf) -> std::io::Result<RustInterpreter> {
        let (jobs, queue) = mpsc::channel();
        let shared = Arc::new(Shared::default());
        let worker_shared = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("flow-edge-evcxr".into())
            .spawn(move || worker::run(queue, worker_shared, sink, workspace))?;
        Ok(RustInterpreter { jobs, shared })
    }

    /// Queues `code` ahead of every cell sent later; its output goes to the sink like a
    /// cell's, a failure only to the kernel's log.
    pub fn run_before_cells(&self, code: &str) {
        let (reply, answer) = oneshot::channel();
        let job = Job::Execute {
            code: code.to_owned(),
            reply,
        };
        if self.jobs.send(job).is_err() {
            return;
        }
        let code = code.to_owned();
        std::thread::spawn(move || {
            if let Ok(Err(report)) = answer.blocking_recv() {
                eprintln!("flow-edge-kernel: `{code}` failed: {}", report.evalue);
            }
        });
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
}

impl Interpreter for RustInterpreter {
    async fn execute(&self, code: &str) -> Result<CellOutput, ErrorReport> {
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

    fn is_complete(&self, code: &str) -> Completeness {
        is_complete::is_complete(code)
    }

    async fn complete(&self, code: &str, cursor_pos: usize) -> Completions {
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

    fn info(&self) -> InterpreterInfo {
        InterpreterInfo {
            language: LanguageFacts {
                name: "rust",
                version: rustc_version().to_owned(),
                mimetype: "text/rust",
                file_extension: ".rs",
                pygments_lexer: "rust",
                codemirror_mode: "rust",
            },
            banner: format!(
                "flow-edge {}: Rust on evcxr with ipywidgets comms",
                env!("CARGO_PKG_VERSION")
            ),
            help_links: vec![HelpLink {
                text: "evcxr",
                url: "https://github.com/evcxr/evcxr",
            }],
        }
    }

    /// Stops the running cell by killing evcxr's subprocess (evcxr restarts it).
    fn interrupt(&self) -> bool {
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

    /// Stops a running cell, then lets the worker drop evcxr, which ends its subprocess and
    /// removes its temporary build directory (hundreds of MB once crates were compiled).
    async fn shutdown(&self, patience: Duration) {
        self.kill_subprocess();
        let (stopped, confirmed) = oneshot::channel();
        if self.jobs.send(Job::Stop { stopped }).is_ok() {
            // Timeout or a vanished worker: the process ends anyway.
            let _ = tokio::time::timeout(patience, confirmed).await;
        }
    }
}

/// The version of the `rustc` evcxr compiles with, asked once.
fn rustc_version() -> &'static str {
    static RUSTC_VERSION: OnceLock<String> = OnceLock::new();
    RUSTC_VERSION.get_or_init(|| {
        std::process::Command::new("rustc")
            .arg("--version")
            .output()
            .ok()
            .and_then(|output| {
                let text = String::from_utf8_lossy(&output.stdout).into_owned();
                text.split_whitespace().nth(1).map(str::to_owned)
            })
            .unwrap_or_default()
    })
}

fn worker_gone() -> ErrorReport {
    ErrorReport {
        ename: "KernelError".into(),
        evalue: "the evcxr worker thread stopped".into(),
        traceback: vec!["the evcxr worker thread stopped".into()],
    }
}
