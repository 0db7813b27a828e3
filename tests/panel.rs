//! The investigation panel's operations, as the analyst's buttons run them (without a
//! browser: the panel's methods do what the buttons do).

#[path = "support/ml_node.rs"]
mod ml_node;

use flow_edge::panel::{
    PanelOptions, RulesStatus, UndoError, UploadSettings, UploadStatus, UploadStep,
};
use flow_edge::spot::upload::ScpOptions;
use flow_edge::synthetic::{generate_bytes, DaySpec};
use flow_edge::{Column, Day, Panel, RuleSet, Selection};
use ml_node::{Behaviour, HangingNode};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A generated day in `<tmp>/data/flow/20160708`, with a network context naming one source.
fn oa_day(rows: usize) -> (tempfile::TempDir, Day) {
    let oa = tempfile::tempdir().unwrap();
    let dir = oa.path().join("data/flow/20160708");
    fs::create_dir_all(&dir).unwrap();
    fs::write(
        dir.join("flow_scores.csv"),
        generate_bytes(&DaySpec::new(rows, 11)),
    )
    .unwrap();
    let day = Day::open(&dir).unwrap();
    let first_source = day.listbox_values().unwrap().src_ips[0].clone();
    fs::create_dir_all(oa.path().join("context")).unwrap();
    fs::write(
        oa.path().join("context/networkcontext.csv"),
        format!("ip,name\n{first_source},Watched host\n"),
    )
    .unwrap();
    (oa, day)
}

/// Options without widgets, with the upload reading `conf` (a missing file by default).
fn options(conf: PathBuf) -> PanelOptions {
    PanelOptions {
        upload: UploadSettings {
            spot_conf: Some(conf),
            ..UploadSettings::default()
        },
        interactive: false,
        ..PanelOptions::default()
    }
}

fn panel(day: &Day) -> Panel {
    day.panel_with(options(day.paths().dir.join("no-such-spot.conf")))
        .unwrap()
}

fn bytes(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_default()
}

/// A realistic generated day (scanner probes the original's rules catch, Spot-style context
/// columns) in `<tmp>/data/flow/20160708`, 20 or 22 columns.
fn realistic_day(rows: usize, wide: bool) -> (tempfile::TempDir, Day) {
    let oa = tempfile::tempdir().unwrap();
    let dir = oa.path().join("data/flow/20160708");
    fs::create_dir_all(&dir).unwrap();
    let spec = DaySpec {
        realistic: true,
        wide,
        scored_share: 0.02,
        ..DaySpec::new(rows, 5)
    };
    fs::write(dir.join("flow_scores.csv"), generate_bytes(&spec)).unwrap();
    let day = Day::open(&dir).unwrap();
    (oa, day)
}

/// Each data row's severity, and whether one of the original's rules matches it.
fn severities_and_rule_matches(day: &Day) -> Vec<(u8, bool)> {
    let rules = RuleSet::original();
    let mut rows = Vec::new();
    day.for_each_row(|row| {
        let matched = rules.first_match(row).unwrap().is_some();
        rows.push((row.severity()?, matched));
        Ok::<(), flow_edge::Error>(())
    })
    .unwrap();
    rows
}

#[test]
fn opening_the_panel_gives_the_rule_rows_severity_2_leaves_analyst_scores_and_feeds_nothing_back() {
    let (_oa, day) = realistic_day(20_000, false);
    let before = severities_and_rule_matches(&day);
    let covered = before.iter().filter(|(_, matched)| *matched).count() as u64;
    let unscored_covered = before.iter().filter(|&&(sev, m)| m && sev == 0).count() as u64;
    assert!(unscored_covered > 200, "{unscored_covered} of {covered}");

    let panel = panel(&day);

    let after = severities_and_rule_matches(&day);
    for (&(old, matched), &(new, _)) in before.iter().zip(&after) {
        let expected = if matched && old == 0 { 2 } else { old };
        assert_eq!(new, expected, "an analyst's score is never overwritten");
    }
    assert!(
        !day.paths().feedback.exists(),
        "rule scores are not fed back"
    );
    assert_eq!(panel.rules().scored(), unscored_covered);
    let shown = panel.to_string();
    let line = format!("rules: {unscored_covered} rows → 2; `dport <= 1024 and ibyt <= 54`: ");
    assert!(shown.contains(&line), "{shown}");
    assert!(
        shown.find(&line).unwrap() < shown.find("Source IP").unwrap(),
        "the line comes above the listboxes: {shown}"
    );
    // The listboxes list unscored rows only: the rule rows left them.
    assert_eq!(panel.lists(), day.listbox_values().unwrap());
}

