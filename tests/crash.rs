//! Crash test: kill a child process at random instants of scoring and of
//! save-and-sort (at least 100 trials), then open the day as the next
//! notebook would and check the guarantees:
//!
//! * `flow_scores.csv` is whole: byte for byte the old or the new version;
//! * `flow_scores_fb.csv` has no torn line, and a scoring is in both files or
//!   in neither;
//! * no temporary or journal file is left behind after the open.
//!
//! Runs without the test harness (`harness = false`) because the binary also
//! serves as the child.

mod support;

#[path = "support/snapshot.rs"]
mod snapshot;

use flow_edge::synthetic::DaySpec;
use flow_edge::Day;
use snapshot::{snapshot, Snapshot};
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};
use support::{run_child_if_asked, run_operation, spawn_child, write_day};

const TRIALS: usize = 120;

/// One kind of trial: a prepared day, the operation, and the two acceptable
/// outcomes.
struct Scenario {
    name: &'static str,
    operation: &'static str,
    base: tempfile::TempDir,
    before: Snapshot,
    after: Snapshot,
    duration: Duration,
}

fn scenario(name: &'static str, operation: &'static str, prepare: &str) -> Scenario {
    let base = tempfile::tempdir().unwrap();
    let mut spec = DaySpec::new(4000, 11);
    spec.wide = true;
    write_day(base.path(), &spec);
    let day = Day::open(base.path()).unwrap();
    if !prepare.is_empty() {
        run_operation(&day, prepare).unwrap();
    }
    let before = snapshot(base.path());
    // The outcome without a crash, and how long the child takes.
    let reference = tempfile::tempdir().unwrap();
    let mut duration = Duration::ZERO;
    for _ in 0..3 {
        copy_day(base.path(), reference.path());
        let started = Instant::now();
        let status = spawn_child(reference.path(), operation).wait().unwrap();
        duration = duration.max(started.elapsed());
        assert!(status.success(), "{name}: the child failed without a crash");
    }
    let after = snapshot(reference.path());
    assert_ne!(before, after, "{name}: the operation changes nothing");
    Scenario {
        name,
        operation,
        base,
        before,
        after,
        duration,
    }
}

/// How a trial ended.
#[derive(Default)]
struct Tally {
    old: usize,
    new: usize,
    left_journal: usize,
}

/// Extra trials allowed when the random kills all landed on one side (a
/// loaded machine makes the child slower than when its duration was taken).
const EXTRA_TRIALS: usize = 40;

/// Kills the child after a random delay up to `within` and checks the day.
fn trial(scenario: &Scenario, within: Duration, random: &mut Random, tally: &mut Tally) {
    let dir = tempfile::tempdir().unwrap();
    copy_day(scenario.base.path(), dir.path());
    let delay = Duration::from_micros(random.below(within.as_micros() as u64 + 1));
    let mut child = spawn_child(dir.path(), scenario.operation);
    std::thread::sleep(delay);
    let _ = child.kill();
    child.wait().unwrap();
    if dir.path().join("flow_scores.csv.journal").exists() {
        tally.left_journal += 1;
    }

    // The next notebook opens the day: recovery runs.
    Day::open(dir.path()).unwrap_or_else(|e| panic!("{}: reopening failed: {e}", scenario.name));
    let found = snapshot(dir.path());
    if found == scenario.before {
        tally.old += 1;
    } else if found == scenario.after {
        tally.new += 1;
    } else {
        let flow_is = if found.flow == scenario.before.flow {
            "old"
        } else if found.flow == scenario.after.flow {
            "new"
        } else {
            "neither old nor new"
        };
        panic!(
            "{}: killed after {delay:?}: flow file is {flow_is}, feedback does not match it \
             ({} bytes; old {:?}, new {:?})",
            scenario.name,
            found.feedback.as_ref().map_or(0, Vec::len),
            scenario.before.feedback.as_ref().map(Vec::len),
            scenario.after.feedback.as_ref().map(Vec::len),
        );
    }
    if let Some(feedback) = &found.feedback {
        assert!(
            feedback.ends_with(b"\n"),
            "{}: torn feedback line",
            scenario.name
        );
    }
    for leftover in [
        "flow_scores.csv.tmp",
        "flow_scores.csv.new",
        "flow_scores.csv.journal",
    ] {
        assert!(
            !dir.path().join(leftover).exists(),
            "{}: {leftover} left after reopening",
            scenario.name
        );
    }
}

fn main() {
    run_child_if_asked();
    let started = Instant::now();
    let scenarios = [
        scenario("first scoring (feedback file created)", "score:53:3", ""),
        scenario(
            "scoring onto existing feedback",
            "quick:10.0.0.1:1+score:80:2",
            "score:443:3",
        ),
        scenario("save and sort", "save", "score:22:1"),
        scenario("restore the backup", "restore", "score:53:2+save"),
    ];
    let mut random = Random(2026);
    for scenario in &scenarios {
        let mut tally = Tally::default();
        for _ in 0..TRIALS / scenarios.len() {
            trial(scenario, scenario.duration, &mut random, &mut tally);
        }
        // All on one side: aim the extra kills at the side not seen yet,
        // early for "old", past the child's duration for "new".
        for _ in 0..EXTRA_TRIALS {
            let within = match (tally.old, tally.new) {
                (0, _) => scenario.duration / 4,
                (_, 0) => scenario.duration * 4,
                _ => break,
            };
            trial(scenario, within, &mut random, &mut tally);
        }
        println!(
            "{}: {} trials (child ~{:?}): {} old, {} new, {} recovered from a journal",
            scenario.name,
            tally.old + tally.new,
            scenario.duration,
            tally.old,
            tally.new,
            tally.left_journal
        );
        assert!(
            tally.old > 0 && tally.new > 0,
            "{}: kills did not land on both sides",
            scenario.name
        );
    }
    println!(
        "crash test: {TRIALS} trials passed in {:?}",
        started.elapsed()
    );
}

/// Makes the day files (flow, backup, feedback) in `to` the same as in `from`,
/// removing those `from` does not have.
pub fn copy_day(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for name in [
        "flow_scores.csv",
        "flow_scores_bu.csv",
        "flow_scores_fb.csv",
    ] {
        if from.join(name).exists() {
            fs::copy(from.join(name), to.join(name)).unwrap();
        } else if to.join(name).exists() {
            fs::remove_file(to.join(name)).unwrap();
        }
    }
}

/// A small deterministic random source for the tests (splitmix64).
struct Random(pub u64);

impl Random {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % bound.max(1)
    }
}
