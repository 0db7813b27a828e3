//! `flow-edge-bench`: the engine side by side with the Python reference port
//! of the original notebook and with the physical floor (a durable copy of the
//! same file with `dd conv=fsync`, and `cp`), on seeded generated days.
//!
//! Every figure is a child process measured with `wait4` (wall time and peak
//! resident memory). The engine's children are this binary re-run with
//! `--engine-child`, so the engine is measured as a process, like Python.
//!
//! ```text
//! cargo run --release -p flow-edge-bench --bin flow-edge-bench -- \
//!     [--sizes 10000,100000,1000000] [--runs 3] [--work bench/out] [--markdown FILE] \
//!     [--only score,save] [--before OLD-flow-edge-bench]
//! ```
//!
//! `--only` keeps the scenarios whose names contain one of the words. `--before` names the
//! bench binary of an earlier build: its engine runs the same scenarios in the same run, each
//! of its runs right after the new engine's (so both meet the same load), in columns of its
//! own.

mod measure;
mod sizes;

use flow_edge::synthetic::{generate, DaySpec};
use flow_edge::{Day, Selection};
use measure::Measurement;
use sizes::parse_sizes;
use std::fmt::Write as _;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

/// Command-line options.
struct Options {
    sizes: Vec<usize>,
    runs: usize,
    work: PathBuf,
    reference: PathBuf,
    markdown: Option<PathBuf>,
    /// Words of the scenario names to run (all when empty).
    only: Vec<String>,
    /// The bench binary of an earlier build, to run side by side.
    before: Option<PathBuf>,
}

