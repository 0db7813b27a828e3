//! Properties over generated days and arbitrary field contents.

use flow_edge::synthetic::{generate_bytes, DaySpec};
use flow_edge::{Column, Day, Selection};
use proptest::prelude::*;
use std::fs;

fn spec() -> impl Strategy<Value = DaySpec> {
    (
        1usize..80,
        any::<u64>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        0.0f64..0.6,
    )
        .prop_map(|(rows, seed, wide, shuffle, crlf, scored)| {
            let mut spec = DaySpec::new(rows, seed);
            spec.wide = wide;
            spec.shuffle_columns = shuffle;
            spec.crlf = crlf;
            spec.scored_share = scored;
            spec.ipv6_share = 0.2;
            spec
        })
}

fn open(bytes: &[u8]) -> (tempfile::TempDir, Day) {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("flow_scores.csv"), bytes).unwrap();
    let day = Day::open(dir.path()).unwrap();
    (dir, day)
}

/// The rows of a file as (text of every field but sev, sev).
fn rows_without_sev(day: &Day) -> Vec<(Vec<String>, String)> {
    let sev = day.schema().index(Column::Sev).unwrap();
    let mut rows = Vec::new();
    day.for_each_row(|row| -> Result<(), flow_edge::Error> {
        let others = (0..row.len())
            .filter(|&i| i != sev)
            .map(|i| row.field(i).to_owned())
            .collect();
        rows.push((others, row.get(Column::Sev).to_owned()));
        Ok(())
    })
    .unwrap();
    rows
}

/// The raw lines of a file, each with its line end removed.
fn lines(bytes: &[u8]) -> Vec<Vec<u8>> {
    bytes
        .split(|&b| b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line).to_vec())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn scoring_then_restoring_gives_back_the_original_bytes(spec in spec(), pick in any::<prop::sample::Index>(), by_port in any::<bool>(), rating in 1u8..=3) {
        let original = generate_bytes(&spec);
        let (_dir, day) = open(&original);
        let before = rows_without_sev(&day);
        let row = &before[pick.index(before.len())];
        let schema = day.schema().clone();
        let text = |column: Column| {
            let index = schema.index(column).unwrap();
            row.0[if index > schema.index(Column::Sev).unwrap() { index - 1 } else { index }].clone()
        };
        let selection = if by_port {
            Selection::new().dport(text(Column::Dport))
        } else {
            Selection::new().quick_ip(text(Column::SrcIp))
        };
        let report = day.score(&selection, rating).unwrap();
        prop_assert!(report.scored >= 1);
        let after = rows_without_sev(&day);
        // Only sev changed, and only to the rating.
        prop_assert_eq!(after.len(), before.len());
        let mut changed = 0;
        for (old, new) in before.iter().zip(&after) {
            prop_assert_eq!(&old.0, &new.0);
            if old.1 != new.1 {
                prop_assert_eq!(&new.1, &rating.to_string());
                changed += 1;
            }
        }
        prop_assert!(changed as u64 <= report.scored);
        let feedback = fs::read_to_string(&day.paths().feedback).unwrap();
        prop_assert_eq!(feedback.lines().count() as u64, report.scored + 1);
        prop_assert_eq!(fs::read(&day.paths().flow).unwrap().len(), original.len());

        day.restore_backup().unwrap();
        prop_assert_eq!(fs::read(&day.paths().flow).unwrap(), original);
    }

    #[test]
    fn save_and_sort_is_a_permutation_in_the_promised_order(spec in spec()) {
        let original = generate_bytes(&spec);
        let (_dir, day) = open(&original);
        day.save_and_sort().unwrap();
        let sorted = fs::read(&day.paths().flow).unwrap();
        let (mut before, mut after) = (lines(&original), lines(&sorted));
        prop_assert_eq!(&before[0], &after[0]);
        before.sort();
        after.sort();
        prop_assert_eq!(before, after);

        let mut previous: Option<(u8, f64)> = None;
        day.for_each_row(|row| -> Result<(), flow_edge::Error> {
            let key = (row.severity()?, if row.severity()? == 0 { row.number(Column::LdaScore)? } else { 0.0 });
            if let Some(previous) = previous {
                assert!(previous.0 <= key.0, "severity order broken at line {}", row.line());
                if key.0 == 0 {
                    assert!(previous.1 <= key.1, "lda_score order broken at line {}", row.line());
                }
            }
            previous = Some(key);
            Ok(())
        }).unwrap();
    }

    #[test]
    fn any_field_text_survives_scoring_byte_for_byte(texts in prop::collection::vec("[a-z ,\"\t\n\r;é]{0,12}", 1..6)) {
        let header = "sev,tstart,srcIP,dstIP,sport,dport,ipkt,ibyt,lda_score,rank,note\n";
        let mut content = header.to_owned();
        for (at, text) in texts.iter().enumerate() {
            let quoted = format!("\"{}\"", text.replace('"', "\"\""));
            content += &format!("0,2016-07-08 00:00:0{at},10.0.0.{at},8.8.8.8,1,53,1,1,1e-6,{at},{quoted}\n");
        }
        let (_dir, day) = open(content.as_bytes());
        day.score(&Selection::new().dst_ip("8.8.8.8"), 3).unwrap();
        let after = fs::read_to_string(&day.paths().flow).unwrap();
        let expected = content.replace("\n0,2016", "\n3,2016");
        prop_assert_eq!(after, expected);
        let feedback = fs::read_to_string(&day.paths().feedback).unwrap();
        let fed: Vec<&str> = feedback.split('\n').skip(1).filter(|l| !l.is_empty()).collect();
        prop_assert_eq!(fed.len(), texts.len());
        for (line, text) in fed.iter().zip(&texts) {
            let fields: Vec<&str> = line.split('\t').collect();
            prop_assert_eq!(fields.len(), 11);
            prop_assert_eq!(fields[10], text.replace(['\t', '\n', '\r'], " "));
        }
    }
}
