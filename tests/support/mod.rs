//! Shared by the process-level tests: this test binary re-runs itself as a
//! child process that performs one engine operation, so the tests can kill it
//! or run two at once.

use flow_edge::synthetic::{generate_bytes, DaySpec};
use flow_edge::{Day, Selection};
use std::fs;
use std::path::Path;
use std::process::{Child, Command};

/// Set in a child's environment to the operation it must run.
const CHILD_OPERATION: &str = "FLOW_EDGE_TEST_CHILD_OPERATION";
const CHILD_DAY: &str = "FLOW_EDGE_TEST_CHILD_DAY";

/// If this process is a child, runs its operation and exits; otherwise
/// returns so the tests can run.
pub fn run_child_if_asked() {
    let (Ok(operation), Ok(day)) = (std::env::var(CHILD_OPERATION), std::env::var(CHILD_DAY))
    else {
        return;
    };
    let result = Day::open(&day).and_then(|day| run_operation(&day, &operation));
    match result {
        Ok(()) => std::process::exit(0),
        Err(error) => {
            eprintln!("child {operation}: {error}");
            std::process::exit(1)
        }
    }
}

/// Operations a child can run: `score:<dport>:<rating>` (one or more, joined
/// by `+`), `quick:<ip>:<rating>`, `save`, `restore`.
pub fn run_operation(day: &Day, operation: &str) -> Result<(), flow_edge::Error> {
    for step in operation.split('+') {
        let parts: Vec<&str> = step.split(':').collect();
        match parts.as_slice() {
            ["score", dport, rating] => {
                day.score(&Selection::new().dport(*dport), rating.parse().unwrap_or(0))?;
            }
            ["quick", ip, rating] => {
                day.score(&Selection::new().quick_ip(*ip), rating.parse().unwrap_or(0))?;
            }
            ["save"] => {
                day.save_and_sort()?;
            }
            ["restore"] => day.restore_backup()?,
            _ => panic!("unknown test operation {step:?}"),
        }
    }
    Ok(())
}

/// Starts this test binary as a child running `operation` on `day`.
pub fn spawn_child(day: &Path, operation: &str) -> Child {
    Command::new(std::env::current_exe().expect("the test binary's path"))
        .env(CHILD_OPERATION, operation)
        .env(CHILD_DAY, day)
        .spawn()
        .expect("starting the child")
}

/// Writes a generated day into `dir`.
pub fn write_day(dir: &Path, spec: &DaySpec) {
    fs::create_dir_all(dir).unwrap();
    fs::write(dir.join("flow_scores.csv"), generate_bytes(spec)).unwrap();
}
