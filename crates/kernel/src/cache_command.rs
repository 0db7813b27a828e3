//! `flow-edge-kernel cache [clear]` and the warm-up `install` runs: the build cache as the
//! user sees it.

use crate::build_cache::{human_bytes, Cache, CacheError, Settings, EVCXR_TMPDIR};
use crate::interpreter::rust as rust_interpreter;
use std::path::Path;
use std::time::{Instant, SystemTime};

/// The cells a warm-up compiles: the `:dep`s the shipped notebooks open with
/// (`Edge_Investigation.ipynb`, `widgets_demo.ipynb`).
const WARM_CELLS: [&str; 2] = [
    ":dep flow_edge\nlet _ = ();",
    ":dep flow_edge_widgets\nlet _ = ();",
];

/// The cache from the environment, or why there is none.
fn configured() -> Result<Option<Cache>, CacheError> {
    Ok(Settings::from_env()?.map(Cache::new))
}

/// `cache`: the root, the bound, and each slot's size and state.
pub fn show() -> anyhow::Result<()> {
    let Some(cache) = configured()? else {
        println!("build cache off ({}=off)", crate::build_cache::ROOT_ENV);
        return Ok(());
    };
    let usage = cache.usage()?;
    let total: u64 = usage.iter().map(|slot| slot.bytes).sum();
    println!(
        "build cache {}: {} used, limit {}",
        cache.settings().root.display(),
        human_bytes(total),
        human_bytes(cache.settings().limit_bytes)
    );
    for slot in usage {
        let state = if slot.in_use { "in use" } else { "idle" };
        let age = slot
            .last_used
            .and_then(|at| SystemTime::now().duration_since(at).ok())
            .map_or_else(
                || String::from("never used"),
                |age| format!("used {} ago", ago(age.as_secs())),
            );
        println!(
            "slot-{}  {:>10}  {state:<6}  {age}",
            slot.index,
            human_bytes(slot.bytes)
        );
    }
    Ok(())
}

fn ago(seconds: u64) -> String {
    match seconds {
        0..=119 => format!("{seconds} s"),
        120..=7199 => format!("{} min", seconds / 60),
        7200..=172_799 => format!("{} h", seconds / 3600),
        _ => format!("{} days", seconds / 86_400),
    }
}

/// `cache clear`: removes every idle slot's folder and names the busy ones.
pub fn clear() -> anyhow::Result<()> {
    let Some(cache) = configured()? else {
        println!("build cache off ({}=off)", crate::build_cache::ROOT_ENV);
        return Ok(());
    };
    let outcome = cache.clear()?;
    if outcome.cleared.is_empty() && outcome.busy.is_empty() {
        println!(
            "build cache {}: nothing to clear",
            cache.settings().root.display()
        );
    }
    for (index, freed) in &outcome.cleared {
        println!("slot-{index}: cleared ({})", human_bytes(*freed));
    }
    for index in &outcome.busy {
        println!("slot-{index}: in use by a kernel, kept");
    }
    Ok(())
}

/// `install`'s warm-up: compiles the notebooks' `:dep` crates in a free slot, so the first
/// open is warm. A cache that is off or busy, or a warm-up that fails, is reported and
/// skipped, not an error: the kernelspec is installed either way.
pub fn warm(workspace: &Path) -> anyhow::Result<()> {
    let Some(cache) = configured()? else {
        println!("Build cache off: nothing to warm");
        return Ok(());
    };
    let Some(slot) = cache.acquire()? else {
        println!("All build cache slots are busy: not warming");
        return Ok(());
    };
    // Only this thread runs; evcxr reads the variable when each context starts.
    std::env::set_var(EVCXR_TMPDIR, slot.dir());
    rust_interpreter::expose_std_library_to_cells();
    println!(
        "Warming the build cache in {} (minutes the first time; `--no-warm` skips)",
        slot.dir().display()
    );
    for cell in WARM_CELLS {
        let started = Instant::now();
        let first_line = cell.lines().next().unwrap_or_default();
        if let Err(error) = rust_interpreter::compile_cell(cell, workspace) {
            // The kernelspec is installed; a cold cache only makes the first open slower.
            eprintln!("flow-edge-kernel: {error}; the first open will build the library instead");
            return Ok(());
        }
        println!("  {first_line}: {:.1} s", started.elapsed().as_secs_f64());
    }
    Ok(())
}
