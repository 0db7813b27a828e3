//! Unix signals: SIGINT interrupts the running cell (for clients using
//! `interrupt_mode: signal`), SIGTERM shuts the kernel down cleanly (socket dir removed,
//! the interpreter shut down).

use super::Stop;
use crate::interpreter::Interpreter;
use std::sync::Arc;
use tokio::signal::unix::{signal, SignalKind};

/// Turns every SIGINT into an interrupt of the running cell; runs until the process ends.
pub(crate) async fn interrupt_on_sigint<I: Interpreter>(interpreter: Arc<I>) {
    let mut interrupts = match signal(SignalKind::interrupt()) {
        Ok(interrupts) => interrupts,
        Err(error) => {
            eprintln!("flow-edge-kernel: cannot watch SIGINT: {error}");
            return;
        }
    };
    while interrupts.recv().await.is_some() {
        interpreter.interrupt();
    }
}

/// Resolves when SIGTERM arrives (never, if it cannot be watched).
pub(crate) async fn terminated() -> Stop {
    match signal(SignalKind::terminate()) {
        Ok(mut terminations) => {
            terminations.recv().await;
        }
        Err(error) => {
            eprintln!("flow-edge-kernel: cannot watch SIGTERM: {error}");
            std::future::pending::<()>().await;
        }
    }
    Stop::Shutdown
}
