//! Colleagues sharing a day: a reader with read access only, and an operation stuck holding
//! the day's lock, which the others wait for only so long.

use flow_edge::{Day, Error};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod common;
use common::{flow_edge, succeeded, text, FLOW_EDGE};

fn generated_day(dir: &Path) -> String {
    let day = dir.display().to_string();
    succeeded(
        flow_edge(&["generate", &day, "--rows", "300", "--seed", "6"]),
        "generate",
    );
    day
}

/// Runs `flow-edge` as user and group `nobody` with no other group: a colleague who may read
/// the day but not write it. `None` where that cannot be done (not root, no `setpriv`).
fn flow_edge_as_nobody(arguments: &[&str]) -> Option<Output> {
    let out = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            FLOW_EDGE,
        ])
        .args(arguments)
        .output()
        .ok()?;
    if text(&out.stderr).contains("setpriv:") {
        return None;
    }
    Some(out)
}

/// Every name in `dir` with its length and permissions.
fn listing(dir: &Path) -> Vec<(String, u64, u32)> {
    let mut names: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            let meta = entry.metadata().unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            (name, meta.len(), meta.permissions().mode())
        })
        .collect();
    names.sort();
    names
}

/// Opens a folder and its files to everyone for reading, and to nobody else for writing.
fn readable_by_all(dir: &Path) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    }
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_colleague_with_read_access_only_lists_and_runs_heuristics_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let day = generated_day(dir.path());
    readable_by_all(dir.path());
    // A day no writer has opened yet (no lock file, no backup) ...
    let Some(fresh) = flow_edge_as_nobody(&["lists", &day, "--json"]) else {
        eprintln!("cannot run as nobody here (not root, or no setpriv): skipped");
        return;
    };
    assert!(fresh.status.success(), "{}", text(&fresh.stderr));
    assert!(text(&fresh.stdout).contains("src_ips"));
    let names: Vec<String> = listing(dir.path())
        .into_iter()
        .map(|(name, ..)| name)
        .collect();
    assert_eq!(names, ["flow_scores.csv"], "a reader created files");

    // ... and one scored by the owner, with a scoring that died half way since.
    succeeded(
        flow_edge(&["score", &day, "--dport", "53", "--rating", "1"]),
        "owner's score",
    );
    let opened = Day::open(dir.path()).unwrap();
    let died = catch_unwind(AssertUnwindSafe(|| {
        opened.update_severities(|_| panic!("the scoring dies here, on purpose"), true)
    }));
    assert!(died.is_err());
    readable_by_all(dir.path());
    let before = listing(dir.path());

    let lists = flow_edge_as_nobody(&["lists", &day, "--json"]).unwrap();
    assert!(lists.status.success(), "{}", text(&lists.stderr));
    let warning = text(&lists.stderr);
    assert!(
        warning.contains("awaits recovery by the next command that writes the day"),
        "{warning}"
    );
    let heuristics = flow_edge_as_nobody(&["heuristics", &day, "--threshold", "1"]).unwrap();
    assert!(heuristics.status.success(), "{}", text(&heuristics.stderr));
    assert!(
        text(&heuristics.stdout).contains("10."),
        "{}",
        text(&heuristics.stdout)
    );
    assert_eq!(listing(dir.path()), before, "a reader changed the folder");

    // The owner's next command recovers it.
    let save = succeeded(flow_edge(&["save", &day]), "owner's save");
    assert!(text(&save.stderr).contains("rolled back"));
    assert!(!dir.path().join("flow_scores.csv.journal").exists());
}

/// Holds the day's lock from this process (as a scoring in a notebook would while it runs)
/// until the returned sender is dropped.
fn hold_the_lock(dir: &Path) -> (mpsc::Sender<()>, std::thread::JoinHandle<()>) {
    let day = Day::open(dir).unwrap();
    let (release, released) = mpsc::channel::<()>();
    let (holding, held) = mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        let mut first = true;
        let result = day.update_severities(
            |_| {
                if first {
                    first = false;
                    holding.send(()).unwrap();
                    let _ = released.recv();
                }
                None
            },
            true,
        );
        assert!(result.is_ok(), "{result:?}");
    });
    held.recv().unwrap();
    (release, holder)
}

