//! Crash test of the panel's Undo: kill a child process at random instants of "score from the
//! panel, then undo it" (120 trials), open the day as the next notebook would, and check that
//! the files are exactly one of the states the analyst could have seen: before the scoring, or
//! scored (flow file and feedback together), never a mix, and that no temporary or journal
//! file is left behind.
//!
//! Runs without the test harness (`harness = false`): the binary is also the child.

#[path = "support/snapshot.rs"]
mod snapshot;

use flow_edge::panel::{PanelOptions, UploadSettings};
use flow_edge::synthetic::{generate_bytes, DaySpec};
use flow_edge::{Day, Selection};
use snapshot::{copy_day, snapshot};
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const TRIALS: u64 = 120;
const CHILD_DAY: &str = "FLOW_EDGE_PANEL_CRASH_DAY";
const CHILD_STEPS: &str = "FLOW_EDGE_PANEL_CRASH_STEPS";

/// The child: scores a quick IP from a panel and, for `score+undo`, undoes it.
fn child(dir: &str, steps: &str) -> Result<(), String> {
    let day = Day::open(dir).map_err(|e| e.to_string())?;
    let panel = day
        .panel_with(PanelOptions {
            upload: UploadSettings::default(),
            interactive: false,
            ..PanelOptions::default()
        })
        .map_err(|e| e.to_string())?;
    let ip = panel.lists().src_ips[0].clone();
    panel
        .score(&Selection::new().quick_ip(ip), 1)
        .map_err(|e| e.to_string())?;
    if steps == "score+undo" {
        panel.undo().map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn spawn(dir: &Path, steps: &str) -> std::process::Child {
    Command::new(std::env::current_exe().expect("test binary"))
        .env(CHILD_DAY, dir)
        .env(CHILD_STEPS, steps)
        .spawn()
        .expect("starting the child")
}

/// A small deterministic generator for the kill instants.
fn next(state: &mut u64) -> u64 {
    *state = state
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    *state >> 33
}

fn main() {
    if let (Ok(dir), Ok(steps)) = (std::env::var(CHILD_DAY), std::env::var(CHILD_STEPS)) {
        match child(&dir, &steps) {
            Ok(()) => std::process::exit(0),
            Err(error) => {
                eprintln!("child: {error}");
                std::process::exit(1)
            }
        }
    }

    let base = tempfile::tempdir().expect("temp dir");
    fs::write(
        base.path().join("flow_scores.csv"),
        generate_bytes(&DaySpec::new(4000, 3)),
    )
    .expect("writing the day");
    let day = Day::open(base.path()).expect("opening the day");
    // Some feedback exists already, so undo must cut the file back, not remove it.
    let port = day.listbox_values().expect("lists").dports[0].clone();
    day.score(&Selection::new().dport(port), 2)
        .expect("first scoring");
    let before = snapshot(base.path());

    let work = tempfile::tempdir().expect("temp dir");
    copy_day(base.path(), work.path());
    assert!(spawn(work.path(), "score").wait().expect("child").success());
    let scored = snapshot(work.path());
    assert_ne!(scored, before, "the scoring changes the files");
    let mut duration = Duration::ZERO;
    for _ in 0..3 {
        copy_day(base.path(), work.path());
        let started = Instant::now();
        assert!(spawn(work.path(), "score+undo")
            .wait()
            .expect("child")
            .success());
        duration = duration.max(started.elapsed());
        assert_eq!(
            snapshot(work.path()),
            before,
            "score then undo gives the files back"
        );
    }

    let mut seed = 0x5eed_u64;
    let (mut saw_before, mut saw_scored) = (0, 0);
    for trial in 0..TRIALS {
        copy_day(base.path(), work.path());
        let delay = Duration::from_micros(next(&mut seed) % (duration.as_micros() as u64 + 1));
        let mut child = spawn(work.path(), "score+undo");
        std::thread::sleep(delay);
        let _ = child.kill();
        let _ = child.wait();
        Day::open(work.path()).expect("the next open recovers");
        let after = snapshot(work.path());
        if after == before {
            saw_before += 1;
        } else if after == scored {
            saw_scored += 1;
        } else {
            panic!(
                "trial {trial} (killed after {delay:?}): the files are neither before nor scored"
            );
        }
        let left: Vec<String> = fs::read_dir(work.path())
            .expect("day folder")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|name| {
                name.ends_with(".tmp") || name.contains(".undo") || name.ends_with(".journal")
            })
            .collect();
        assert!(left.is_empty(), "trial {trial}: left behind {left:?}");
    }
    println!(
        "panel undo crash test: {TRIALS} trials, {saw_before} ended before the scoring or after its undo, {saw_scored} scored"
    );
    assert!(
        saw_scored > 0 && saw_before > 0,
        "the kills hit both phases"
    );
}
