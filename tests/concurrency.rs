//! Two analysts, two notebooks, one day: two processes score the same day at
//! the same time, several scorings each, and nothing is lost: every scoring
//! ends up in `flow_scores.csv` and in the feedback file.
//!
//! Runs without the test harness (`harness = false`) because the binary also
//! serves as the two children.

mod support;

use flow_edge::synthetic::DaySpec;
use flow_edge::{Column, Day};
use std::collections::HashMap;
use std::fs;
use support::{run_child_if_asked, spawn_child, write_day};

/// Destination ports each analyst scores, one scoring per port, and the rating.
const ANALYST_A: (&str, &[&str]) = ("1", &["53", "80", "443", "22", "25", "3389"]);
const ANALYST_B: (&str, &[&str]) = ("2", &["8080", "123", "445", "993", "1433", "5060"]);

fn operation((rating, ports): (&str, &[&str])) -> String {
    ports
        .iter()
        .map(|port| format!("score:{port}:{rating}"))
        .collect::<Vec<_>>()
        .join("+")
}

fn main() {
    run_child_if_asked();
    let dir = tempfile::tempdir().unwrap();
    write_day(dir.path(), &DaySpec::new(20_000, 5));
    let day = Day::open(dir.path()).unwrap();
    let original = fs::read(&day.paths().flow).unwrap();

    let mut first = spawn_child(dir.path(), &operation(ANALYST_A));
    let mut second = spawn_child(dir.path(), &operation(ANALYST_B));
    assert!(
        first.wait().unwrap().success(),
        "analyst A's scorings failed"
    );
    assert!(
        second.wait().unwrap().success(),
        "analyst B's scorings failed"
    );

    let wanted: HashMap<&str, &str> = [ANALYST_A, ANALYST_B]
        .iter()
        .flat_map(|(rating, ports)| ports.iter().map(move |port| (*port, *rating)))
        .collect();
    let mut expected_feedback = 0usize;
    day.for_each_row(|row| -> Result<(), flow_edge::Error> {
        let expected = wanted.get(row.get(Column::Dport)).copied().unwrap_or("0");
        assert_eq!(
            row.get(Column::Sev),
            expected,
            "line {}: dport {} lost its scoring",
            row.line(),
            row.get(Column::Dport)
        );
        if expected != "0" {
            expected_feedback += 1;
        }
        Ok(())
    })
    .unwrap();
    assert!(
        expected_feedback > 1000,
        "too few rows scored to mean anything"
    );

    let after = fs::read(&day.paths().flow).unwrap();
    assert_eq!(after.len(), original.len(), "bytes other than sev changed");
    let feedback = fs::read_to_string(&day.paths().feedback).unwrap();
    let rows: Vec<&str> = feedback.lines().skip(1).collect();
    assert_eq!(
        rows.len(),
        expected_feedback,
        "feedback rows lost or doubled"
    );
    for row in rows {
        let fields: Vec<&str> = row.split('\t').collect();
        assert_eq!(fields.len(), 20);
        assert_eq!(
            Some(&fields[0]),
            wanted.get(fields[5]),
            "feedback row {row:?}"
        );
    }
    println!("concurrency: 2 processes x 6 scorings, {expected_feedback} rows scored, none lost");
}
