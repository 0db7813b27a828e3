//! A scoring costs what it changes: it writes the rated rows' one-byte severities where they
//! are, in the day's own file, and an undo writes them back; a severity that is not one byte
//! is still scored, by rewriting the day.

use flow_edge::synthetic::{generate_bytes, DaySpec};
use flow_edge::{Column, Day, Error, Selection};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

fn generated_day(rows: usize, seed: u64) -> (tempfile::TempDir, Day) {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("flow_scores.csv"),
        generate_bytes(&DaySpec::new(rows, seed)),
    )
    .unwrap();
    let day = Day::open(dir.path()).unwrap();
    (dir, day)
}

/// Which file is at `path` (device and inode): a rename changes it, a write in place not.
fn file_at(path: &Path) -> (u64, u64) {
    let meta = fs::metadata(path).unwrap();
    (meta.dev(), meta.ino())
}

/// The offsets where two files of one length differ, with the bytes before and after.
fn differences(before: &[u8], after: &[u8]) -> Vec<(usize, u8, u8)> {
    assert_eq!(before.len(), after.len(), "the file changed length");
    before
        .iter()
        .zip(after)
        .enumerate()
        .filter(|(_, (old, new))| old != new)
        .map(|(at, (&old, &new))| (at, old, new))
        .collect()
}

#[test]
fn a_scoring_writes_only_the_rated_severities_into_the_days_own_file() {
    let (_dir, day) = generated_day(3000, 31);
    let flow = &day.paths().flow;
    let (file, before) = (file_at(flow), fs::read(flow).unwrap());
    let port = day.listbox_values().unwrap().dports[1].clone();
    let report = day.score(&Selection::new().dport(port.clone()), 2).unwrap();
    assert!(report.scored > 10);

    assert_eq!(file_at(flow), file, "the day's file was replaced");
    let changed = differences(&before, &fs::read(flow).unwrap());
    assert_eq!(changed.len() as u64, report.scored);
    assert!(changed
        .iter()
        .all(|&(_, old, new)| (old, new) == (b'0', b'2')));
    // Each changed byte is the `sev` field at the start of a row of that port.
    let text = String::from_utf8(before).unwrap();
    for (at, _, _) in changed {
        assert_eq!(&text[at - 1..at], "\n");
        let row = &text[at..text[at..].find('\n').unwrap() + at];
        assert_eq!(row.split(',').nth(5), Some(port.as_str()), "{row}");
    }
    let feedback = fs::read_to_string(&day.paths().feedback).unwrap();
    assert_eq!(feedback.lines().count() as u64, 1 + report.scored);
}

#[test]
fn an_undo_puts_the_same_bytes_back_into_the_same_file() {
    let (_dir, day) = generated_day(2000, 32);
    let lists = day.listbox_values().unwrap();
    day.score(&Selection::new().dport(lists.dports[0].clone()), 3)
        .unwrap();
    let flow = &day.paths().flow;
    let (file, flow_before) = (file_at(flow), fs::read(flow).unwrap());
    let feedback_before = fs::read(&day.paths().feedback).unwrap();

    // A quick IP also rates rows the earlier scoring rated: they get their 3 back.
    let selection = Selection::new().quick_ip(lists.dst_ips[0].clone());
    let (report, record) = day.score_undoable(&selection, 1).unwrap();
    let record = record.unwrap();
    assert_eq!(record.rows() as u64, report.scored);
    assert_eq!(file_at(flow), file);
    assert_ne!(fs::read(flow).unwrap(), flow_before);

    day.undo(&record).unwrap();
    assert_eq!(file_at(flow), file, "the undo replaced the day's file");
    assert_eq!(fs::read(flow).unwrap(), flow_before);
    assert_eq!(fs::read(&day.paths().feedback).unwrap(), feedback_before);
}

#[test]
fn severities_written_in_quotes_are_scored_by_rewriting_the_day() {
    let (dir, day) = generated_day(500, 33);
    // Severities quoted, as some spreadsheets save them: three bytes each, not one.
    let quoted: String = fs::read_to_string(&day.paths().flow)
        .unwrap()
        .lines()
        .enumerate()
        .map(|(at, line)| {
            if at == 0 {
                format!("{line}\n")
            } else {
                format!("\"{}\"{}\n", &line[..1], &line[1..])
            }
        })
        .collect();
    fs::write(&day.paths().flow, &quoted).unwrap();
    let day = Day::open(dir.path()).unwrap();
    let ip = day.listbox_values().unwrap().src_ips[0].clone();
    let report = day.score(&Selection::new().src_ip(ip.clone()), 2).unwrap();
    assert!(report.scored > 0);

    let mut rated = 0;
    day.for_each_row(|row| -> Result<(), Error> {
        let expected = if row.get(Column::SrcIp) == ip {
            "2"
        } else {
            "0"
        };
        assert_eq!(row.get(Column::Sev), expected, "line {}", row.line());
        rated += u64::from(expected == "2");
        Ok(())
    })
    .unwrap();
    assert_eq!(rated, report.scored);
    let text = fs::read_to_string(&day.paths().flow).unwrap();
    // The rated rows' severities are written as one digit, the others keep their quotes.
    let unquoted = text.lines().skip(1).filter(|l| l.starts_with("2,")).count();
    assert_eq!(unquoted as u64, report.scored);
    assert!(text
        .lines()
        .skip(1)
        .all(|l| l.starts_with("2,") || l.starts_with("\"0\",")));
}
