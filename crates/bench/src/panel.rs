//! `flow-edge-panel-bench`: what the investigation panel's callbacks cost, in process, on
//! seeded generated days: building the preview index, the live preview as the selection
//! changes, a scoring from the panel (with the index refresh) and its undo (the median of
//! five of each: they write in place and wait for the disk; the day is flushed to disk
//! before the clock starts, as a day an analyst opens was written long before).
//!
//! ```text
//! cargo run --release -p flow-edge-bench --bin flow-edge-panel-bench -- \
//!     [--sizes 10000,1000000] [--work bench/out/panel] [--open]
//! ```
//!
//! With `--open` it measures opening instead: five opens of a fresh copy of each day with
//! live widgets, the median time from `panel_with` to a usable panel (the four listboxes
//! filled, Score enabled), then until the preview index is ready, and a scoring right after;
//! and, on another fresh copy, what the opening is made of (the rules pass, the listbox
//! fill, the index build).
//!
//! The browser side (click to status, Run All to a usable panel) is measured by
//! `bench/panel_browser.mjs`.

#[path = "sizes.rs"]
mod sizes;

use flow_edge::panel::{PanelOptions, UploadSettings};
use flow_edge::synthetic::{generate, DaySpec};
use flow_edge::{ApplyOptions, Day, RuleSet, Selection};
use sizes::parse_sizes;
use std::fs;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

struct Options {
    sizes: Vec<usize>,
    work: PathBuf,
    open: bool,
}

fn parse_options(arguments: &[String]) -> Result<Options, String> {
    let mut options = Options {
        sizes: vec![10_000, 1_000_000],
        work: Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/out/panel"),
        open: false,
    };
    let mut rest = arguments.iter();
    while let Some(flag) = rest.next() {
        if flag == "--open" {
            options.open = true;
            continue;
        }
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

/// Writes a seeded day of `size` rows into a fresh `dir`, flushed to disk.
fn generate_day(size: usize, dir: &Path) -> Result<(), String> {
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let file = fs::File::create(dir.join("flow_scores.csv")).map_err(|e| e.to_string())?;
    let mut out = BufWriter::new(file);
    generate(&DaySpec::new(size, 1), &mut out).map_err(|e| e.to_string())?;
    // On disk before the clock starts, as a day an analyst opens was written long before: a
    // scoring in place flushes the file, which would otherwise write the whole new day.
    let file = out.into_inner().map_err(|e| e.to_string())?;
    file.sync_all().map_err(|e| e.to_string())?;
    Ok(())
}

/// A fresh copy of the day in `pristine`, flushed to disk, as `dir`.
fn copy_day(pristine: &Path, dir: &Path) -> Result<Day, String> {
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let to = dir.join("flow_scores.csv");
    fs::copy(pristine.join("flow_scores.csv"), &to).map_err(|e| e.to_string())?;
    fs::File::open(&to)
        .and_then(|file| file.sync_all())
        .map_err(|e| e.to_string())?;
    Day::open(dir).map_err(|e| e.to_string())
}

fn panel_options(dir: &Path, interactive: bool) -> PanelOptions {
    PanelOptions {
        upload: UploadSettings {
            spot_conf: Some(dir.join("no-spot.conf")),
            ..UploadSettings::default()
        },
        interactive,
        ..PanelOptions::default()
    }
}

/// Opens of a fresh copy timed per size.
const OPENS: usize = 5;

/// One row of the opening table.
fn measure_open(size: usize, work: &Path) -> Result<String, String> {
    let pristine = work.join(format!("day-{size}"));
    generate_day(size, &pristine)?;
    let run = work.join(format!("open-{size}"));
    let (mut usable, mut ready, mut scores) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..OPENS {
        let day = copy_day(&pristine, &run)?;
        let (panel, open) = timed(|| day.panel_with(panel_options(&run, true)));
        let panel = panel.map_err(|e| e.to_string())?;
        let (_, index) = timed(|| panel.wait_for_index(Duration::from_secs(60)));
        let first = Selection::new().src_ip(panel.lists().src_ips[0].clone());
        let (report, score) = timed(|| panel.score(&first, 1));
        report.map_err(|e| e.to_string())?;
        usable.push(open);
        ready.push(open + index);
        scores.push(score);
    }
    for list in [&mut usable, &mut ready, &mut scores] {
        list.sort();
    }
    // What opening is made of, one part at a time on a fresh copy.
    let day = copy_day(&pristine, &run)?;
    let (rules, rules_took) =
        timed(|| flow_edge::apply_rules(&day, &RuleSet::original(), ApplyOptions::default()));
    rules.map_err(|e| e.to_string())?;
    let (lists, lists_took) = timed(|| day.listbox_values());
    let lists = lists.map_err(|e| e.to_string())?;
    let mut options = panel_options(&run, false);
    options.rules_on_open = false;
    let panel = day.panel_with(options).map_err(|e| e.to_string())?;
    let first = Selection::new().src_ip(lists.src_ips[0].clone());
    let (built, index_took) = timed(|| panel.preview(&first));
    built.map_err(|e| e.to_string())?;
    drop(panel);
    fs::remove_dir_all(&run).map_err(|e| e.to_string())?;
    fs::remove_dir_all(&pristine).map_err(|e| e.to_string())?;
    Ok(format!(
        "| {size} | {} ({}–{}) | {} | {} | {} | {} | {} |",
        millis(percentile(&usable, 0.5)),
        millis(usable[0]),
        millis(usable[OPENS - 1]),
        millis(percentile(&ready, 0.5)),
        millis(percentile(&scores, 0.5)),
        millis(rules_took),
        millis(lists_took),
        millis(index_took),
    ))
}

/// One row of the results table.
fn measure(size: usize, work: &Path) -> Result<String, String> {
    let dir = work.join(format!("day-{size}"));
    generate_day(size, &dir)?;
    let day = Day::open(&dir).map_err(|e| e.to_string())?;
    let options = panel_options(&dir, false);
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
    if options.open {
        println!("| rows | open to usable panel ms, p50 (min–max) | open to index ready ms, p50 | score right after ms, p50 | rules pass ms | listbox fill ms | index build ms |");
        println!("|---:|---:|---:|---:|---:|---:|---:|");
        for size in options.sizes {
            match measure_open(size, &options.work) {
                Ok(line) => println!("{line}"),
                Err(error) => {
                    eprintln!("flow-edge-panel-bench: {size} rows: {error}");
                    return ExitCode::from(1);
                }
            }
        }
        return ExitCode::SUCCESS;
    }
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
