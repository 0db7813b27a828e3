//! Compiling cells once outside a notebook, so the build folder holds their crates.
//!
//! `flow-edge-kernel install` runs the shipped notebooks' `:dep` cells here, in a build cache
//! slot, so the first open after installing finds the library compiled.

use super::dep_rewrite;
use std::fmt;
use std::path::Path;

/// A warm-up cell that evcxr could not run, with evcxr's words.
#[derive(Debug)]
pub struct WarmError {
    pub cell: String,
    pub reason: String,
}

impl fmt::Display for WarmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "warming `{}` failed: {}", self.cell, self.reason)
    }
}

impl std::error::Error for WarmError {}

/// Runs `cell` in a new evcxr context building in `EVCXR_TMPDIR` (set by the caller), with
/// bare workspace `:dep`s resolved against `workspace`. One context per cell: each notebook
/// starts with only its own `:dep`s, and cargo keys artifacts by the features a build asks
/// for, so a cell warmed beside another notebook's `:dep`s might warm the wrong build.
pub fn compile_cell(cell: &str, workspace: &Path) -> Result<(), WarmError> {
    let failed = |reason: String| WarmError {
        cell: cell.lines().next().unwrap_or_default().to_owned(),
        reason,
    };
    let (mut context, outputs) =
        evcxr::CommandContext::new().map_err(|error| failed(error.to_string()))?;
    // evcxr does not return from `execute` until its output channels are drained.
    let drains = [outputs.stdout, outputs.stderr]
        .map(|lines| std::thread::spawn(move || for _ in lines.iter() {}));
    let result = context.execute(&dep_rewrite::rewrite(cell, workspace));
    drop(context);
    for drain in drains {
        let _ = drain.join();
    }
    result.map(drop).map_err(|error| failed(error.to_string()))
}
