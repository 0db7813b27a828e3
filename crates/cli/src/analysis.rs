//! The analysis commands: `rules`, `heuristics` and `upload`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use flow_edge::analysis::heuristics::{
    attack_heuristics, FanOut, UnknownFanOut, DEFAULT_THRESHOLD,
};
use flow_edge::analysis::rules::{apply_rules, ApplyOptions, Rule, RuleSet};
use flow_edge::spot::upload::{load_day_config, upload_day_feedback, ScpOptions, UploadTarget};
use flow_edge::{Day, Error, NetworkContext};
use serde_json::json;

use crate::args::{Args, UsageError};
use crate::Failure;

fn failed(error: impl std::error::Error + 'static) -> Failure {
    Failure::Failed(Box::new(error))
}

/// `rules`: apply the original rules or a rules file.
pub fn rules(args: &Args, day: impl FnOnce() -> Result<Day, Error>) -> Result<(), Failure> {
    let mut rules = match args.value("file") {
        Some(path) => RuleSet::load(Path::new(path)).map_err(failed)?,
        None => RuleSet::original(),
    };
    if args.switch("with-unapplied") {
        let mut all = rules.rules().to_vec();
        all.push(Rule::original_unapplied());
        rules = RuleSet::new(all);
    }
    if args.switch("check") {
        if args.switch("json") {
            let texts: Vec<String> = rules.rules().iter().map(ToString::to_string).collect();
            println!("{}", json!({ "rules": texts }));
        } else {
            print!("{rules}");
        }
        return Ok(());
    }
    let options = ApplyOptions {
        rescore: args.switch("rescore"),
        feed_back: args.switch("feedback"),
    };
    let report = apply_rules(&day()?, &rules, options).map_err(failed)?;
    if args.switch("json") {
        let counts: Vec<_> = report
            .counts
            .iter()
            .map(|c| json!({"rule": c.rule, "severity": c.severity, "rows": c.rows}))
            .collect();
        println!(
            "{}",
            json!({
                "rules": counts,
                "scored": report.scored(),
                "rows_read": report.rows_read,
                "already_scored": report.already_scored,
                "fed_back": report.fed_back,
            })
        );
    } else {
        println!("{report}");
    }
    Ok(())
}

/// `heuristics`: the fan-out table of the day, with network names.
pub fn heuristics(args: &Args, day: Day) -> Result<(), Failure> {
    let count = match args.value("count") {
        Some(text) => text
            .parse()
            .map_err(|e: UnknownFanOut| UsageError(format!("--count {e}")))?,
        None => FanOut::Destinations,
    };
    let threshold: u64 = args.number("threshold")?.unwrap_or(DEFAULT_THRESHOLD);
    let nwloc = args
        .value("nwloc")
        .map(PathBuf::from)
        .unwrap_or_else(|| day.settings().nwloc.clone());
    let context = NetworkContext::load(&nwloc).map_err(failed)?;
    // On stderr in both forms, so a JSON reader still gets one document on stdout.
    for line in context.warning_lines() {
        eprintln!("warning: {line}");
    }
    let result = attack_heuristics(&day, count, threshold)?.with_context(&context);
    if args.switch("json") {
        let sources: Vec<_> = result
            .sources
            .iter()
            .map(|s| json!({"ip": s.ip, "name": s.name, "destinations": s.destinations, "rows": s.rows}))
            .collect();
        println!(
            "{}",
            json!({
                "count": result.count.name(),
                "threshold": result.threshold,
                "sources": sources,
                "sources_seen": result.sources_seen,
                "rows_read": result.rows_read,
            })
        );
    } else {
        if let Some(note) = context.note() {
            eprintln!("note: {note}");
        }
        println!("{result}");
    }
    Ok(())
}

/// `upload`: ship the feedback to the ML node named in the Spot configuration, within
/// `--deadline` seconds (`--timeout` bounds the connection only). Usage errors come before
/// the day is opened.
pub fn upload(args: &Args, day: impl FnOnce() -> Result<Day, Error>) -> Result<(), Failure> {
    let defaults = ScpOptions::default();
    let connect_timeout = seconds(args, "timeout")?.unwrap_or(defaults.connect_timeout);
    let deadline = seconds(args, "deadline")?.unwrap_or(defaults.deadline);
    let port = args.number("port")?;
    let day = day()?;
    let conf =
        load_day_config(&day.paths().dir, args.value("config").map(Path::new)).map_err(failed)?;
    let target = UploadTarget::from_config(&conf).map_err(failed)?;
    let options = ScpOptions {
        port,
        identity_file: args.value("identity").map(PathBuf::from),
        connect_timeout,
        deadline,
        known_hosts_file: args.value("known-hosts").map(PathBuf::from),
        ssh_config_file: args.value("ssh-config").map(PathBuf::from),
        ..defaults
    };
    let report = upload_day_feedback(&day, &target, &options).map_err(failed)?;
    if args.switch("json") {
        println!(
            "{}",
            json!({"source": report.source, "destination": report.destination, "bytes": report.bytes})
        );
    } else {
        println!("{report}");
    }
    Ok(())
}

/// `--name SECONDS`, a whole number of at least 1, if given.
fn seconds(args: &Args, name: &str) -> Result<Option<Duration>, UsageError> {
    match args.number::<u64>(name)? {
        Some(0) => Err(UsageError(format!("--{name} must be at least 1 second"))),
        given => Ok(given.map(Duration::from_secs)),
    }
}