#[test]
fn save_applies_the_rules_before_it_sorts_so_rule_rows_end_up_with_the_scored_ones() {
    let (_oa, day) = realistic_day(3000, true);
    let panel = panel(&day);
    let on_open = panel.rules().scored();
    assert!(on_open > 0);
    // A colleague restores the original scores meanwhile: the rule rows are unscored again.
    Day::open(&day.paths().dir)
        .unwrap()
        .restore_backup()
        .unwrap();

    let outcome = panel.save();
    assert!(outcome.sort.is_ok(), "{outcome}");

    assert_eq!(panel.rules().scored(), 2 * on_open);
    let rows = severities_and_rule_matches(&day);
    let first_scored = rows.iter().position(|(sev, _)| *sev != 0).unwrap();
    assert!(rows[first_scored..].iter().all(|(sev, _)| *sev != 0));
    assert!(rows.iter().all(|&(sev, matched)| !matched || sev != 0));
}

#[test]
fn a_panel_on_a_day_opened_read_only_opens_writes_nothing_and_says_rules_were_not_applied() {
    let (_oa, written) = realistic_day(2000, false);
    let flows = bytes(&written.paths().flow);
    let day = Day::open_read_only(&written.paths().dir).unwrap();

    let panel = panel(&day);

    assert_eq!(panel.rules(), RulesStatus::ReadOnly);
    assert_eq!(bytes(&day.paths().flow), flows);
    let shown = panel.to_string();
    assert!(
        shown.contains("rules: not applied: the day was opened read-only"),
        "{shown}"
    );
    assert!(!panel.lists().src_ips.is_empty());
    let ip = panel.lists().src_ips[0].clone();
    assert!(panel.preview(&Selection::new().src_ip(ip)).unwrap().matched > 0);
}

#[test]
fn the_panel_applies_the_rules_it_is_given_or_none_when_turned_off() {
    let (_oa, day) = realistic_day(2000, false);
    let flows = bytes(&day.paths().flow);
    let off = day
        .panel_with(PanelOptions {
            rules_on_open: false,
            ..options(day.paths().dir.join("no-such-spot.conf"))
        })
        .unwrap();
    assert_eq!(off.rules(), RulesStatus::Off);
    assert!(off.to_string().contains("rules: off"));
    assert_eq!(bytes(&day.paths().flow), flows);

    // As edited in the notebook's rules cell: DNS to the scanners' targets is low risk.
    let rules = RuleSet::parse(
        "dport == 53 -> 3
",
        "the rules cell",
    )
    .unwrap();
    let dns = day
        .panel_with(PanelOptions {
            rules,
            ..options(day.paths().dir.join("no-such-spot.conf"))
        })
        .unwrap();
    let mut dns_rows = 0;
    day.for_each_row(|row| {
        if row.get(Column::Dport) == "53" {
            assert_ne!(row.severity()?, 0);
            dns_rows += 1;
        }
        Ok::<(), flow_edge::Error>(())
    })
    .unwrap();
    assert!(dns_rows > 0);
    assert!(dns.to_string().contains("rows → 3; `dport == 53`: "));
}

