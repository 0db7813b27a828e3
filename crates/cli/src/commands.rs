//! The commands: each opens the day, runs one engine operation and prints its
//! result as a text table or, with `--json`, as one JSON object.

use crate::args::{Args, UsageError};
use crate::Failure;
use flow_edge::synthetic::{generate, DaySpec};
use flow_edge::{Day, DayPaths, Error, ListboxValues, Selection, DEFAULT_LOCK_WAIT};
use serde_json::json;
use std::fs;
use std::io::{BufWriter, Write};
use std::time::Duration;

/// Names the lock wait when `--lock-wait` is not given.
const LOCK_WAIT_ENV: &str = "FLOW_EDGE_LOCK_WAIT";

/// Runs the parsed command.
pub fn run(args: &Args) -> Result<(), Failure> {
    if args.command == "generate" {
        return generate_day(args);
    }
    let wait = lock_wait(args)?;
    match args.command.as_str() {
        "lists" => lists(args, wait),
        "score" => score(args, wait),
        "save" => save(args, wait),
        "restore" => restore(args, wait),
        "rules" => crate::analysis::rules(args, || open(args, wait, Access::Write)),
        "heuristics" => crate::analysis::heuristics(args, open(args, wait, Access::Read)?),
        "upload" => crate::analysis::upload(args, || open(args, wait, Access::Write)),
        other => Err(UsageError(format!("unknown command {other:?}")).into()),
    }
}

/// How long to wait for the day's lock: `--lock-wait`, else `FLOW_EDGE_LOCK_WAIT`, else the
/// library's default; seconds, fractions allowed.
fn lock_wait(args: &Args) -> Result<Duration, UsageError> {
    let (text, source) = match (args.value("lock-wait"), std::env::var(LOCK_WAIT_ENV)) {
        (Some(text), _) => (text.to_owned(), "--lock-wait".to_owned()),
        (None, Ok(text)) => (text, LOCK_WAIT_ENV.to_owned()),
        (None, Err(_)) => return Ok(DEFAULT_LOCK_WAIT),
    };
    text.trim()
        .parse::<f64>()
        .ok()
        .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok())
        .ok_or_else(|| UsageError(format!("{source} {text:?} is not a number of seconds")))
}

/// Whether a command writes the day or only reads it.
#[derive(Clone, Copy)]
enum Access {
    Write,
    Read,
}

/// Opens the day; what recovery found (or, for a reader, left pending) of an interrupted
/// operation goes to stderr as warnings.
fn open(args: &Args, wait: Duration, access: Access) -> Result<Day, Error> {
    let mut paths = if args.switch("notebook") {
        DayPaths::for_notebook_folder(&args.folder)?
    } else {
        DayPaths::for_day_folder(&args.folder)
    };
    paths.lock_wait = wait;
    let day = match access {
        Access::Write => Day::open_paths(paths),
        Access::Read => Day::open_paths_read_only(paths),
    }?;
    for note in day.recovery_notes() {
        eprintln!("flow-edge: warning: {note}");
    }
    Ok(day)
}

fn lists(args: &Args, wait: Duration) -> Result<(), Failure> {
    let coff: Option<usize> = args.number("coff")?;
    let mut day = open(args, wait, Access::Read)?;
    if let Some(coff) = coff {
        day.set_coff(coff);
    }
    let values = day.listbox_values()?;
    if args.switch("json") {
        println!(
            "{}",
            json!({
                "rows_read": values.rows_read,
                "src_ips": values.src_ips,
                "dst_ips": values.dst_ips,
                "sports": values.sports,
                "dports": values.dports,
            })
        );
    } else {
        print!("{}", lists_table(&values));
    }
    Ok(())
}

