//! What an analyst does with a day, operation by operation.

use flow_edge::synthetic::{generate_bytes, DaySpec};
use flow_edge::{Column, Day, Problem, Selection};
use std::fs;
use std::path::Path;

const HEADER: &str = "sev,tstart,srcIP,dstIP,sport,dport,proto,flag,ipkt,ibyt,lda_score,rank,srcIpInternal,destIpInternal,srcGeo,dstGeo,srcDomain,dstDomain,srcIP_rep,dstIP_rep\n";

/// A row of the 20-column schema with the fields a test cares about.
fn row(sev: u8, src: &str, dst: &str, sport: u16, dport: u16, score: &str, rank: u32) -> String {
    format!(
        "{sev},2016-07-08 10:00:{:02},{src},{dst},{sport},{dport},TCP,.AP.SF,10,4000,{score},{rank},1,0,,\"US;Mountain View, CA\",intel.com,\"ACME \"\"Cloud\"\", Inc\",,UNVERIFIED:-1\n",
        rank % 60
    )
}

fn day_with(content: &str) -> (tempfile::TempDir, Day) {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("flow_scores.csv"), content).unwrap();
    let day = Day::open(dir.path()).unwrap();
    (dir, day)
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap()
}

fn small_day() -> String {
    let mut text = HEADER.to_owned();
    text += &row(0, "10.0.0.1", "8.8.8.8", 5000, 53, "1e-06", 1);
    text += &row(0, "10.0.0.2", "10.0.0.1", 5001, 22, "2.0e-06", 2);
    text += &row(1, "10.0.0.9", "8.8.4.4", 5002, 443, "3e-06", 3);
    text += &row(0, "10.0.0.1", "1.2.3.4", 5000, 80, "0.000004", 4);
    text += &row(0, "10.0.0.1", "10.0.0.1", 7, 7, "5e-06", 5);
    text
}

#[test]
fn opening_a_day_makes_a_backup_once_and_never_overwrites_it() {
    let (dir, day) = day_with(&small_day());
    assert_eq!(read(&day.paths().backup), small_day());
    fs::write(&day.paths().backup, "kept\n").unwrap();
    Day::open(dir.path()).unwrap();
    assert_eq!(read(&day.paths().backup), "kept\n");
    assert_eq!(day.settings().coff, 250);
    assert_eq!(day.settings().nwloc, dir.path().join("networkcontext.csv"));
}

#[test]
fn a_notebook_folder_opens_its_day_in_the_data_tree() {
    let oa = tempfile::tempdir().unwrap();
    let data = oa.path().join("data/flow/20160708");
    let notebook = oa.path().join("ipynb/flow/20160708");
    fs::create_dir_all(&data).unwrap();
    fs::create_dir_all(&notebook).unwrap();
    fs::write(data.join("flow_scores.csv"), small_day()).unwrap();
    let mut day = Day::from_notebook_dir(&notebook).unwrap();
    assert_eq!(day.paths().flow, data.join("flow_scores.csv"));
    assert_eq!(
        day.settings().nwloc,
        oa.path().join("context/networkcontext.csv")
    );
    day.set_coff(2);
    day.set_nwloc("/elsewhere/nc.csv");
    assert_eq!(day.settings().coff, 2);
    assert_eq!(day.settings().nwloc, Path::new("/elsewhere/nc.csv"));
}

#[test]
fn listboxes_offer_distinct_unscored_values_of_the_first_coff_rows_in_first_seen_order() {
    let (_dir, mut day) = day_with(&small_day());
    let lists = day.listbox_values().unwrap();
    assert_eq!(lists.src_ips, ["10.0.0.1", "10.0.0.2"]);
    assert_eq!(lists.dst_ips, ["8.8.8.8", "10.0.0.1", "1.2.3.4"]);
    assert_eq!(lists.sports, ["5000", "5001", "7"]);
    assert_eq!(lists.dports, ["53", "22", "80", "7"]);
    day.set_coff(2);
    let lists = day.listbox_values().unwrap();
    assert_eq!(lists.rows_read, 2);
    assert_eq!(lists.dst_ips, ["8.8.8.8", "10.0.0.1"]);
}