#[test]
fn rules_that_cannot_be_applied_say_why_and_the_panel_opens() {
    let (_oa, day) = realistic_day(1000, false);
    let flows = bytes(&day.paths().flow);
    // A 20-column day has no GTI column.
    let rules = RuleSet::parse(
        "gtiSrcRep == gti:High:3 -> 1
",
        "the rules cell",
    )
    .unwrap();
    let panel = day
        .panel_with(PanelOptions {
            rules,
            ..options(day.paths().dir.join("no-such-spot.conf"))
        })
        .unwrap();
    let RulesStatus::Failed(why) = panel.rules() else {
        panic!("{}", panel.rules());
    };
    assert!(why.contains("no column \"gtiSrcRep\""), "{why}");
    assert!(panel.to_string().contains("rules: not applied: "));
    assert_eq!(bytes(&day.paths().flow), flows);
    assert!(!panel.lists().src_ips.is_empty());
}

#[test]
fn the_preview_shows_reputation_place_and_domain_of_22_column_days() {
    let (_oa, day) = realistic_day(2000, true);
    let panel = panel(&day);
    // An external source: Spot's context columns describe it.
    let ip = panel
        .lists()
        .src_ips
        .into_iter()
        .find(|ip| !ip.starts_with("10."))
        .unwrap();
    let preview = panel.preview(&Selection::new().src_ip(ip.clone())).unwrap();
    let first = &preview.first.connections[0];
    let columns: Vec<Column> = first
        .src_context
        .reputation
        .iter()
        .map(|(c, _)| *c)
        .collect();
    assert_eq!(columns, [Column::GtiSrcRep, Column::NorseSrcRep]);
    assert!(first.src_context.reputation_level().is_some());
    let shown = preview.to_string();
    let line = shown
        .lines()
        .find(|line| line.contains(" · ") && line.contains('['))
        .unwrap_or_else(|| panic!("no context line in\n{shown}"));
    assert!(
        ["[high]", "[medium]", "[low]", "[unknown]"]
            .iter()
            .any(|badge| line.contains(badge)),
        "{line}"
    );
}

#[test]
fn scoring_a_source_ip_reports_the_count_and_removes_it_from_the_listbox_when_all_scored() {
    let (_oa, day) = oa_day(400);
    let panel = panel(&day);
    let ip = panel.lists().src_ips[0].clone();
    let preview = panel.preview(&Selection::new().src_ip(ip.clone())).unwrap();
    let report = panel
        .score(&Selection::new().src_ip(ip.clone()), 1)
        .unwrap();
    assert_eq!(report.scored, preview.matched);
    assert!(report.scored > 0);
    assert!(!panel.lists().src_ips.contains(&ip));
    let feedback = fs::read_to_string(&day.paths().feedback).unwrap();
    assert_eq!(feedback.lines().count() as u64, report.scored + 1);
    assert!(feedback.lines().skip(1).all(|line| line.starts_with("1\t")));
    assert_eq!(panel.log()[0].selection, format!("source IP {ip}"));
}

#[test]
fn a_bad_selection_scores_nothing_and_says_why() {
    let (_oa, day) = oa_day(100);
    let panel = panel(&day);
    let before = bytes(&day.paths().flow);
    let nothing = panel.score(&Selection::new(), 1).unwrap_err().to_string();
    assert!(nothing.contains("no filter chosen"), "{nothing}");
    let bad_ip = panel
        .score(&Selection::new().quick_ip("10.0.0.256"), 2)
        .unwrap_err()
        .to_string();
    assert!(bad_ip.contains("not an IPv4 or IPv6 address"), "{bad_ip}");
    assert_eq!(bytes(&day.paths().flow), before);
    assert!(!day.paths().feedback.exists());
}

#[test]
fn undo_gives_back_both_files_byte_for_byte() {
    let (_oa, day) = oa_day(500);
    let lists = day.listbox_values().unwrap();
    // Some feedback exists already, from an earlier scoring.
    day.score(&Selection::new().dport(lists.dports[0].clone()), 2)
        .unwrap();
    let (flow, feedback) = (bytes(&day.paths().flow), bytes(&day.paths().feedback));
    let panel = panel(&day);
    let ip = panel.lists().src_ips[0].clone();
    let selection = Selection::new().quick_ip(ip);
    let before = panel.preview(&selection).unwrap();
    let report = panel.score(&selection, 3).unwrap();
    assert!(report.scored > 0);
    assert_ne!(bytes(&day.paths().flow), flow);
    assert_eq!(panel.undo().unwrap().rows, report.scored);
    assert_eq!(bytes(&day.paths().flow), flow);
    assert_eq!(bytes(&day.paths().feedback), feedback);
    // The preview shows the previous severities again.
    assert_eq!(panel.preview(&selection).unwrap(), before);
    assert!(panel.log()[0].undone);
    // Only once.
    assert!(matches!(panel.undo(), Err(UndoError::Stale(_))));
}

