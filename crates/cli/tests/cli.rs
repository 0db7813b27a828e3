//! The command-line tool as a script or a cron job uses it.

use std::fs;
use std::path::Path;
use std::process::Output;

mod common;
use common::{flow_edge, text};

fn generated_day(rows: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = flow_edge(&[
        "generate",
        &dir.path().display().to_string(),
        "--rows",
        rows,
        "--seed",
        "4",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

#[test]
fn a_script_lists_scores_saves_and_restores_a_day_with_json_output() {
    let dir = generated_day("500");
    let day = dir.path().display().to_string();
    let original = fs::read(dir.path().join("flow_scores.csv")).unwrap();

    let lists = flow_edge(&["lists", &day, "--coff", "20", "--json"]);
    assert!(lists.status.success());
    let lists = json(&lists);
    assert_eq!(lists["rows_read"], 20);
    let ip = lists["src_ips"][0].as_str().unwrap().to_owned();

    let scored = flow_edge(&["score", &day, "--ip", &ip, "--rating", "2", "--json"]);
    assert!(scored.status.success(), "{}", text(&scored.stderr));
    let scored = json(&scored);
    assert!(scored["scored"].as_u64().unwrap() >= 1);
    assert_eq!(scored["rows"], 500);
    let feedback = fs::read_to_string(dir.path().join("flow_scores_fb.csv")).unwrap();
    assert_eq!(
        feedback.lines().count() as u64,
        1 + scored["scored"].as_u64().unwrap()
    );

    let saved = json(&flow_edge(&["save", &day, "--json"]));
    assert_eq!(saved["by_severity"][1], scored["scored"]);
    let sorted = fs::read_to_string(dir.path().join("flow_scores.csv")).unwrap();
    assert!(sorted.lines().last().unwrap().starts_with("2,"));

    assert!(flow_edge(&["restore", &day]).status.success());
    assert_eq!(
        fs::read(dir.path().join("flow_scores.csv")).unwrap(),
        original
    );
}

#[test]
fn text_output_is_for_people() {
    let dir = generated_day("50");
    let day = dir.path().display().to_string();
    let lists = text(&flow_edge(&["lists", &day, "--coff", "5"]).stdout);
    assert!(lists.starts_with("Source IP"), "{lists}");
    assert!(lists.contains("(5 rows read)"), "{lists}");
    let scored = text(&flow_edge(&["score", &day, "--dport", "53", "--rating", "3"]).stdout);
    assert!(
        scored.ends_with("matching connections scored\n"),
        "{scored}"
    );
}

#[test]
fn bad_input_exits_1_with_the_position_on_stderr_and_changes_nothing() {
    let dir = generated_day("20");
    let flow = dir.path().join("flow_scores.csv");
    let mut content = fs::read_to_string(&flow).unwrap();
    content.push_str("0,oops\n");
    fs::write(&flow, &content).unwrap();
    let out = flow_edge(&[
        "score",
        &dir.path().display().to_string(),
        "--dport",
        "53",
        "--rating",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let message = text(&out.stderr);
    assert!(
        message.contains("flow_scores.csv:22: the row has 2 fields but the header has 20"),
        "{message}"
    );
    assert_eq!(fs::read_to_string(&flow).unwrap(), content);

    let out = flow_edge(&[
        "score",
        &dir.path().display().to_string(),
        "--ip",
        "not-an-ip",
        "--rating",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("not an IPv4 or IPv6 address"));

    let missing = flow_edge(&[
        "lists",
        &Path::new("/nonexistent/day").display().to_string(),
    ]);
    assert_eq!(missing.status.code(), Some(1));
}

#[test]
fn usage_mistakes_exit_2_with_the_usage() {
    for arguments in [
        vec![],
        vec!["frobnicate", "/tmp"],
        vec!["score", "/tmp", "--ip", "10.0.0.1"],
        vec!["score", "/tmp", "--rating", "x"],
        vec!["lists"],
        vec!["lists", "/tmp", "--bogus"],
    ] {
        let out = flow_edge(&arguments);
        assert_eq!(out.status.code(), Some(2), "{arguments:?}");
        assert!(
            text(&out.stderr).contains("usage: flow-edge"),
            "{arguments:?}"
        );
    }
    let help = flow_edge(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(text(&help.stdout).contains("exit codes"));
}
