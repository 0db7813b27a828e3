//! Rules, attack heuristics, network context and their views, on real day folders.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use flow_edge::analysis::rules::{apply_rules, ApplyOptions, RuleSet, RulesError};
use flow_edge::synthetic::{generate_bytes, DaySpec};
use flow_edge::views::ToHtml;
use flow_edge::{attack_heuristics, Column, ConnectionPage, Day, FanOut, NetworkContext, Problem};

const HEADER: &str = "sev,tstart,srcIP,dstIP,sport,dport,proto,flag,ipkt,ibyt,lda_score,rank,srcIpInternal,destIpInternal,srcGeo,dstGeo,srcDomain,dstDomain,srcIP_rep,dstIP_rep\n";

/// A 20-column row with the fields the rules read; the rest is fixed, with quoted commas.
fn row(sev: u8, src: &str, dst: &str, sport: u16, dport: &str, ipkt: u32, ibyt: u32) -> String {
    format!(
        "{sev},2016-07-08 10:00:00,{src},{dst},{sport},{dport},TCP,.AP.SF,{ipkt},{ibyt},1e-06,1,1,0,,\"US;Mountain View, CA\",intel.com,\"ACME \"\"Cloud\"\", Inc\",,\n"
    )
}

/// One row per situation the original rules tell apart.
fn rules_day() -> String {
    let mut text = HEADER.to_string();
    text += &row(0, "10.0.0.1", "8.8.8.8", 5000, "80", 1, 54); // rule 1
    text += &row(0, "10.0.0.2", "8.8.8.8", 5000, "443", 3, 152); // rule 2
    text += &row(0, "10.0.0.3", "8.8.8.8", 0, "22", 9, 900); // rule 3
    text += &row(0, "10.0.0.4", "8.8.8.8", 0, "53", 1, 40); // rules 1 and 3: the first wins
    text += &row(0, "10.0.0.5", "8.8.8.8", 5000, "8080", 1, 40); // none (port too high)
    text += &row(0, "10.0.0.6", "8.8.8.8", 5000, "80", 2, 104); // only the unapplied rule
    text += &row(1, "10.0.0.7", "8.8.8.8", 5000, "80", 1, 54); // analyst said 1 already
    text
}

fn open(content: &str) -> (tempfile::TempDir, Day) {
    let dir = tempfile::tempdir().expect("temp dir");
    fs::write(dir.path().join("flow_scores.csv"), content).expect("write day");
    let day = Day::open(dir.path()).expect("open day");
    (dir, day)
}

fn severities(day: &Day) -> Vec<String> {
    let mut out = Vec::new();
    day.for_each_row(|row| {
        out.push(row.get(Column::Sev).to_string());
        Ok::<(), flow_edge::Error>(())
    })
    .expect("read day");
    out
}

fn bytes(path: &Path) -> Vec<u8> {
    fs::read(path).expect("read file")
}

#[test]
fn the_original_rules_score_a_day_in_one_pass_and_leave_analyst_scores_alone() {
    let (_dir, day) = open(&rules_day());
    let report = apply_rules(&day, &RuleSet::original(), ApplyOptions::default()).expect("apply");

    let counts: Vec<u64> = report.counts.iter().map(|c| c.rows).collect();
    assert_eq!(counts, [2, 1, 1]);
    assert_eq!(report.rows_read, 7);
    assert_eq!(report.already_scored, 1);
    assert_eq!(severities(&day), ["2", "2", "2", "2", "0", "0", "1"]);
    assert!(
        !day.paths().feedback.exists(),
        "rules are not analyst feedback"
    );

    // Only the sev field changed: every other byte is as it was.
    let expected = rules_day()
        .lines()
        .zip(["sev", "2", "2", "2", "2", "0", "0", "1"])
        .map(|(line, sev)| match line.split_once(',') {
            Some((_, rest)) if sev != "sev" => format!("{sev},{rest}\n"),
            _ => format!("{line}\n"),
        })
        .collect::<String>();
    assert_eq!(
        String::from_utf8(bytes(&day.paths().flow)).expect("utf-8"),
        expected
    );
}

#[test]
fn rescoring_and_feedback_happen_only_when_asked() {
    let (_dir, day) = open(&rules_day());
    let rules = RuleSet::original_with_unapplied();
    let options = ApplyOptions {
        rescore: true,
        feed_back: true,
    };
    let report = apply_rules(&day, &rules, options).expect("apply");

    assert_eq!(report.already_scored, 0);
    assert_eq!(report.counts[0].rows, 3, "the analyst's row was rescored");
    assert_eq!(
        report.counts[3].rows, 1,
        "the unapplied rule, when added, applies"
    );
    assert_eq!(severities(&day), ["2", "2", "2", "2", "0", "2", "2"]);
    let feedback = String::from_utf8(bytes(&day.paths().feedback)).expect("utf-8");
    assert_eq!(
        feedback.lines().count(),
        1 + 6,
        "header and the six scored rows"
    );
    assert!(report.to_string().contains("sent to the feedback file"));
}

