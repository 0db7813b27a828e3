//! A scoring that died half way, found by the next command: it is recovered and reported, even
//! when the files it touched were changed by hand since.

use flow_edge::Day;
use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

mod common;
use common::{flow_edge, succeeded, text};

/// A generated day scored once from the command line (so the feedback file exists), then a
/// second scoring that dies after its journal's `begin` line, as a killed process leaves it.
fn day_with_a_scoring_that_died(dir: &Path) {
    let day = dir.display().to_string();
    succeeded(
        flow_edge(&["generate", &day, "--rows", "200", "--seed", "2"]),
        "generate",
    );
    succeeded(
        flow_edge(&["score", &day, "--dport", "53", "--rating", "1"]),
        "first score",
    );
    let opened = Day::open(dir).unwrap();
    let died = catch_unwind(AssertUnwindSafe(|| {
        opened.update_severities(|_| panic!("the scoring dies here, on purpose"), true)
    }));
    assert!(died.is_err());
    assert!(dir.join("flow_scores.csv.journal").exists());
}

#[test]
fn a_died_scoring_whose_feedback_file_was_removed_is_recovered_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    day_with_a_scoring_that_died(dir.path());
    fs::remove_file(dir.path().join("flow_scores_fb.csv")).unwrap();
    let flow_before = fs::read(dir.path().join("flow_scores.csv")).unwrap();

    let day = dir.path().display().to_string();
    let out = flow_edge(&["score", &day, "--dport", "80", "--rating", "2", "--json"]);
    let warnings = text(&out.stderr);
    assert!(out.status.success(), "{warnings}");
    assert!(
        warnings.contains("warning:")
            && warnings.contains("flow_scores_fb.csv: the feedback file was gone"),
        "{warnings}"
    );
    assert!(
        warnings
            .contains("a scoring was interrupted before it was complete and has been rolled back"),
        "{warnings}"
    );
    assert!(!dir.path().join("flow_scores.csv.journal").exists());
    assert!(!dir.path().join("flow_scores.csv.tmp").exists());

    // The new scoring went in: a fresh feedback file with its header and its rows only.
    let scored: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let feedback = fs::read_to_string(dir.path().join("flow_scores_fb.csv")).unwrap();
    assert_eq!(
        feedback.lines().count() as u64,
        1 + scored["scored"].as_u64().unwrap()
    );
    assert_ne!(
        fs::read(dir.path().join("flow_scores.csv")).unwrap(),
        flow_before
    );

    // Recovered once: the next command has nothing to say.
    let again = succeeded(flow_edge(&["save", &day]), "save");
    assert_eq!(text(&again.stderr), "");
}

#[test]
fn a_died_scoring_is_rolled_back_by_the_next_command_which_says_so() {
    let dir = tempfile::tempdir().unwrap();
    day_with_a_scoring_that_died(dir.path());
    let feedback = fs::read(dir.path().join("flow_scores_fb.csv")).unwrap();
    let out = succeeded(
        flow_edge(&["save", &dir.path().display().to_string()]),
        "save",
    );
    assert!(
        text(&out.stderr).contains("score those connections again"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        fs::read(dir.path().join("flow_scores_fb.csv")).unwrap(),
        feedback
    );
}
