//! `flow-edge-panel-bench`: what the investigation panel's callbacks cost, in process, on
//! seeded generated days: building the preview index, the live preview as the selection
//! changes, a scoring from the panel (with the index refresh) and its undo (the median of
//! five of each: they write in place and wait for the disk; the day is flushed to disk
//! before the clock starts, as a day an analyst opens was written long before).
//!
//! ```text
//! cargo run --release -p flow-edge-bench --bin flow-edge-panel-bench -- \
//!     [--sizes 10000,1000000] [--work bench/out/panel]
//! ```
//!
//! The browser side (click to status, Run All to a usable panel) is measured by
//! `bench/panel_browser.mjs`.

#[path = "sizes.rs"]
mod sizes;

use flow_edge::panel::{PanelOptions, UploadSettings};
use flow_edge::synthetic::{generate, DaySpec};
use flow_edge::{Day, Selection};
use sizes::parse_sizes;
use std::fs;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

struct Options {
    sizes: Vec<usize>,
    work: PathBuf,
}

fn parse_options(arguments: &[String]) -> Result<Options, String> {
    let mut options = Options {
        sizes: vec![10_000, 1_000_000],
        work: Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/out/panel"),
    };
    let mut rest = arguments.iter();
    while let Some(flag) = rest.next() {
        let value = rest.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--sizes" => options.sizes = parse_sizes(value)?,
            "--work" => options.work = PathBuf::from(value),
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    Ok(options)
}

/// Resident memory of this process now, from /proc (0 where unavailable).
fn resident_bytes() -> u64 {
    status_bytes("VmRSS:")
}

/// The most this process has held resident so far.
fn peak_resident_bytes() -> u64 {
    status_bytes("VmHWM:")
}

/// A size in kB from /proc/self/status, in bytes (0 where unavailable).
fn status_bytes(field: &str) -> u64 {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kib| kib * 1024)
}

fn millis(duration: Duration) -> String {
    format!("{:.1}", duration.as_secs_f64() * 1000.0)
}

/// Scorings (each undone) timed per size.
const CYCLES: usize = 5;

fn percentile(sorted: &[Duration], share: f64) -> Duration {
    let at = ((sorted.len() as f64 - 1.0) * share).round() as usize;
    sorted.get(at).copied().unwrap_or_default()
}

fn timed<T>(work: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    let value = work();
    (value, started.elapsed())
}

/// One row of the results table.
fn measure(size: usize, work: &Path) -> Result<String, String> {
    let dir = work.join(format!("day-{size}"));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let file = fs::File::create(dir.join("flow_scores.csv")).map_err(|e| e.to_string())?;
    let mut out = BufWriter::new(file);
    generate(&DaySpec::new(size, 1), &mut out).map_err(|e| e.to_string())?;
    // On disk before the clock starts, as a day an analyst opens was written long before: a
    // scoring in place flushes the file, which would otherwise write the whole new day.
    let file = out.into_inner().map_err(|e| e.to_string())?;
    file.sync_all().map_err(|e| e.to_string())?;
    drop(file);

    let day = Day::open(&dir).map_err(|e| e.to_string())?;
    let options = PanelOptions {
        upload: UploadSettings {
            spot_conf: Some(dir.join("no-spot.conf")),
            ..UploadSettings::default()
        },
        interactive: false,
        ..PanelOptions::default()
    };
    let (panel, open) = timed(|| day.panel_with(options));
    let panel = panel.map_err(|e| e.to_string())?;
    let lists = panel.lists();
    let memory_before = resident_bytes();
    let first = Selection::new().src_ip(lists.src_ips[0].clone());
    let (built, index_build) = timed(|| panel.preview(&first));
    built.map_err(|e| e.to_string())?;
    let index_memory = resident_bytes().saturating_sub(memory_before);

    let mut selections = Vec::new();
    for ip in lists.src_ips.iter().take(40) {
        selections.push(Selection::new().src_ip(ip.clone()));
        selections.push(Selection::new().quick_ip(ip.clone()));
    }
    for port in lists.dports.iter().take(20) {
        selections.push(Selection::new().dport(port.clone()));
    }
    let mut previews = Vec::new();
    for selection in &selections {
        let (preview, took) = timed(|| panel.preview(selection));
        preview.map_err(|e| e.to_string())?;
        previews.push(took);
    }
    previews.sort();

    // Score and undo, a few times over: the median, as each waits for the disk a few times.
    let mut scores = Vec::new();
    let mut undos = Vec::new();
    let mut scored = None;
    let mut preview_after_score = Duration::ZERO;
    for cycle in 0..CYCLES {
        let (report, score) = timed(|| panel.score(&first, 1));
        scored = Some(report.map_err(|e| e.to_string())?);
        scores.push(score);
        if cycle == 0 {
            let (after, took) = timed(|| panel.preview(&first));
            after.map_err(|e| e.to_string())?;
            preview_after_score = took;
        }
        let (undone, undo) = timed(|| panel.undo());
        undone.map_err(|e| e.to_string())?;
        undos.push(undo);
    }
    let scored = scored.unwrap_or_default();
    scores.sort();
    undos.sort();
    let (score, undo) = (percentile(&scores, 0.5), percentile(&undos, 0.5));
    let file_mib = fs::metadata(dir.join("flow_scores.csv"))
        .map(|m| m.len() as f64 / (1 << 20) as f64)
        .unwrap_or(0.0);
    fs::remove_dir_all(&dir).map_err(|e| e.to_string())?;
    let peak_mib = peak_resident_bytes() as f64 / (1 << 20) as f64;
    Ok(format!(
        "| {size} | {file_mib:.0} | {} | {} | {:.0} | {} | {} | {} | {} | {} ({} rows) | {} | {} | {peak_mib:.0} |",
        millis(open),
        millis(index_build),
        index_memory as f64 / (1 << 20) as f64,
        previews.len(),
        millis(percentile(&previews, 0.5)),
        millis(percentile(&previews, 0.95)),
        millis(previews.last().copied().unwrap_or_default()),
        millis(score),
        scored.scored,
        millis(preview_after_score),
        millis(undo),
    ))
}

fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse_options(&arguments) {
        Ok(options) => options,
        Err(error) => {
            eprintln!("flow-edge-panel-bench: {error}");
            return ExitCode::from(2);
        }
    };
    println!("| rows | file MiB | panel open ms | index build ms | index MiB | previews | preview p50 ms | preview p95 ms | preview max ms | score from panel ms | preview after score ms | undo ms | peak RSS MiB |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for size in options.sizes {
        match measure(size, &options.work) {
            Ok(line) => println!("{line}"),
            Err(error) => {
                eprintln!("flow-edge-panel-bench: {size} rows: {error}");
                return ExitCode::from(1);
            }
        }
    }
    ExitCode::SUCCESS
}