#[test]
fn a_rule_on_a_column_the_file_lacks_changes_nothing() {
    let spec = DaySpec {
        wide: true,
        ..DaySpec::new(200, 7)
    };
    let (_dir, day) = open(&String::from_utf8(generate_bytes(&spec)).expect("utf-8"));
    let before = bytes(&day.paths().flow);
    let rules = RuleSet::parse(
        "dport <= 1024 -> 2\nsrcIP_rep == UNVERIFIED -> 3\n",
        "my.rules",
    )
    .expect("valid rules");

    let err = apply_rules(&day, &rules, ApplyOptions::default()).expect_err("no srcIP_rep");

    assert!(matches!(
        err,
        RulesError::MissingColumn {
            column: "srcIP_rep",
            ..
        }
    ));
    assert!(err.to_string().ends_with(
        "no column \"srcIP_rep\" for rule `srcIP_rep == UNVERIFIED -> 3`; nothing changed"
    ));
    assert_eq!(bytes(&day.paths().flow), before);
}

#[test]
fn a_port_that_is_not_a_number_is_reported_with_line_and_column_and_nothing_changes() {
    let mut text = rules_day();
    text += &row(0, "10.0.0.8", "8.8.8.8", 5000, "http", 1, 54);
    let (_dir, day) = open(&text);
    let before = bytes(&day.paths().flow);

    let err =
        apply_rules(&day, &RuleSet::original(), ApplyOptions::default()).expect_err("bad port");

    match err {
        RulesError::Engine(e) => {
            assert_eq!(e.problem(), Some(&Problem::NotAPort("http".into())));
            let at = e.position().expect("positioned");
            assert_eq!((at.line, at.column), (9, Some(6)));
        }
        other => panic!("expected an engine error, got {other}"),
    }
    assert_eq!(bytes(&day.paths().flow), before);
}

#[test]
fn heuristics_count_rows_as_the_original_ran_and_distinct_destinations_as_it_documented() {
    let spec = DaySpec {
        ipv6_share: 0.2,
        shuffle_columns: true,
        ..DaySpec::new(20_000, 11)
    };
    let (_dir, day) = open(&String::from_utf8(generate_bytes(&spec)).expect("utf-8"));

    // The same numbers, counted the slow and obvious way.
    let mut by_source: BTreeMap<String, (BTreeSet<String>, u64)> = BTreeMap::new();
    day.for_each_row(|row| {
        let entry = by_source
            .entry(row.get(Column::SrcIp).to_string())
            .or_default();
        entry.0.insert(row.get(Column::DstIp).to_string());
        entry.1 += 1;
        Ok::<(), flow_edge::Error>(())
    })
    .expect("read");
    let counted: Vec<(String, u64, u64)> = by_source
        .into_iter()
        .map(|(ip, (dsts, rows))| (ip, dsts.len() as u64, rows))
        .collect();

    for count in [FanOut::Rows, FanOut::Destinations] {
        let result = attack_heuristics(&day, count, 20).expect("heuristics");
        // (chosen count, other count, address) of each source above 20.
        let key = |&(ref ip, dsts, rows): &(String, u64, u64)| match count {
            FanOut::Rows => (rows, dsts, ip.clone()),
            FanOut::Destinations => (dsts, rows, ip.clone()),
        };
        let mut expected: Vec<(u64, u64, String)> = counted
            .iter()
            .map(key)
            .filter(|(chosen, _, _)| *chosen > 20)
            .collect();
        expected.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        let found: Vec<(u64, u64, String)> = result
            .sources
            .iter()
            .map(|s| key(&(s.ip.clone(), s.destinations, s.rows)))
            .collect();
        assert_eq!(found, expected, "{count:?}");
        assert!(!found.is_empty(), "the generator's scanners fan out");
        assert_eq!(result.rows_read, 20_000);
    }
}

#[test]
fn network_names_appear_beside_addresses_in_heuristics_and_connection_tables() {
    let mut text = HEADER.to_string();
    for i in 0..30 {
        text += &row(0, "10.0.0.1", &format!("192.168.7.{i}"), 5000, "80", 1, 54);
    }
    let (dir, day) = open(&text);
    let nwloc = dir.path().join("networkcontext.csv");
    fs::write(
        &nwloc,
        "ip,name\n10.0.0.0/8,Corporate\n10.0.0.1,Build <server>\n192.168.0.0/16,Lab\n",
    )
    .expect("write context");
    let context = NetworkContext::load(&nwloc).expect("context");

    let heuristics = attack_heuristics(&day, FanOut::Destinations, 20)
        .expect("heuristics")
        .with_context(&context);
    assert_eq!(
        heuristics.sources[0].name.as_deref(),
        Some("Build <server>")
    );
    let shown = heuristics.to_string();
    assert!(shown.contains("Build <server>"), "{shown}");
    assert!(shown.contains(&"█".repeat(30)), "{shown}");
    let html = heuristics.to_html();
    assert!(
        html.contains("<svg") && html.contains("Build &lt;server&gt;"),
        "{html}"
    );

    let page = ConnectionPage::collect(&day, 0, 25, |row| row.get(Column::Dport) == "80")
        .expect("page")
        .with_context(&context);
    assert_eq!(
        (page.connections.len(), page.matched, page.remaining()),
        (25, 30, 5)
    );
    let shown = page.to_string();
    assert!(shown.contains("10.0.0.1 (Build <server>)"), "{shown}");
    assert!(shown.contains("192.168.7.3 (Lab)"), "{shown}");
    assert!(shown.ends_with("… 5 more connections"), "{shown}");
    assert!(page.to_html().contains("… 5 more connections"));
}