#[test]
fn a_score_click_and_its_undo_write_into_the_days_own_file() {
    use std::os::unix::fs::MetadataExt;
    let (_oa, day) = oa_day(2000);
    let file_at = |path: &Path| {
        let meta = fs::metadata(path).unwrap();
        (meta.dev(), meta.ino())
    };
    let flow = &day.paths().flow;
    let (file, before) = (file_at(flow), bytes(flow));
    let panel = panel(&day);
    let port = panel.lists().dports[0].clone();
    let report = panel.score(&Selection::new().dport(port), 2).unwrap();
    assert!(report.scored > 50);
    assert_eq!(file_at(flow), file, "the scoring replaced the day's file");
    let after = bytes(flow);
    let changed = before.iter().zip(&after).filter(|(a, b)| a != b).count();
    assert_eq!(changed as u64, report.scored);
    panel.undo().unwrap();
    assert_eq!(file_at(flow), file, "the undo replaced the day's file");
    assert_eq!(bytes(flow), before);
}

#[test]
fn undo_of_the_first_scoring_removes_the_feedback_file_it_created() {
    let (_oa, day) = oa_day(200);
    let flow = bytes(&day.paths().flow);
    let panel = panel(&day);
    let port = panel.lists().dports[0].clone();
    panel.score(&Selection::new().dport(port), 1).unwrap();
    assert!(day.paths().feedback.exists());
    panel.undo().unwrap();
    assert_eq!(bytes(&day.paths().flow), flow);
    assert!(!day.paths().feedback.exists());
}

#[test]
fn undo_is_refused_after_a_scoring_elsewhere_and_changes_nothing() {
    let (_oa, day) = oa_day(300);
    let panel = panel(&day);
    let lists = panel.lists();
    panel
        .score(&Selection::new().src_ip(lists.src_ips[0].clone()), 1)
        .unwrap();
    // Another notebook scores the same day.
    let other = Day::open(&day.paths().dir).unwrap();
    other
        .score(&Selection::new().dst_ip(lists.dst_ips[0].clone()), 2)
        .unwrap();
    let (flow, feedback) = (bytes(&day.paths().flow), bytes(&day.paths().feedback));
    let error = panel.undo().unwrap_err().to_string();
    assert!(error.contains("changed since that scoring"), "{error}");
    assert_eq!(bytes(&day.paths().flow), flow);
    assert_eq!(bytes(&day.paths().feedback), feedback);
}

#[test]
fn save_sorts_refreshes_and_shows_the_upload_failure_without_touching_local_files() {
    let (_oa, day) = oa_day(300);
    let panel = panel(&day);
    let ip = panel.lists().src_ips[1].clone();
    panel
        .score(&Selection::new().src_ip(ip.clone()), 1)
        .unwrap();
    let feedback = bytes(&day.paths().feedback);
    let outcome = panel.save();
    let sort = outcome.sort.as_ref().unwrap();
    assert!(sort.by_severity[0] > 0);
    let shown = outcome.to_string();
    assert!(
        shown.contains("Suspicious connects successfully updated"),
        "{shown}"
    );
    assert!(shown.contains("Feedback not uploaded"), "{shown}");
    assert!(shown.contains("no-such-spot.conf"), "{shown}");
    assert_eq!(bytes(&day.paths().feedback), feedback);
    // Sorted: every unscored row before every scored one.
    let text = fs::read_to_string(&day.paths().flow).unwrap();
    let sevs: Vec<&str> = text.lines().skip(1).map(|l| &l[..1]).collect();
    let first_scored = sevs.iter().position(|s| *s != "0").unwrap();
    assert!(sevs[first_scored..].iter().all(|s| *s != "0"));
    // The sort moved rows: that scoring cannot be undone row by row any more.
    assert!(panel.undo().is_err());
    assert!(!panel.lists().src_ips.contains(&ip));
}

