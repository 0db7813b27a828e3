//! The files of a day that the crash-safety guarantees are about, read whole so two states
//! can be compared byte for byte. Shared by the crash tests.

use std::fs;
use std::path::Path;

/// `flow_scores.csv` and, if it exists, `flow_scores_fb.csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub flow: Vec<u8>,
    pub feedback: Option<Vec<u8>>,
}

/// Reads the snapshot of the day folder `dir`.
pub fn snapshot(dir: &Path) -> Snapshot {
    Snapshot {
        flow: fs::read(dir.join("flow_scores.csv")).expect("flow_scores.csv"),
        feedback: fs::read(dir.join("flow_scores_fb.csv")).ok(),
    }
}

/// Makes the day folder `to` hold the day files of `from` and nothing else (a journal or
/// temporary file a killed trial left is removed too).
// tests/crash.rs keeps its own copy, which leaves other files where they are.
#[allow(dead_code)]
pub fn copy_day(from: &Path, to: &Path) {
    for entry in fs::read_dir(to).expect("day folder") {
        fs::remove_file(entry.expect("entry").path()).expect("clearing the day");
    }
    for name in [
        "flow_scores.csv",
        "flow_scores_bu.csv",
        "flow_scores_fb.csv",
    ] {
        if from.join(name).exists() {
            fs::copy(from.join(name), to.join(name)).expect("copying the day");
        }
    }
}