fn parse_options(arguments: &[String]) -> Result<Options, String> {
    let repository = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut options = Options {
        sizes: vec![10_000, 100_000, 1_000_000],
        runs: 3,
        work: repository.join("bench/out"),
        reference: repository.join("bench/reference/flow_notebook.py"),
        markdown: None,
        only: Vec::new(),
        before: None,
    };
    let mut rest = arguments.iter();
    while let Some(flag) = rest.next() {
        let mut value = || {
            rest.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--sizes" => options.sizes = parse_sizes(&value()?)?,
            "--runs" => options.runs = value()?.parse().map_err(|_| "bad --runs".to_owned())?,
            "--work" => options.work = PathBuf::from(value()?),
            "--reference" => options.reference = PathBuf::from(value()?),
            "--markdown" => options.markdown = Some(PathBuf::from(value()?)),
            "--only" => options.only = value()?.split(',').map(str::to_owned).collect(),
            "--before" => options.before = Some(PathBuf::from(value()?)),
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    Ok(options)
}

/// The child side: one engine operation on a day, as a notebook would run it.
fn engine_child(arguments: &[String]) -> Result<(), String> {
    let [operation, dir, rest @ ..] = arguments else {
        return Err("--engine-child needs an operation and a folder".to_owned());
    };
    let day = Day::open(dir).map_err(|e| e.to_string())?;
    let value = || rest.first().cloned().unwrap_or_default();
    let outcome = match operation.as_str() {
        "lists" => day.listbox_values().map(|_| ()),
        "score-src" => day.score(&Selection::new().src_ip(value()), 3).map(|_| ()),
        "score-ip" => day
            .score(&Selection::new().quick_ip(value()), 3)
            .map(|_| ()),
        "save" => day.save_and_sort().map(|_| ()),
        other => return Err(format!("unknown engine operation {other:?}")),
    };
    outcome.map_err(|e| e.to_string())
}

/// One scenario: the engine's operation and the reference's arguments.
struct Scenario {
    name: &'static str,
    engine: Vec<String>,
    python: Vec<String>,
    /// The day it starts from.
    day: Start,
}

/// The day a scenario starts from.
#[derive(Clone, Copy)]
enum Start {
    /// As generated: unscored, in score order, as the OA step writes it.
    Fresh,
    /// After a session: one row in twenty scored, spread over the file.
    AfterSession,
}

/// One line of the results table.
struct Line {
    size: usize,
    file_bytes: u64,
    scenario: &'static str,
    engine: Measurement,
    /// The earlier build's engine (`--before`).
    before: Option<Measurement>,
    /// `None` when the reference failed (its error is on stderr).
    python: Option<Measurement>,
    dd: Measurement,
    cp: Measurement,
}

/// A day folder with the generated flows and their backup.
struct Prepared {
    original: PathBuf,
    /// The same day after a session (see [`Start::AfterSession`]).
    after_session: PathBuf,
    run: PathBuf,
    file_bytes: u64,
    src_ip: String,
    quick_ip: String,
}

fn prepare(options: &Options, size: usize) -> Result<Prepared, String> {
    let base = options.work.join(format!("day-{size}-v2"));
    let original = base.join("original");
    let flow = original.join("flow_scores.csv");
    if !flow.exists() {
        fs::create_dir_all(&original).map_err(|e| e.to_string())?;
        let mut out = BufWriter::new(fs::File::create(&flow).map_err(|e| e.to_string())?);
        let mut spec = DaySpec::new(size, 42);
        // The reference crashes on a double quote inside a fed-back field.
        spec.inner_quotes = false;
        generate(&spec, &mut out)
            .and_then(|()| out.flush())
            .map_err(|e| e.to_string())?;
    }
    let day = Day::open(&original).map_err(|e| e.to_string())?;
    let lists = day.listbox_values().map_err(|e| e.to_string())?;
    let after_session = base.join("after-session");
    if !after_session.join("flow_scores.csv").exists() {
        write_after_session(&flow, &after_session)?;
    }
    let file_bytes = fs::metadata(&flow).map_err(|e| e.to_string())?.len();
    Ok(Prepared {
        original,
        after_session,
        run: base.join("run"),
        file_bytes,
        src_ip: lists.src_ips.first().cloned().unwrap_or_default(),
        quick_ip: lists.dst_ips.first().cloned().unwrap_or_default(),
    })
}

/// Writes the day `flow` as it is after a session into the folder `to`
/// (flows and backup): every row whose number hashes to 0 modulo 20 gets
/// severity 1, 2 or 3 (generated rows start with their `sev`, `0`). Streams,
/// so that this process stays small: a child's peak memory as `wait4`
/// reports it includes its parent's at the time of the spawn.
fn write_after_session(flow: &Path, to: &Path) -> Result<(), String> {
    use std::io::BufRead;
    fs::create_dir_all(to).map_err(|e| e.to_string())?;
    let scored = to.join("flow_scores.csv");
    let mut input = std::io::BufReader::new(fs::File::open(flow).map_err(|e| e.to_string())?);
    let mut out = BufWriter::new(fs::File::create(&scored).map_err(|e| e.to_string())?);
    let mut line = Vec::new();
    for number in 0u64.. {
        line.clear();
        if input
            .read_until(b'\n', &mut line)
            .map_err(|e| e.to_string())?
            == 0
        {
            break;
        }
        let spread = number.wrapping_mul(2_654_435_761) >> 7;
        if number > 0 && spread.is_multiple_of(20) && line.first() == Some(&b'0') {
            line[0] = b'1' + (number % 3) as u8;
        }
        out.write_all(&line).map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())?;
    drop(out);
    fs::copy(&scored, to.join("flow_scores_bu.csv")).map_err(|e| e.to_string())?;
    Ok(())
}

/// Puts a fresh copy of the day (as it starts for `start`) in the run folder
/// (not timed). The copies are flushed to disk first, so that the measured
/// run does not compete with their write-back; they stay in the page cache,
/// so every contender reads a warm file.
fn reset(prepared: &Prepared, start: Start) -> Result<(), String> {
    let _ = fs::remove_dir_all(&prepared.run);
    fs::create_dir_all(&prepared.run).map_err(|e| e.to_string())?;
    let from = match start {
        Start::Fresh => &prepared.original,
        Start::AfterSession => &prepared.after_session,
    };
    for name in ["flow_scores.csv", "flow_scores_bu.csv"] {
        let copy = prepared.run.join(name);
        fs::copy(from.join(name), &copy).map_err(|e| e.to_string())?;
        fs::File::open(&copy)
            .and_then(|file| file.sync_all())
            .map_err(|e| e.to_string())?;
    }
    fs::File::open(&prepared.run)
        .and_then(|dir| dir.sync_all())
        .map_err(|e| e.to_string())
}

fn measure_runs(
    prepared: &Prepared,
    start: Start,
    runs: usize,
    mut command: impl FnMut() -> Command,
) -> Result<Measurement, String> {
    let mut all = Vec::new();
    for _ in 0..runs.max(1) {
        reset(prepared, start)?;
        all.push(measure::run(&mut command())?);
    }
    measure::median(all).ok_or_else(|| "no runs".to_owned())
}

/// The engine's runs of `scenario`, and those of the earlier build when there is one, each
/// of its runs right after one of the engine's.
fn measure_side_by_side(
    prepared: &Prepared,
    scenario: &Scenario,
    options: &Options,
    me: &Path,
) -> Result<(Measurement, Option<Measurement>), String> {
    let child = |binary: &Path| {
        let mut command = Command::new(binary);
        command.arg("--engine-child").args(&scenario.engine);
        command
    };
    let (mut engine, mut before) = (Vec::new(), Vec::new());
    for _ in 0..options.runs.max(1) {
        reset(prepared, scenario.day)?;
        engine.push(measure::run(&mut child(me))?);
        if let Some(binary) = &options.before {
            reset(prepared, scenario.day)?;
            before.push(measure::run(&mut child(binary))?);
        }
    }
    let median = |runs| measure::median(runs).ok_or_else(|| "no runs".to_owned());
    let before = if before.is_empty() {
        None
    } else {
        Some(median(before)?)
    };
    Ok((median(engine)?, before))
}

fn scenarios(prepared: &Prepared) -> Vec<Scenario> {
    let dir = prepared.run.display().to_string();
    let strings = |items: &[&str]| {
        items
            .iter()
            .map(|item| (*item).to_owned())
            .collect::<Vec<_>>()
    };
    vec![
        Scenario {
            name: "open + listbox values",
            engine: strings(&["lists", &dir]),
            python: strings(&["lists", &dir]),
            day: Start::Fresh,
        },
        Scenario {
            name: "score one source IP",
            engine: strings(&["score-src", &dir, &prepared.src_ip]),
            python: strings(&["score", &dir, "--src", &prepared.src_ip, "--rating", "3"]),
            day: Start::Fresh,
        },
        Scenario {
            name: "score a quick IP",
            engine: strings(&["score-ip", &dir, &prepared.quick_ip]),
            python: strings(&["score", &dir, "--ip", &prepared.quick_ip, "--rating", "3"]),
            day: Start::Fresh,
        },
        Scenario {
            name: "save and sort",
            engine: strings(&["save", &dir]),
            python: strings(&["save", &dir]),
            day: Start::Fresh,
        },
        Scenario {
            name: "save and sort after a session (5% scored)",
            engine: strings(&["save", &dir]),
            python: strings(&["save", &dir]),
            day: Start::AfterSession,
        },
    ]
}

/// Median time of the listbox values alone, in-process (the notebook's case:
/// the day is open, the listboxes are refilled).
fn listbox_in_process(prepared: &Prepared) -> Result<Duration, String> {
    reset(prepared, Start::Fresh)?;
    let day = Day::open(&prepared.run).map_err(|e| e.to_string())?;
    let mut times = Vec::new();
    for _ in 0..51 {
        let started = Instant::now();
        day.listbox_values().map_err(|e| e.to_string())?;
        times.push(started.elapsed());
    }
    times.sort();
    Ok(times[times.len() / 2])
}

fn run(options: &Options) -> Result<String, String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut lines = Vec::new();
    let mut listbox_times = Vec::new();
    for &size in &options.sizes {
        eprintln!("== {size} rows");
        let prepared = prepare(options, size)?;
        let flow = prepared.run.join("flow_scores.csv");
        let copy = prepared.run.join("copy.csv");
        let dd = measure_runs(&prepared, Start::Fresh, options.runs, || {
            let mut command = Command::new("dd");
            command
                .arg(format!("if={}", flow.display()))
                .arg(format!("of={}", copy.display()))
                .args(["bs=1M", "conv=fsync", "status=none"]);
            command
        })?;
        let cp = measure_runs(&prepared, Start::Fresh, options.runs, || {
            let mut command = Command::new("cp");
            command.arg(&flow).arg(&copy);
            command
        })?;
        let chosen = scenarios(&prepared).into_iter().filter(|scenario| {
            options.only.is_empty() || options.only.iter().any(|word| scenario.name.contains(word))
        });
        for scenario in chosen {
            eprintln!("   {}", scenario.name);
            let (engine, before) = measure_side_by_side(&prepared, &scenario, options, &me)?;
            let python = measure_runs(&prepared, scenario.day, options.runs, || {
                let mut command = Command::new("python3");
                command.arg(&options.reference).args(&scenario.python);
                command
            })
            .map_err(|error| eprintln!("   reference failed: {error}"))
            .ok();
            lines.push(Line {
                size,
                file_bytes: prepared.file_bytes,
                scenario: scenario.name,
                engine,
                before,
                python,
                dd,
                cp,
            });
        }
        listbox_times.push((size, listbox_in_process(&prepared)?));
    }
    Ok(table(&lines, &listbox_times, options.runs))
}

fn seconds(duration: Duration) -> String {
    format!("{:.3}", duration.as_secs_f64())
}

fn mib(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / (1024.0 * 1024.0))
}

