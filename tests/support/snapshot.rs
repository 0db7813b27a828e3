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
