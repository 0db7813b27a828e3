//! The commands: each opens the day, runs one engine operation and prints its
//! result as a text table or, with `--json`, as one JSON object.

use crate::args::{Args, UsageError};
use crate::Failure;
use flow_edge::synthetic::{generate, DaySpec};
use flow_edge::{Day, Error, ListboxValues, Selection};
use serde_json::json;
use std::fs;
use std::io::{BufWriter, Write};

/// Runs the parsed command.
pub fn run(args: &Args) -> Result<(), Failure> {
    match args.command.as_str() {
        "lists" => lists(args),
        "score" => score(args),
        "save" => save(args),
        "restore" => restore(args),
        "generate" => generate_day(args),
        "rules" => crate::analysis::rules(args, || open(args)),
        "heuristics" => crate::analysis::heuristics(args, open(args)?),
        "upload" => crate::analysis::upload(args, || open(args)),
        other => Err(UsageError(format!("unknown command {other:?}")).into()),
    }
}

fn open(args: &Args) -> Result<Day, Error> {
    if args.switch("notebook") {
        Day::from_notebook_dir(&args.folder)
    } else {
        Day::open(&args.folder)
    }
}

fn lists(args: &Args) -> Result<(), Failure> {
    let coff: Option<usize> = args.number("coff")?;
    let mut day = open(args)?;
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

fn score(args: &Args) -> Result<(), Failure> {
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
    let day = open(args)?;
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

fn save(args: &Args) -> Result<(), Failure> {
    let report = open(args)?.save_and_sort()?;
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

fn restore(args: &Args) -> Result<(), Failure> {
    let day = open(args)?;
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