#[test]
fn listboxes_read_only_the_first_rows_so_a_huge_or_damaged_tail_costs_nothing() {
    let mut text = small_day();
    text += "this row is ragged\n";
    let (_dir, mut day) = day_with(&text);
    day.set_coff(5);
    assert_eq!(day.listbox_values().unwrap().rows_read, 5);
    day.set_coff(6);
    let error = day.listbox_values().unwrap_err();
    assert!(error.to_string().contains("flow_scores.csv:7"), "{error}");
}

#[test]
fn listboxes_accept_ipv6_addresses() {
    let mut text = HEADER.to_owned();
    text += &row(0, "2001:db8::1", "10.0.0.1", 5000, 53, "1e-06", 1);
    let (_dir, day) = day_with(&text);
    assert_eq!(day.listbox_values().unwrap().src_ips, ["2001:db8::1"]);
}

#[test]
fn scoring_a_source_ip_changes_only_the_sev_bytes_of_matching_rows() {
    let (_dir, day) = day_with(&small_day());
    let report = day.score(&Selection::new().src_ip("10.0.0.1"), 2).unwrap();
    assert_eq!(report.scored, 3);
    assert_eq!(report.rows, 5);
    let expected: String = small_day()
        .lines()
        .map(|line| {
            if line.contains(",10.0.0.1,") && line.split(',').nth(2) == Some("10.0.0.1") {
                format!("2{}\n", &line[1..])
            } else {
                format!("{line}\n")
            }
        })
        .collect();
    assert_eq!(read(&day.paths().flow), expected);
}

#[test]
fn scoring_by_quick_ip_marks_source_and_destination_rows_once_each() {
    let (_dir, day) = day_with(&small_day());
    let report = day
        .score(&Selection::new().quick_ip("10.0.0.1"), 1)
        .unwrap();
    // rows 1, 2 (as destination), 4 and 5 (source and destination: once).
    assert_eq!(report.scored, 4);
    let feedback = read(&day.paths().feedback);
    assert_eq!(feedback.lines().count(), 1 + 4);
    let flow = read(&day.paths().flow);
    let sevs: Vec<&str> = flow.lines().skip(1).map(|l| &l[..1]).collect();
    assert_eq!(sevs, ["1", "1", "1", "1", "1"]);
}

#[test]
fn a_quick_ip_with_a_port_needs_the_port_on_either_side() {
    let (_dir, day) = day_with(&small_day());
    let report = day
        .score(&Selection::new().quick_ip("10.0.0.1").dport("22"), 3)
        .unwrap();
    assert_eq!(report.scored, 1);
    let second: Vec<String> = read(&day.paths().flow).lines().map(str::to_owned).collect();
    assert!(second[2].starts_with("3,"), "{}", second[2]);
}

#[test]
fn a_quick_ip_with_a_destination_only_narrows_the_source_branch() {
    let (_dir, day) = day_with(&small_day());
    // Source branch: src == q and dst == 1.2.3.4 (row 4). Destination branch:
    // dst == q, not narrowed by the destination listbox (rows 2 and 5).
    let report = day
        .score(&Selection::new().quick_ip("10.0.0.1").dst_ip("1.2.3.4"), 3)
        .unwrap();
    assert_eq!(report.scored, 3);
    let flow = read(&day.paths().flow);
    let sevs: Vec<&str> = flow.lines().skip(1).map(|l| &l[..1]).collect();
    assert_eq!(sevs, ["0", "3", "1", "3", "3"]);
}

