//! Crash test of scoring and undo in place, at every step: a child scores (from the command
//! line's path, or from a panel that then undoes it) and is killed with `SIGKILL` at its n-th
//! crash point (every write, flush and removal of the journal, the feedback file and the
//! `sev` bytes; see `src/io/crash_point.rs`), for every n until it finishes. After each kill:
//!
//! * a reader that may not write (`Day::open_read_only`) sees, before any recovery, exactly
//!   the severities recovery then leaves;
//! * where the kill left a journal, a recovery that is itself killed at a random step is
//!   recovered by the next one;
//! * the next open leaves the day as it was before the scoring or after it (flow file and
//!   feedback together: each completed scoring in the feedback once), nothing left behind.
//!
//! Runs without the test harness (`harness = false`): the binary is also the child.

#[path = "support/snapshot.rs"]
mod snapshot;

use flow_edge::panel::{PanelOptions, UploadSettings};
use flow_edge::synthetic::{generate_bytes, DaySpec};
use flow_edge::{Column, Day, Error, Selection};
use snapshot::{copy_day, snapshot, Snapshot};
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, ExitStatus};
use std::time::Instant;

const CHILD_DAY: &str = "FLOW_EDGE_IN_PLACE_CRASH_DAY";
const CHILD_STEPS: &str = "FLOW_EDGE_IN_PLACE_CRASH_STEPS";
const CRASH_AT: &str = "FLOW_EDGE_CRASH_AT";

/// Set in a child's environment to the destination port it rates.
const CHILD_PORT: &str = "FLOW_EDGE_IN_PLACE_CRASH_PORT";

/// What a child does: `score` (as `flow-edge score` does), `panel` (score from a panel,
/// then undo), `open` (open the day: recovery only).
fn child(dir: &str, steps: &str, port: &str) -> Result<(), String> {
    let day = Day::open(dir).map_err(|e| e.to_string())?;
    let selection = Selection::new().dport(port);
    match steps {
        "score" => day
            .score(&selection, 2)
            .map(|_| ())
            .map_err(|e| e.to_string()),
        "panel" => {
            let panel = day
                .panel_with(PanelOptions {
                    upload: UploadSettings::default(),
                    interactive: false,
                    ..PanelOptions::default()
                })
                .map_err(|e| e.to_string())?;
            panel.score(&selection, 1).map_err(|e| e.to_string())?;
            panel.undo().map(|_| ()).map_err(|e| e.to_string())
        }
        "open" => Ok(()),
        other => Err(format!("unknown steps {other:?}")),
    }
}

fn spawn(dir: &Path, steps: &str, port: &str, crash_at: Option<u64>) -> ExitStatus {
    let mut command = Command::new(std::env::current_exe().expect("test binary"));
    command
        .env(CHILD_DAY, dir)
        .env(CHILD_STEPS, steps)
        .env(CHILD_PORT, port);
    if let Some(at) = crash_at {
        command.env(CRASH_AT, at.to_string());
    }
    command.status().expect("running the child")
}

/// The signal the crash points kill with.
const SIGKILL: i32 = 9;

fn killed(status: ExitStatus) -> bool {
    status.signal() == Some(SIGKILL)
}

/// Every row's severity, as `day` reads them.
fn severities(day: &Day) -> Vec<u8> {
    let mut seen = Vec::new();
    day.for_each_row(|row| -> Result<(), Error> {
        seen.push(row.severity()?);
        Ok(())
    })
    .expect("reading the day");
    seen
}

/// Names in the day folder that only an operation under way leaves.
fn leftovers(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .expect("day folder")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| {
            name.ends_with(".tmp") || name.ends_with(".journal") || name.contains(".undo")
        })
        .collect()
}

/// A small deterministic generator (for the recovery's kill points).
fn next(state: &mut u64) -> u64 {
    *state = state
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    *state >> 33
}

/// How the trials of one scenario ended.
#[derive(Default)]
struct Tally {
    trials: u64,
    before: u64,
    after: u64,
    read_while_pending: u64,
    recoveries_killed: u64,
}

/// The day to start from, the port to rate, the two states a crash may leave, and the one a
/// run without a crash ends in.
struct Outcomes<'a> {
    base: &'a Path,
    port: &'a str,
    before: Snapshot,
    after: Snapshot,
    finished: Snapshot,
}