#[test]
fn the_preview_follows_a_scoring_made_elsewhere() {
    let (_oa, day) = oa_day(300);
    let panel = panel(&day);
    let ip = panel.lists().src_ips[0].clone();
    let selection = Selection::new().src_ip(ip);
    let before = panel.preview(&selection).unwrap();
    assert_eq!(before.already_scored, 0);
    Day::open(&day.paths().dir)
        .unwrap()
        .score(&selection, 2)
        .unwrap();
    let after = panel.preview(&selection).unwrap();
    assert_eq!(after.matched, before.matched);
    assert_eq!(after.already_scored, before.matched);
    assert!(after.first.connections.iter().all(|c| c.sev == "2"));
}

#[test]
fn names_from_the_network_context_appear_in_the_preview() {
    let (_oa, day) = oa_day(100);
    let panel = panel(&day);
    let ip = panel.lists().src_ips[0].clone();
    let preview = panel.preview(&Selection::new().src_ip(ip)).unwrap();
    assert_eq!(
        preview.first.connections[0].src_name.as_deref(),
        Some("Watched host")
    );
    assert!(preview.to_string().contains("Watched host"));
}

/// Replaces the day's network context file with `text`; returns its path.
fn write_context(day: &Day, text: &str) -> PathBuf {
    let nwloc = day.settings().nwloc.clone();
    fs::write(&nwloc, text).unwrap();
    nwloc
}

#[test]
fn spot_install_guide_context_without_a_header_names_addresses_in_the_panel() {
    let (_oa, day) = oa_day(100);
    let lists = day.listbox_values().unwrap();
    let (first, second) = (&lists.src_ips[0], &lists.src_ips[1]);
    // As Spot's install guide writes it: no header, a space after the comma.
    write_context(&day, &format!("{first}, AnyMachine\n{second}, MySystem\n"));
    let panel = panel(&day);
    let shown = panel.to_string();
    assert!(shown.contains(&format!("{first} (AnyMachine)")), "{shown}");
    assert!(shown.contains(&format!("{second} (MySystem)")), "{shown}");
    assert!(!shown.contains("warning"), "{shown}");
    let preview = panel
        .preview(&Selection::new().src_ip(first.clone()))
        .unwrap();
    assert_eq!(
        preview.first.connections[0].src_name.as_deref(),
        Some("AnyMachine")
    );
}

#[test]
fn a_malformed_context_line_is_one_warning_above_the_listboxes_and_the_panel_opens() {
    let (_oa, day) = oa_day(100);
    let lists = day.listbox_values().unwrap();
    let (first, second) = (&lists.src_ips[0], &lists.src_ips[1]);
    let nwloc = write_context(
        &day,
        &format!("srcIP,name\n{first},Watched host\n10.0.0/8,Typo\n{second}, Other host\n"),
    );
    let panel = panel(&day);
    let shown = panel.to_string();
    let warning = format!(
        "warning: {}:3:1 (column ip): \"10.0.0/8\" is not an IPv4 or IPv6 address (line skipped)",
        nwloc.display()
    );
    assert_eq!(shown.matches(&warning).count(), 1, "{shown}");
    assert_eq!(shown.matches("warning").count(), 1, "{shown}");
    let listboxes = shown.find("Source IP").expect("the listbox table");
    assert!(shown.find(&warning).unwrap() < listboxes, "{shown}");
    // The lines before and after the bad one still name their addresses.
    assert!(
        shown.contains(&format!("{first} (Watched host)")),
        "{shown}"
    );
    assert!(shown.contains(&format!("{second} (Other host)")), "{shown}");
    // Scoring works as usual.
    let report = panel
        .score(&Selection::new().src_ip(first.clone()), 2)
        .unwrap();
    assert!(report.scored > 0);
}