/// The four listboxes side by side, as the notebook shows them.
fn lists_table(values: &ListboxValues) -> String {
    let columns = [
        ("Source IP", &values.src_ips),
        ("Dest IP", &values.dst_ips),
        ("Src Port", &values.sports),
        ("Dst Port", &values.dports),
    ];
    let widths: Vec<usize> = columns
        .iter()
        .map(|(title, list)| {
            list.iter()
                .map(|v| v.chars().count())
                .chain([title.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let height = columns
        .iter()
        .map(|(_, list)| list.len())
        .max()
        .unwrap_or(0);
    let mut table = String::new();
    let mut line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        table.push_str(padded.join("  ").trim_end());
        table.push('\n');
    };
    line(columns.iter().map(|(title, _)| *title).collect());
    line(
        widths
            .iter()
            .map(|width| &"--------------------------------------------------"[..(*width).min(50)])
            .collect(),
    );
    for at in 0..height {
        line(
            columns
                .iter()
                .map(|(_, list)| list.get(at).map_or("", String::as_str))
                .collect(),
        );
    }
    table.push_str(&format!("({} rows read)\n", values.rows_read));
    table
}

fn score(args: &Args, wait: Duration) -> Result<(), Failure> {
    let rating: u8 = args
        .number("rating")?
        .ok_or_else(|| UsageError("score needs --rating 1, 2 or 3".to_owned()))?;
    let selection = Selection {
        quick_ip: args.value("ip").map(str::to_owned),
        src_ip: args.value("src").map(str::to_owned),
        dst_ip: args.value("dst").map(str::to_owned),
        sport: args.value("sport").map(str::to_owned),
        dport: args.value("dport").map(str::to_owned),
    };
    let day = open(args, wait, Access::Write)?;
    let report = day.score(&selection, rating)?;
    if args.switch("json") {
        println!(
            "{}",
            json!({"scored": report.scored, "rows": report.rows, "rating": rating})
        );
    } else {
        println!("{} matching connections scored", report.scored);
    }
    Ok(())
}

fn save(args: &Args, wait: Duration) -> Result<(), Failure> {
    let report = open(args, wait, Access::Write)?.save_and_sort()?;
    if args.switch("json") {
        println!(
            "{}",
            json!({"rows": report.rows, "unscored": report.unscored, "by_severity": report.by_severity})
        );
    } else {
        println!(
            "Suspicious connects successfully updated: {} rows, {} unscored, {} high, {} medium, {} low",
            report.rows, report.unscored, report.by_severity[0], report.by_severity[1], report.by_severity[2]
        );
    }
    Ok(())
}

fn restore(args: &Args, wait: Duration) -> Result<(), Failure> {
    let day = open(args, wait, Access::Write)?;
    day.restore_backup()?;
    if args.switch("json") {
        println!("{}", json!({"restored": day.paths().flow}));
    } else {
        println!(
            "{} restored from {}",
            day.paths().flow.display(),
            day.paths().backup.display()
        );
    }
    Ok(())
}

fn generate_day(args: &Args) -> Result<(), Failure> {
    let rows: usize = args
        .number("rows")?
        .ok_or_else(|| UsageError("generate needs --rows N".to_owned()))?;
    let mut spec = DaySpec::new(rows, args.number("seed")?.unwrap_or(1));
    spec.wide = args.switch("wide");
    spec.shuffle_columns = args.switch("shuffle");
    spec.crlf = args.switch("crlf");
    spec.realistic = args.switch("realistic");
    spec.scored_share = share(args, "scored")?;
    spec.ipv6_share = share(args, "ipv6")?;
    let path = args.folder.join("flow_scores.csv");
    let io = |e| Error::Io {
        path: path.clone(),
        action: "writing",
        source: e,
    };
    fs::create_dir_all(&args.folder).map_err(io)?;
    // Never overwrite a day: a generated file in place of real flows would
    // destroy an analyst's work.
    let file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(io)?;
    let mut out = BufWriter::new(file);
    generate(&spec, &mut out)
        .and_then(|()| out.flush())
        .map_err(io)?;
    if args.switch("json") {
        println!("{}", json!({"path": path, "rows": rows}));
    } else {
        println!("{} rows written to {}", rows, path.display());
    }
    Ok(())
}

fn share(args: &Args, name: &str) -> Result<f64, UsageError> {
    let value: f64 = args.number(name)?.unwrap_or(0.0);
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(UsageError(format!("--{name} must be between 0 and 1")))
    }
}
