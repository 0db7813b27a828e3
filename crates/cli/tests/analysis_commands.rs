//! The `rules`, `heuristics` and `upload` commands, run as a script would run them.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::{flow_edge, text};

const HEADER: &str = "sev,tstart,srcIP,dstIP,sport,dport,proto,flag,ipkt,ibyt,lda_score,rank,srcIpInternal,destIpInternal,srcGeo,dstGeo,srcDomain,dstDomain,srcIP_rep,dstIP_rep\n";

/// A folder removed when the test ends.
struct Folder(PathBuf);

impl Folder {
    fn new(name: &str) -> Folder {
        let path =
            std::env::temp_dir().join(format!("flow-edge-cli-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("create test folder");
        Folder(path)
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn row(src: &str, dst: &str, sport: u16, dport: &str, ipkt: u32, ibyt: u32) -> String {
    format!("0,2016-07-08 10:00:00,{src},{dst},{sport},{dport},TCP,.AP.SF,{ipkt},{ibyt},1e-06,1,1,0,,\"US;Mountain View, CA\",intel.com,,,\n")
}

/// A day where source 10.0.0.1 fans out to 25 hosts with tiny requests to port 80, and
/// 10.0.0.2 sends large transfers to port 8080.
fn write_day(dir: &Path) {
    let mut text = HEADER.to_string();
    for i in 0..25 {
        text += &row("10.0.0.1", &format!("192.168.1.{i}"), 40000, "80", 1, 54);
    }
    for i in 0..5 {
        text += &row(
            "10.0.0.2",
            &format!("192.168.2.{i}"),
            40000,
            "8080",
            10,
            9000,
        );
    }
    fs::write(dir.join("flow_scores.csv"), text).expect("write day");
}

#[test]
fn rules_with_the_defaults_score_the_day_and_report_per_rule_counts() {
    let folder = Folder::new("rules");
    write_day(&folder.0);
    let day = folder.0.to_str().expect("utf-8 path");

    let out = flow_edge(&["rules", day, "--json"]);

    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["scored"], 25);
    assert_eq!(
        report["rules"][0]["rule"],
        "dport <= 1024 and ibyt <= 54 -> 2"
    );
    assert_eq!(report["rules"][0]["rows"], 25);
    assert_eq!(report["fed_back"], false);
    let flows = fs::read_to_string(folder.0.join("flow_scores.csv")).expect("flows");
    assert_eq!(flows.lines().filter(|l| l.starts_with("2,")).count(), 25);
    assert!(!folder.0.join("flow_scores_fb.csv").exists());

    // The rows are scored now: a second run leaves them alone.
    let again = flow_edge(&["rules", day]);
    assert_eq!(again.status.code(), Some(0));
    let shown = text(&again.stdout);
    assert!(
        shown.contains("0 of 30 rows scored by rules; 25 already scored rows left alone"),
        "{shown}"
    );
}

#[test]
fn a_mistake_in_a_rules_file_exits_1_with_its_position_and_changes_nothing() {
    let folder = Folder::new("badrules");
    write_day(&folder.0);
    let rules = folder.0.join("my.rules");
    fs::write(
        &rules,
        "# tiny requests\ndport <= 1024 and ibyt <= 54 -> 2\nsrcIP in 10.0.0.0/33 -> 1\n",
    )
    .expect("write rules");
    let before = fs::read(folder.0.join("flow_scores.csv")).expect("flows");

    let out = flow_edge(&[
        "rules",
        folder.0.to_str().expect("utf-8"),
        "--file",
        rules.to_str().expect("utf-8"),
    ]);

    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr).trim(),
        format!(
            "flow-edge: {}:3:10: srcIP in: \"10.0.0.0/33\" has a prefix length out of range",
            rules.display()
        )
    );
    assert_eq!(
        fs::read(folder.0.join("flow_scores.csv")).expect("flows"),
        before
    );
}

#[test]
fn a_rules_file_can_be_checked_without_touching_the_day() {
    let folder = Folder::new("check");
    write_day(&folder.0);
    let rules = folder.0.join("my.rules");
    fs::write(&rules, "srcIP in 10.0.0.0/8 and dport==8080 -> 3\n").expect("write rules");
    let before = fs::read(folder.0.join("flow_scores.csv")).expect("flows");

    let out = flow_edge(&[
        "rules",
        folder.0.to_str().expect("utf-8"),
        "--file",
        rules.to_str().expect("utf-8"),
        "--check",
        "--with-unapplied",
    ]);

    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "srcIP in 10.0.0.0/8 and dport == 8080 -> 3\ndport <= 1024 and ipkt == 2 and ibyt == 104 -> 2\n"
    );
    assert_eq!(
        fs::read(folder.0.join("flow_scores.csv")).expect("flows"),
        before
    );
}