/// Options whose upload goes to a hanging ML node on `port`, within `deadline`.
fn options_for_node(oa: &Path, port: u16, deadline: Duration, interactive: bool) -> PanelOptions {
    let conf = oa.join("spot.conf");
    fs::write(
        &conf,
        "MLNODE=127.0.0.1\nLUSER=/home/duxbury\nLPATH=/home/duxbury/ml/${DSOURCE}/${FDATE}\n",
    )
    .unwrap();
    PanelOptions {
        upload: UploadSettings {
            spot_conf: Some(conf),
            scp: ScpOptions {
                port: Some(port),
                ssh_config_file: Some(PathBuf::from("/dev/null")),
                known_hosts_file: Some(oa.join("known_hosts")),
                connect_timeout: Duration::from_secs(2),
                deadline,
                ..ScpOptions::default()
            },
        },
        interactive,
        ..PanelOptions::default()
    }
}

#[test]
fn save_with_a_silent_ml_node_returns_at_once_and_the_panel_stays_usable_while_it_uploads() {
    let node = HangingNode::start(Behaviour::Silent);
    // Without widgets and with them (the button's way, in-process without a kernel).
    for interactive in [false, true] {
        let (oa, day) = oa_day(300);
        let deadline = Duration::from_secs(4);
        let panel = day
            .panel_with(options_for_node(
                oa.path(),
                node.port,
                deadline,
                interactive,
            ))
            .unwrap();
        let ips = panel.lists().src_ips;
        panel
            .score(&Selection::new().src_ip(ips[0].clone()), 3)
            .unwrap();

        let clicked = Instant::now();
        let outcome = panel
            .save_in_background()
            .expect("the first Save is accepted");
        assert!(
            clicked.elapsed() < Duration::from_secs(2),
            "{:?}",
            clicked.elapsed()
        );
        assert!(outcome.sort.is_ok());
        assert!(
            matches!(outcome.upload, UploadStep::Started { .. }),
            "{outcome}"
        );
        assert!(
            outcome.to_string().contains("Uploading the feedback"),
            "{outcome}"
        );

        // The analyst goes on scoring while the feedback is on its way.
        let report = panel
            .score(&Selection::new().src_ip(ips[1].clone()), 1)
            .unwrap();
        assert!(report.scored > 0);
        assert!(matches!(
            panel.upload_status(),
            UploadStatus::Running { .. }
        ));
        let refused = panel
            .save_in_background()
            .expect_err("a second Save is refused");
        assert!(refused.to_string().contains("still running"), "{refused}");

        let ended = panel.wait_for_upload(deadline + Duration::from_secs(5));
        assert!(clicked.elapsed() < deadline + Duration::from_secs(2));
        match &ended {
            UploadStatus::Ended(result) => assert!(result.is_err()),
            other => panic!("the upload did not end: {other}"),
        }
        let shown = ended.to_string();
        assert!(
            shown.starts_with("Feedback not uploaded: ML node 127.0.0.1"),
            "{shown}"
        );
        // Once it ended, Save is accepted again.
        assert!(panel.save_in_background().is_ok());
        panel.wait_for_upload(deadline + Duration::from_secs(5));
    }
}

#[test]
fn save_from_code_waits_for_the_upload_but_no_longer_than_its_deadline() {
    let node = HangingNode::start(Behaviour::Trickle);
    let (oa, day) = oa_day(200);
    let deadline = Duration::from_secs(2);
    let panel = day
        .panel_with(options_for_node(oa.path(), node.port, deadline, false))
        .unwrap();
    let ip = panel.lists().src_ips[0].clone();
    panel.score(&Selection::new().quick_ip(ip), 2).unwrap();
    let feedback = bytes(&day.paths().feedback);

    let started = Instant::now();
    let outcome = panel.save();

    assert!(started.elapsed() < deadline + Duration::from_secs(2));
    let shown = outcome.to_string();
    assert!(
        shown.contains("did not take the feedback within 2 s"),
        "{shown}"
    );
    assert_eq!(bytes(&day.paths().feedback), feedback);
}