#[test]
fn a_writer_waits_for_a_stuck_holder_only_so_long_and_names_its_pid() {
    let dir = tempfile::tempdir().unwrap();
    let day = generated_day(dir.path());
    let (release, holder) = hold_the_lock(dir.path());
    let holder_pid = format!("pid {}", std::process::id());

    let started = Instant::now();
    let out = flow_edge(&[
        "score",
        &day,
        "--dport",
        "53",
        "--rating",
        "1",
        "--lock-wait",
        "1",
    ]);
    let waited = started.elapsed();
    assert_eq!(out.status.code(), Some(1));
    let message = text(&out.stderr);
    assert!(
        message.contains("the day is busy") && message.contains(&holder_pid),
        "{message}"
    );
    assert!(message.contains("holding it for"), "{message}");
    assert!(message.contains("gave up after waiting 1.0 s"), "{message}");
    assert!(
        waited >= Duration::from_secs(1) && waited < Duration::from_secs(10),
        "{waited:?}"
    );

    // A reader waits as long as FLOW_EDGE_LOCK_WAIT says, for a writer half way.
    let out = Command::new(FLOW_EDGE)
        .args(["lists", &day])
        .env("FLOW_EDGE_LOCK_WAIT", "0.3")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let message = text(&out.stderr);
    assert!(
        message.contains(&holder_pid) && message.contains("0.3 s"),
        "{message}"
    );

    drop(release);
    holder.join().unwrap();
    succeeded(
        flow_edge(&["score", &day, "--dport", "53", "--rating", "1"]),
        "score once the holder is done",
    );
}

#[test]
fn the_library_bounds_the_wait_and_says_who_holds_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    generated_day(dir.path());
    let (release, holder) = hold_the_lock(dir.path());
    let mut paths = flow_edge::DayPaths::for_day_folder(dir.path());
    paths.lock_wait = Duration::from_millis(200);
    match Day::open_paths(paths) {
        Err(Error::Locked { holders, .. }) => {
            assert_eq!(holders[0].pid, std::process::id());
            assert!(holders[0].since.is_some(), "{holders:?}");
        }
        other => panic!("expected Error::Locked, got {other:?}"),
    }
    drop(release);
    holder.join().unwrap();
}

#[test]
fn a_lock_wait_that_is_not_a_number_of_seconds_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let day = generated_day(dir.path());
    for wait in ["soon", "-1", "inf"] {
        let out = flow_edge(&["save", &day, "--lock-wait", wait]);
        assert_eq!(out.status.code(), Some(2), "--lock-wait {wait}");
        assert!(text(&out.stderr).contains("is not a number of seconds"));
    }
    let out = Command::new(FLOW_EDGE)
        .args(["save", &day])
        .env("FLOW_EDGE_LOCK_WAIT", "a while")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("FLOW_EDGE_LOCK_WAIT \"a while\""));
}

/// Reads the whole day from this process, as a notebook's heuristics cell would, stopping at
/// its first row until the returned sender is dropped.
fn hold_a_read(dir: &Path) -> (mpsc::Sender<()>, std::thread::JoinHandle<()>) {
    let day = Day::open_read_only(dir).unwrap();
    let (release, released) = mpsc::channel::<()>();
    let (reading, read) = mpsc::channel::<()>();
    let reader = std::thread::spawn(move || {
        let mut first = true;
        let result = day.for_each_row(|_| -> Result<(), Error> {
            if first {
                first = false;
                reading.send(()).unwrap();
                let _ = released.recv();
            }
            Ok(())
        });
        assert!(result.is_ok(), "{result:?}");
    });
    read.recv().unwrap();
    (release, reader)
}

#[test]
fn a_scoring_in_place_waits_for_a_reader_only_so_long_and_a_save_does_not_wait() {
    let dir = tempfile::tempdir().unwrap();
    let day = generated_day(dir.path());
    let (release, reader) = hold_a_read(dir.path());
    let reader_pid = format!("pid {}", std::process::id());

    // The scoring writes bytes the reader is reading: it waits, then says who it waited for.
    let flow_before = fs::read(dir.path().join("flow_scores.csv")).unwrap();
    let out = flow_edge(&[
        "score",
        &day,
        "--dport",
        "53",
        "--rating",
        "1",
        "--lock-wait",
        "0.5",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let message = text(&out.stderr);
    assert!(
        message.contains("flow_scores.csv: the day is busy") && message.contains(&reader_pid),
        "{message}"
    );
    assert_eq!(
        fs::read(dir.path().join("flow_scores.csv")).unwrap(),
        flow_before
    );
    assert!(!dir.path().join("flow_scores.csv.journal").exists());

    // A save writes a new version beside the one being read: it does not wait.
    let started = Instant::now();
    succeeded(flow_edge(&["save", &day, "--lock-wait", "0.5"]), "save");
    assert!(started.elapsed() < Duration::from_secs(5));

    drop(release);
    reader.join().unwrap();
    succeeded(
        flow_edge(&["score", &day, "--dport", "53", "--rating", "1"]),
        "score once the reader is done",
    );
}