#[test]
fn scoring_is_refused_without_a_filter_with_a_bad_rating_or_a_bad_quick_ip_and_changes_nothing() {
    let (_dir, day) = day_with(&small_day());
    let refusals = [
        (Selection::new(), 1, "no filter chosen"),
        (Selection::new().src_ip("10.0.0.1"), 0, "rating 0"),
        (Selection::new().src_ip("10.0.0.1"), 4, "rating 4"),
        (
            Selection::new().quick_ip("10.0.0.300"),
            1,
            "quick IP \"10.0.0.300\"",
        ),
        (Selection::new().quick_ip("   "), 1, "no filter chosen"),
        (Selection::new().dport("http"), 1, "not a port"),
    ];
    for (selection, rating, message) in refusals {
        let error = day.score(&selection, rating).unwrap_err();
        assert!(error.to_string().contains(message), "{error}");
    }
    assert_eq!(read(&day.paths().flow), small_day());
    assert!(!day.paths().feedback.exists());
}

#[test]
fn the_feedback_file_is_tab_separated_with_a_header_and_grows_by_appending() {
    let (_dir, day) = day_with(&small_day());
    day.score(&Selection::new().dport("53"), 3).unwrap();
    day.score(&Selection::new().dport("80"), 2).unwrap();
    let feedback = read(&day.paths().feedback);
    let lines: Vec<&str> = feedback.lines().collect();
    assert_eq!(lines[0], HEADER.trim_end().replace(',', "\t"));
    assert_eq!(lines.len(), 3);
    let first: Vec<&str> = lines[1].split('\t').collect();
    assert_eq!(first.len(), 20);
    assert_eq!(
        &first[..6],
        [
            "3",
            "2016-07-08 10:00:01",
            "10.0.0.1",
            "8.8.8.8",
            "5000",
            "53"
        ]
    );
    // Quoted fields arrive decoded: commas kept, doubled quotes undone.
    assert_eq!(first[15], "US;Mountain View, CA");
    assert_eq!(first[17], "ACME \"Cloud\", Inc");
    assert!(lines[2].starts_with("2\t"));
    assert!(feedback.ends_with('\n'));
}

#[test]
fn tabs_and_line_breaks_inside_fields_become_spaces_in_the_feedback() {
    let mut text = HEADER.to_owned();
    text += "0,2016-07-08 10:00:00,10.0.0.1,8.8.8.8,1,53,TCP,x,1,1,1e-6,1,1,0,\"two\nlines\",\"a\tb\",,,,\n";
    let (_dir, day) = day_with(&text);
    day.score(&Selection::new().src_ip("10.0.0.1"), 3).unwrap();
    let feedback = read(&day.paths().feedback);
    let row: Vec<&str> = feedback.lines().nth(1).unwrap().split('\t').collect();
    assert_eq!(row.len(), 20);
    assert_eq!((row[14], row[15]), ("two lines", "a b"));
}