#[test]
fn heuristics_list_the_fanning_source_with_its_network_name() {
    let folder = Folder::new("heuristics");
    write_day(&folder.0);
    let nwloc = folder.0.join("context.csv");
    fs::write(&nwloc, "ip,name\n10.0.0.0/24,Build farm\n").expect("write context");

    let out = flow_edge(&[
        "heuristics",
        folder.0.to_str().expect("utf-8"),
        "--json",
        "--nwloc",
        nwloc.to_str().expect("utf-8"),
    ]);

    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        result["sources"],
        serde_json::json!([{"ip": "10.0.0.1", "name": "Build farm", "destinations": 25, "rows": 25}])
    );
    assert_eq!(result["sources_seen"], 2);

    let table = flow_edge(&[
        "heuristics",
        folder.0.to_str().expect("utf-8"),
        "--threshold",
        "4",
    ]);
    let shown = text(&table.stdout);
    assert!(
        shown.starts_with("2 of 2 sources connect to more than 4 destinations"),
        "{shown}"
    );
    assert!(text(&table.stderr).contains("note: no network context at"));
}

#[test]
fn heuristics_count_rows_as_the_original_ran_or_destinations_as_it_documented() {
    let folder = Folder::new("heuristics-count");
    write_day(&folder.0);
    // 10.0.0.3 polls one host 30 times: many rows, one destination.
    let flows = folder.0.join("flow_scores.csv");
    let mut day_text = fs::read_to_string(&flows).expect("read day");
    for _ in 0..30 {
        day_text += &row("10.0.0.3", "192.168.3.1", 40000, "443", 2, 120);
    }
    fs::write(&flows, day_text).expect("write day");
    let day = folder.0.to_str().expect("utf-8");
    let run = |count: &str| -> serde_json::Value {
        let out = flow_edge(&["heuristics", day, "--json", "--count", count]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("json")
    };

    let rows = run("rows");
    assert_eq!(rows["count"], "rows");
    assert_eq!(
        rows["sources"],
        serde_json::json!([
            {"ip": "10.0.0.3", "name": null, "destinations": 1, "rows": 30},
            {"ip": "10.0.0.1", "name": null, "destinations": 25, "rows": 25}
        ])
    );
    let destinations = run("destinations");
    assert_eq!(destinations["count"], "destinations");
    assert_eq!(
        destinations["sources"],
        serde_json::json!([{"ip": "10.0.0.1", "name": null, "destinations": 25, "rows": 25}])
    );
    // Without --count: destinations, as before.
    let table = flow_edge(&["heuristics", day]);
    assert!(text(&table.stdout).starts_with("1 of 3 sources connect to more than 20 destinations"));
    let table = flow_edge(&["heuristics", day, "--count", "rows"]);
    assert!(
        text(&table.stdout).starts_with("2 of 3 sources have more than 20 rows (connections)"),
        "{}",
        text(&table.stdout)
    );

    let wrong = flow_edge(&["heuristics", day, "--count", "hosts"]);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(text(&wrong.stderr).contains("\"hosts\" is not a fan-out count"));
}

#[test]
fn upload_problems_exit_1_and_unknown_options_exit_2() {
    let folder = Folder::new("upload");
    write_day(&folder.0);
    let day = folder.0.to_str().expect("utf-8");
    let conf = folder.0.join("spot.conf");
    fs::write(&conf, "LUSER='/home/duxbury'\nMLNODE=$(hostname)\n").expect("write conf");

    let out = flow_edge(&["upload", day, "--config", conf.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr).trim(),
        format!(
            "flow-edge: {}:2:8: command substitution is not supported",
            conf.display()
        )
    );

    fs::write(&conf, "LUSER='/home/duxbury'\nMLNODE=node04\n").expect("write conf");
    let out = flow_edge(&["upload", day, "--config", conf.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr).trim(),
        format!("flow-edge: {}: LPATH is not set", conf.display())
    );

    let out = flow_edge(&["upload", day, "--password", "x"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn heuristics_warn_about_a_malformed_context_line_and_keep_the_other_names() {
    let folder = Folder::new("heuristics-context-warning");
    write_day(&folder.0);
    let nwloc = folder.0.join("context.csv");
    // Spot's form: no header, a space after the comma; line 2 is broken.
    fs::write(&nwloc, "10.0.0.0/24, Build farm\n10.0.0.0/33, Typo\n").expect("write context");

    let out = flow_edge(&[
        "heuristics",
        folder.0.to_str().expect("utf-8"),
        "--json",
        "--nwloc",
        nwloc.to_str().expect("utf-8"),
    ]);

    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(result["sources"][0]["name"], "Build farm");
    assert_eq!(
        text(&out.stderr),
        format!(
            "warning: {}:2:1 (column ip): \"10.0.0.0/33\" has a prefix length out of range (line skipped)\n",
            nwloc.display()
        )
    );
}

#[test]
fn a_day_named_relative_to_the_working_folder_finds_the_oa_context() {
    let folder = Folder::new("relative-day-context");
    let day = folder.0.join("oa/data/flow/20160708");
    fs::create_dir_all(&day).expect("day folder");
    fs::create_dir_all(folder.0.join("oa/context")).expect("context folder");
    write_day(&day);
    fs::write(
        folder.0.join("oa/context/networkcontext.csv"),
        "10.0.0.1, Build farm\n",
    )
    .expect("write context");

    let out = Command::new(env!("CARGO_BIN_EXE_flow-edge"))
        .args(["heuristics", ".", "--json"])
        .current_dir(&day)
        .output()
        .expect("run flow-edge");

    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(result["sources"][0]["name"], "Build farm");
}