fn ratio(a: Duration, b: Duration) -> String {
    format!("{:.1}x", a.as_secs_f64() / b.as_secs_f64().max(1e-9))
}

fn table(lines: &[Line], listbox_times: &[(usize, Duration)], runs: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Median of {runs} runs per figure; times in seconds (CPU = user + system of the child, all threads), memory = peak RSS in MiB.\n"
    );
    let before = lines.iter().any(|line| line.before.is_some());
    let (before_head, before_rule) = if before {
        ("before s | before MiB | ", "---:|---:|")
    } else {
        ("", "")
    };
    let _ = writeln!(
        out,
        "| rows | file MiB | scenario | {before_head}flow-edge s | flow-edge CPU s | flow-edge MiB | Python s | Python MiB | dd fsync s | cp s | flow-edge / dd | Python / flow-edge |"
    );
    let _ = writeln!(
        out,
        "|---:|---:|---|{before_rule}---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for line in lines {
        let before_cells = match (before, line.before) {
            (true, Some(run)) => format!("{} | {} | ", seconds(run.wall), mib(run.peak_rss)),
            (true, None) => "- | - | ".to_owned(),
            (false, _) => String::new(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {before_cells}{} | {} | {} | {} | {} | {} | {} | {} | {} |",
            line.size,
            mib(line.file_bytes),
            line.scenario,
            seconds(line.engine.wall),
            seconds(line.engine.cpu),
            mib(line.engine.peak_rss),
            line.python
                .map_or("failed".to_owned(), |python| seconds(python.wall)),
            line.python
                .map_or("-".to_owned(), |python| mib(python.peak_rss)),
            seconds(line.dd.wall),
            seconds(line.cp.wall),
            ratio(line.engine.wall, line.dd.wall),
            line.python.map_or("-".to_owned(), |python| ratio(
                python.wall,
                line.engine.wall
            )),
        );
    }
    let _ = writeln!(
        out,
        "\nListbox values alone, in-process on an open day (median of 51 calls):\n"
    );
    let _ = writeln!(out, "| rows | listbox values ms |");
    let _ = writeln!(out, "|---:|---:|");
    for (size, time) in listbox_times {
        let _ = writeln!(out, "| {size} | {:.3} |", time.as_secs_f64() * 1000.0);
    }
    out
}

fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    if arguments.first().map(String::as_str) == Some("--engine-child") {
        return match engine_child(&arguments[1..]) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("flow-edge-bench child: {error}");
                ExitCode::from(1)
            }
        };
    }
    let result = parse_options(&arguments).and_then(|options| {
        let table = run(&options)?;
        print!("{table}");
        if let Some(path) = &options.markdown {
            fs::write(path, &table).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("flow-edge-bench: {error}");
            ExitCode::from(1)
        }
    }
}
