//! The evcxr worker thread: where evcxr's `CommandContext` is created and lives.
//!
//! evcxr's context is not shared between threads, so every job runs here, in order. The
//! thread owns the context until a `Stop` job (or the end of the queue) drops it.

use super::output_pump::OutputPump;
use super::plain_display::{self, DisplaySettings, PlainDisplay, Step};
use super::{dep_rewrite, errors, rich_output, Job, Shared};
use crate::interpreter::{CellOutput, Completions, ErrorReport, StreamSink};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, TryRecvError};
use std::sync::{Arc, PoisonError};

/// Creates evcxr's context (which starts its subprocess) and serves jobs until `Stop`.
pub(super) fn run(
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
    let mut plain_display = PlainDisplay::default();
    loop {
        let job = match queue.try_recv() {
            Ok(job) => job,
            Err(TryRecvError::Disconnected) => return,
            Err(TryRecvError::Empty) => {
                take_display_step(&mut context, &mut plain_display, true);
                match queue.recv() {
                    Ok(job) => job,
                    Err(_) => return,
                }
            }
        };
        match job {
            Job::Execute { code, reply } => {
                let outcome = execute(
                    &mut context,
                    &pump,
                    &shared,
                    &code,
                    &workspace,
                    &mut plain_display.settings,
                );
                // The requester may have gone (shutdown); the outcome has nowhere to go then.
                let _ = reply.send(outcome);
                // A withdrawal is due before the next cell shows a value.
                take_display_step(&mut context, &mut plain_display, false);
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
    workspace: &Path,
    display_settings: &mut DisplaySettings,
) -> Result<CellOutput, ErrorReport> {
    let code = dep_rewrite::rewrite(code, workspace);
    shared.interrupted.store(false, Ordering::SeqCst);
    shared.panics.arm();
    shared.set_executing(true);
    let result = context.execute(&code);
    shared.set_executing(false);
    if let Ok(outputs) = &result {
        if changes_display_settings(&code) {
            if let Some(text) = outputs.content_by_mime_type.get("text/plain") {
                display_settings.observe(text);
            }
        }
    }
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

/// Whether `code` runs evcxr's `:fmt` or `:types`, whose replies say the new settings.
fn changes_display_settings(code: &str) -> bool {
    code.lines().any(|line| {
        let command = line.split_whitespace().next();
        matches!(command, Some(":fmt" | ":types"))
    })
}

/// Defines or withdraws the plain display trait when due (see [`super::plain_display`]). Its
/// cell shows nothing and cannot be interrupted: it is not the user's.
fn take_display_step(context: &mut evcxr::CommandContext, display: &mut PlainDisplay, idle: bool) {
    let defined = context
        .defined_item_names()
        .any(|name| name == plain_display::TRAIT_NAME);
    let Some(step) = display.next_step(defined, idle) else {
        return;
    };
    let code = match step {
        Step::Define => plain_display::DEFINITION,
        Step::Withdraw => plain_display::WITHDRAWAL,
    };
    let result = context.execute(code);
    if let Err(error) = &result {
        eprintln!("flow-edge-kernel: {step:?} the plain display trait failed: {error}");
    }
    display.step_done(step, result.is_ok());
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