#[test]
fn shuffled_22_column_files_with_extra_columns_are_read_by_name_and_fed_back_in_canonical_order() {
    let mut spec = DaySpec::new(300, 7);
    spec.wide = true;
    spec.shuffle_columns = true;
    let generated = String::from_utf8(generate_bytes(&spec)).unwrap();
    // Add an unknown column in front, with quoted content.
    let text: String = generated
        .lines()
        .enumerate()
        .map(|(at, line)| {
            if at == 0 {
                format!("analyst_note,{line}\n")
            } else {
                format!("\"keep, me\",{line}\n")
            }
        })
        .collect();
    let (_dir, day) = day_with(&text);
    assert_eq!(day.schema().len(), 23);
    let first_src = day.listbox_values().unwrap().src_ips[0].clone();
    let report = day
        .score(&Selection::new().src_ip(first_src.clone()), 3)
        .unwrap();
    assert!(report.scored >= 1);
    let after = read(&day.paths().flow);
    assert_eq!(after.len(), text.len());
    let sev_at = day.schema().index(Column::Sev).unwrap();
    let src_at = day.schema().index(Column::SrcIp).unwrap();
    let mut changed = 0;
    day.for_each_row(|row| -> Result<(), flow_edge::Error> {
        assert_eq!(row.field(0), "keep, me");
        if row.field(src_at) == first_src {
            assert_eq!(row.field(sev_at), "3");
            changed += 1;
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(changed, report.scored);
    let feedback = read(&day.paths().feedback);
    let header: Vec<&str> = feedback.lines().next().unwrap().split('\t').collect();
    assert_eq!(&header[..4], ["sev", "tstart", "srcIP", "dstIP"]);
    assert_eq!(
        &header[18..],
        [
            "gtiSrcRep",
            "gtiDstRep",
            "norseSrcRep",
            "norseDstRep",
            "analyst_note"
        ]
    );
    let fed: Vec<&str> = feedback.lines().nth(1).unwrap().split('\t').collect();
    assert_eq!((fed[0], fed[2]), ("3", first_src.as_str()));
}

#[test]
fn a_feedback_file_with_other_columns_is_refused_and_nothing_changes() {
    let (_dir, day) = day_with(&small_day());
    fs::write(&day.paths().feedback, "sev\tsrcIP\n3\t10.0.0.1\n").unwrap();
    let error = day.score(&Selection::new().dport("53"), 3).unwrap_err();
    assert!(
        matches!(error.problem(), Some(Problem::FeedbackColumns { .. })),
        "{error}"
    );
    assert_eq!(read(&day.paths().flow), small_day());
    assert_eq!(read(&day.paths().feedback), "sev\tsrcIP\n3\t10.0.0.1\n");
}

#[test]
fn a_feedback_file_in_another_known_order_keeps_its_order() {
    let (_dir, day) = day_with(&small_day());
    let mut names: Vec<&str> = HEADER.trim_end().split(',').collect();
    names.swap(0, 2);
    fs::write(&day.paths().feedback, format!("{}\n", names.join("\t"))).unwrap();
    day.score(&Selection::new().dport("53"), 3).unwrap();
    let feedback = read(&day.paths().feedback);
    assert!(feedback
        .lines()
        .nth(1)
        .unwrap()
        .starts_with("10.0.0.1\t2016-07-08 10:00:01\t3\t"));
}

#[test]
fn rules_use_the_generic_write_path_with_or_without_feedback() {
    let (_dir, day) = day_with(&small_day());
    let report = day
        .update_severities(|row| (row.get(Column::Dport) == "22").then_some(2), false)
        .unwrap();
    assert_eq!((report.rows, report.matched, report.fed_back), (5, 1, 0));
    assert!(!day.paths().feedback.exists());
    let error = day.update_severities(|_| Some(7), false).unwrap_err();
    assert!(error.to_string().contains("severity 7"), "{error}");
    let error = day
        .try_update_severities(|row| row.integer(Column::Proto).map(|_| None), false)
        .unwrap_err();
    assert!(error.to_string().contains(":2:7 (column proto)"), "{error}");
    assert_eq!(
        read(&day.paths().flow).lines().nth(2).unwrap().as_bytes()[0],
        b'2'
    );
}

#[test]
fn a_scoring_that_matches_nothing_changes_no_file() {
    let (_dir, day) = day_with(&small_day());
    let report = day.score(&Selection::new().dport("9999"), 1).unwrap();
    assert_eq!(report.scored, 0);
    assert_eq!(read(&day.paths().flow), small_day());
    assert!(!day.paths().feedback.exists());
    assert!(!day.paths().tmp.exists());
}

#[test]
fn save_and_sort_puts_unscored_rows_first_by_score_then_scored_rows_by_severity() {
    let mut text = HEADER.to_owned();
    text += &row(3, "10.0.0.3", "1.1.1.1", 1, 1, "1e-9", 9);
    text += &row(0, "10.0.0.1", "1.1.1.1", 1, 1, "5e-6", 5);
    text += &row(1, "10.0.0.4", "1.1.1.1", 1, 1, "1e-9", 8);
    text += &row(0, "10.0.0.2", "1.1.1.1", 1, 1, "0.0000010", 2);
    text += &row(0, "10.0.0.6", "1.1.1.1", 1, 1, "1e-6", 1);
    text += &row(2, "10.0.0.5", "1.1.1.1", 1, 1, "1e-9", 7);
    text += &row(1, "10.0.0.7", "1.1.1.1", 1, 1, "1e-9", 6);
    let (_dir, day) = day_with(text.trim_end());
    let report = day.save_and_sort().unwrap();
    assert_eq!(
        (report.rows, report.unscored, report.by_severity),
        (7, 3, [2, 1, 1])
    );
    let sorted = read(&day.paths().flow);
    let sources: Vec<&str> = sorted
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(2).unwrap())
        .collect();
    assert_eq!(
        sources,
        ["10.0.0.6", "10.0.0.2", "10.0.0.1", "10.0.0.4", "10.0.0.7", "10.0.0.5", "10.0.0.3"]
    );
    // Every row kept its bytes; the last one gained the line end it lacked.
    let mut before: Vec<String> = text.lines().map(str::to_owned).collect();
    let mut after: Vec<String> = sorted.lines().map(str::to_owned).collect();
    before.sort();
    after.sort();
    assert_eq!(before, after);
}

/// The order save-and-sort promises, worked out the slow way: unscored rows
/// by (score, rank, place), then severity 1, 2, 3 in file order. Lines are
/// given without line ends.
fn promised_order(lines: &[String]) -> Vec<String> {
    let field = |line: &str, at: usize| line.split(',').nth(at).unwrap().to_owned();
    let mut unscored: Vec<(f64, f64, usize)> = Vec::new();
    for (at, line) in lines.iter().enumerate() {
        if field(line, 0) == "0" {
            let number = |column: usize| field(line, column).parse::<f64>().unwrap();
            unscored.push((number(10), number(11), at));
        }
    }
    unscored.sort_by(|a, b| {
        a.0.total_cmp(&b.0)
            .then(a.1.total_cmp(&b.1))
            .then(a.2.cmp(&b.2))
    });
    let mut order: Vec<String> = unscored
        .iter()
        .map(|&(_, _, at)| lines[at].clone())
        .collect();
    for sev in ["1", "2", "3"] {
        order.extend(lines.iter().filter(|line| field(line, 0) == sev).cloned());
    }
    order
}

#[test]
fn save_and_sort_of_a_large_day_almost_in_order_moves_only_what_is_out_of_place() {
    // Several MiB in score order (the sort writes such rows while it is
    // still reading), then rows that belong before them: a scored row in
    // the middle, and a last row, without a line end, that goes first.
    let rows = 30_000;
    let mut lines: Vec<String> = (1..=rows)
        .map(|rank| {
            let sev = if rank == rows / 2 { 2 } else { 0 };
            let score = format!("{}e-9", 1000 + rank);
            row(sev, "10.0.0.1", "1.1.1.1", 1, 1, &score, rank)
        })
        .map(|line| line.trim_end().to_owned())
        .collect();
    lines.push(
        row(0, "10.0.0.9", "1.1.1.1", 1, 1, "1e-9", 0)
            .trim_end()
            .to_owned(),
    );
    let text = format!("{HEADER}{}", lines.join("\n"));
    assert!(text.len() > 4 << 20);
    let (_dir, day) = day_with(&text);
    day.save_and_sort().unwrap();
    let expected = format!("{HEADER}{}\n", promised_order(&lines).join("\n"));
    assert!(!day.paths().new.exists());
    // Sorting again changes nothing (every row is written ahead and kept).
    assert_sorted_and_stable(&day, &expected);
}

/// The day's flows are `expected` (a sort's output), and sorting them again
/// leaves them so. Compared without printing megabytes on failure.
fn assert_sorted_and_stable(day: &Day, expected: &str) {
    assert!(
        read(&day.paths().flow) == expected,
        "not in the promised order"
    );
    day.save_and_sort().unwrap();
    assert!(
        read(&day.paths().flow) == expected,
        "sorting twice changed it"
    );
}

#[test]
fn save_and_sort_of_a_large_scored_day_keeps_what_was_written_ahead_only_where_it_belongs() {
    // Several MiB with one row in seven scored (the sort writes the unscored
    // rows in order past them while it reads), and an unscored row far down
    // that belongs in the middle: what was written ahead after that point
    // must be cut off and written again in the right order.
    let rows = 30_000;
    let lines: Vec<String> = (1..=rows)
        .map(|rank| {
            let sev = if rank % 7 == 0 { 1 + rank % 3 } else { 0 };
            let score = if rank == 25_000 {
                "5000.5e-9".to_owned()
            } else {
                format!("{}e-9", 1000 + rank)
            };
            let line = row(sev as u8, "10.0.0.1", "1.1.1.1", 1, 1, &score, rank);
            line.trim_end().to_owned()
        })
        .collect();
    let text = format!("{HEADER}{}\n", lines.join("\n"));
    assert!(text.len() > 4 << 20);
    let (_dir, day) = day_with(&text);
    let report = day.save_and_sort().unwrap();
    assert_eq!(report.unscored, u64::from(rows - rows / 7));
    let expected = format!("{HEADER}{}\n", promised_order(&lines).join("\n"));
    assert_sorted_and_stable(&day, &expected);
}

#[test]
fn restoring_the_backup_gives_back_the_original_bytes_and_keeps_the_feedback() {
    let (_dir, day) = day_with(&small_day());
    day.score(&Selection::new().quick_ip("10.0.0.1"), 1)
        .unwrap();
    day.save_and_sort().unwrap();
    let feedback = read(&day.paths().feedback);
    day.restore_backup().unwrap();
    assert_eq!(read(&day.paths().flow), small_day());
    assert_eq!(read(&day.paths().feedback), feedback);
}

/// Opens a day holding `content`, expecting an error; checks the message and
/// that no file changed.
fn refused(content: &[u8], operation: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let flow = dir.path().join("flow_scores.csv");
    fs::write(&flow, content).unwrap();
    let result = Day::open(dir.path()).and_then(|day| match operation {
        "score" => day.score(&Selection::new().dport("53"), 1).map(|_| ()),
        "sort" => day.save_and_sort().map(|_| ()),
        _ => day.listbox_values().map(|_| ()),
    });
    let error = result.expect_err("bad input was accepted");
    assert_eq!(fs::read(&flow).unwrap(), content, "the flow file changed");
    assert!(!dir.path().join("flow_scores_fb.csv").exists());
    assert!(!dir.path().join("flow_scores.csv.tmp").exists());
    // The sort writes rows ahead while it reads; a refusal removes them.
    assert!(!dir.path().join("flow_scores.csv.new").exists());
    error.to_string()
}

#[test]
fn bad_input_is_refused_with_file_line_and_column_and_nothing_changes() {
    let good = small_day();
    let cases: Vec<(Vec<u8>, &str, &str)> = vec![
        (Vec::new(), "open", "flow_scores.csv:1: the file is empty"),
        (
            b"sev,srcIP\n".to_vec(),
            "open",
            "no column named \"tstart\"",
        ),
        (
            format!("{HEADER}0,x\n").into_bytes(),
            "score",
            "flow_scores.csv:2: the row has 2 fields but the header has 20",
        ),
        (
            good.replace("0,2016-07-08 10:00:04", "x,2016-07-08 10:00:04")
                .into_bytes(),
            "score",
            "flow_scores.csv:5:1 (column sev): \"x\" is not a severity",
        ),
        (
            good.replace(",5001,22,", ",5001,ssh,").into_bytes(),
            "score",
            "flow_scores.csv:3:6 (column dport): \"ssh\" is not a port",
        ),
        (
            good.replace(",2.0e-06,", ",low,").into_bytes(),
            "sort",
            "flow_scores.csv:3:11 (column lda_score): \"low\" is not a number",
        ),
        (
            good.replace("intel.com", "int\u{e9}l.com")
                .replace('\u{e9}', "\u{0}")
                .into_bytes()
                .into_iter()
                .map(|b| if b == 0 { 0xff } else { b })
                .collect(),
            "score",
            "flow_scores.csv:2:17 (column srcDomain): the text is not valid UTF-8",
        ),
        (
            good.replace(",TCP,", ",T\"CP,").into_bytes(),
            "score",
            "flow_scores.csv:2:7 (column proto): a quote inside a field",
        ),
        (
            format!("{HEADER}\n").into_bytes(),
            "score",
            "flow_scores.csv:2: an empty line",
        ),
        (
            format!("{HEADER}0,\"open").into_bytes(),
            "score",
            "flow_scores.csv:2:2 (column tstart): a quoted field is not closed",
        ),
        (
            format!("sev,sev,{}", &HEADER[4..]).into_bytes(),
            "open",
            "flow_scores.csv:1:2 (column sev): the header names column \"sev\" more than once",
        ),
    ];
    for (content, operation, message) in cases {
        let error = refused(&content, operation);
        assert!(error.contains(message), "expected {message:?} in {error:?}");
    }
}

#[test]
fn a_header_only_day_a_bom_and_crlf_line_ends_are_valid_input() {
    let (_dir, day) = day_with(HEADER);
    assert_eq!(day.listbox_values().unwrap().rows_read, 0);
    assert_eq!(
        day.score(&Selection::new().dport("53"), 1).unwrap().scored,
        0
    );
    assert_eq!(day.save_and_sort().unwrap().rows, 0);
    assert_eq!(read(&day.paths().flow), HEADER);

    let crlf = format!("\u{feff}{}", small_day().replace('\n', "\r\n"));
    let (_dir, day) = day_with(&crlf);
    assert_eq!(day.listbox_values().unwrap().src_ips[0], "10.0.0.1");
    assert_eq!(
        day.score(&Selection::new().dport("53"), 3).unwrap().scored,
        1
    );
    let expected = crlf.replacen("\r\n0,2016-07-08 10:00:01", "\r\n3,2016-07-08 10:00:01", 1);
    assert_eq!(read(&day.paths().flow), expected);
    day.save_and_sort().unwrap();
    assert!(read(&day.paths().flow).starts_with('\u{feff}'));
    let feedback = read(&day.paths().feedback);
    assert!(feedback.starts_with("sev\t"), "{feedback:?}");
    assert!(!feedback.contains('\r'));
}

#[test]
fn reputation_columns_as_spot_flow_oa_spells_them_are_read() {
    // Spot's flow_oa.py writes `srcIp_rep`/`dstIp_rep`; its README says `srcIP_rep`.
    let header = HEADER.replace("srcIP_rep,dstIP_rep", "srcIp_rep,dstIp_rep");
    let content = header + &row(0, "10.0.0.1", "8.8.8.8", 5000, 53, "1e-06", 1);
    let (_dir, day) = day_with(&content);
    let mut reputations = Vec::new();
    day.for_each_row(|row| {
        reputations.push(row.get(Column::DstIpRep).to_owned());
        Ok::<_, flow_edge::Error>(())
    })
    .unwrap();
    assert_eq!(reputations, ["UNVERIFIED:-1"]);
}

#[test]
fn a_header_with_both_spellings_of_a_reputation_column_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let header = HEADER.replace("dstIP_rep\n", "dstIP_rep,dstIp_rep\n");
    fs::write(dir.path().join("flow_scores.csv"), header).unwrap();
    let error = Day::open(dir.path()).unwrap_err();
    let shown = error.to_string();
    assert!(shown.contains("flow_scores.csv:1:21"), "{shown}");
    assert!(shown.contains("dstIP_rep"), "{shown}");
}