/// Kills the child `steps` at each of its crash points in turn, from a copy of `base`, and
/// checks every outcome.
fn every_crash_point(name: &str, steps: &str, outcomes: &Outcomes, seed: &mut u64) -> Tally {
    let Outcomes {
        base,
        port,
        before,
        after,
        finished,
    } = outcomes;
    let work = tempfile::tempdir().expect("temp dir");
    let mut tally = Tally::default();
    for at in 1.. {
        copy_day(base, work.path());
        let status = spawn(work.path(), steps, port, Some(at));
        if !killed(status) {
            assert!(status.success(), "{name}: the child failed at point {at}");
            assert_eq!(
                &snapshot(work.path()),
                finished,
                "{name}: a run without a crash"
            );
            break;
        }
        tally.trials += 1;

        // A colleague reads the day before anyone recovers it.
        let reader = Day::open_read_only(work.path()).expect("opening to read");
        let seen = severities(&reader);
        if !reader.recovery_notes().is_empty() {
            tally.read_while_pending += 1;
        }
        // A recovery that is itself killed part way.
        if work.path().join("flow_scores.csv.journal").exists() {
            let at_recovery = 1 + next(seed) % 8;
            if killed(spawn(work.path(), "open", port, Some(at_recovery))) {
                tally.recoveries_killed += 1;
            }
        }
        let recovered = Day::open(work.path()).expect("the next open recovers");
        let found = snapshot(work.path());
        if &found == before {
            tally.before += 1;
        } else if &found == after {
            tally.after += 1;
        } else {
            panic!(
                "{name}: killed at point {at}: the files are neither before nor after \
                 (flow {}, feedback {:?} bytes)",
                if found.flow == before.flow {
                    "as before"
                } else if found.flow == after.flow {
                    "as after"
                } else {
                    "torn"
                },
                found.feedback.as_ref().map(Vec::len)
            );
        }
        assert_eq!(
            seen,
            severities(&recovered),
            "{name}: killed at point {at}: a reader saw another state than recovery left"
        );
        let left = leftovers(work.path());
        assert!(left.is_empty(), "{name}: point {at}: left behind {left:?}");
    }
    println!(
        "{name}: killed at each of {} crash points: {} before, {} after; {} read while \
         recovery was pending, {} recoveries killed and recovered again",
        tally.trials, tally.before, tally.after, tally.read_while_pending, tally.recoveries_killed
    );
    tally
}

/// A generated day with some feedback already (so a roll back must cut it, not remove it),
/// and a destination port of 30 to 60 of its rows, all over the file, for the scorings.
fn base_day() -> (tempfile::TempDir, String) {
    let base = tempfile::tempdir().expect("temp dir");
    fs::write(
        base.path().join("flow_scores.csv"),
        generate_bytes(&DaySpec::new(600, 17)),
    )
    .expect("writing the day");
    let day = Day::open(base.path()).expect("opening the day");
    let first = day.listbox_values().expect("lists").dports[0].clone();
    day.score(&Selection::new().dport(first.clone()), 3)
        .expect("a first scoring");
    let mut counts = std::collections::BTreeMap::<String, u32>::new();
    day.for_each_row(|row| -> Result<(), Error> {
        *counts.entry(row.get(Column::Dport).to_owned()).or_default() += 1;
        Ok(())
    })
    .expect("counting");
    let port = counts
        .into_iter()
        .find(|(port, count)| (30..=60).contains(count) && *port != first)
        .map(|(port, _)| port)
        .expect("a port of 30 to 60 rows");
    (base, port)
}

fn main() {
    if let (Ok(dir), Ok(steps), Ok(port)) = (
        std::env::var(CHILD_DAY),
        std::env::var(CHILD_STEPS),
        std::env::var(CHILD_PORT),
    ) {
        match child(&dir, &steps, &port) {
            Ok(()) => std::process::exit(0),
            Err(error) => {
                eprintln!("child: {error}");
                std::process::exit(1)
            }
        }
    }
    let started = Instant::now();
    let (base, port) = base_day();
    let before = snapshot(base.path());
    let mut seed = 0x5eed_u64;

    // The command line's scoring: found by a scan, written in place.
    let reference = tempfile::tempdir().expect("temp dir");
    copy_day(base.path(), reference.path());
    assert!(spawn(reference.path(), "score", &port, None).success());
    let scored = snapshot(reference.path());
    assert_eq!(scored.flow.len(), before.flow.len(), "only bytes changed");
    let outcomes = Outcomes {
        base: base.path(),
        port: &port,
        before: before.clone(),
        after: scored.clone(),
        finished: scored,
    };
    let scoring = every_crash_point("score", "score", &outcomes, &mut seed);

    // The panel's scoring (found by its index) and its undo: every point of both.
    copy_day(base.path(), reference.path());
    assert!(spawn(reference.path(), "panel", &port, None).success());
    assert_eq!(snapshot(reference.path()), before, "score then undo");
    let panel_scored = {
        copy_day(base.path(), reference.path());
        let day = Day::open(reference.path()).expect("opening");
        let panel = day
            .panel_with(PanelOptions {
                upload: UploadSettings::default(),
                interactive: false,
                ..PanelOptions::default()
            })
            .expect("panel");
        panel
            .score(&Selection::new().dport(port.clone()), 1)
            .expect("scoring");
        snapshot(reference.path())
    };
    let outcomes = Outcomes {
        base: base.path(),
        port: &port,
        before: before.clone(),
        after: panel_scored,
        finished: before,
    };
    let panel = every_crash_point("panel score, then undo", "panel", &outcomes, &mut seed);

    for (name, tally) in [("score", &scoring), ("panel", &panel)] {
        assert!(
            tally.before > 0 && tally.after > 0,
            "{name}: the kills did not land on both sides"
        );
        assert!(
            tally.read_while_pending > 0,
            "{name}: no kill left a journal"
        );
    }
    let trials = scoring.trials + panel.trials;
    assert!(trials >= 100, "only {trials} crash points");
    println!(
        "in-place crash test: {trials} trials passed in {:?}",
        started.elapsed()
    );
}
