//! A compact in-memory index of the day, for the live preview.
//!
//! The preview must answer "how many rows would this selection score, and which" within
//! 100 ms on a million-row day, far less than a pass over the file takes (BENCHMARKS.md,
//! "The investigation panel"). So the
//! panel keeps, per data row, the four fields the listboxes and the quick IP match on
//! (interned to numbers), its severity, and where it is in the file (to show a few rows
//! without reading the rest). Every row is indexed, scored or not, because a scoring
//! rates every matching row: the preview's count is what *Score* will report.
//!
//! The index knows which version of `flow_scores.csv` it describes ([`FileIdentity`]);
//! the panel rebuilds it whenever another process changed the file, and brings it up to date
//! itself after its own scorings and undos.
//!
//! It also tells a scoring where the rows are ([`FlowIndex::locate`]): each row's offset and
//! the offset of its `sev` byte within the row are kept (the latter in what would otherwise
//! be padding: a row takes 20 bytes either way), so that *Score* writes those bytes in place
//! without reading the day again.

use crate::analysis::connections::{Connection, ConnectionPage};
use crate::analysis::fast_hash::FastHash;
use crate::csv::records::FlowReader;
use crate::csv::row::Row;
use crate::csv::schema::{Column, Schema};
use crate::day::in_place::{Located, Target};
use crate::day::selection::Selection;
use crate::day::Day;
use crate::error::Error;
use crate::io::identity::FileIdentity;
use std::collections::HashMap;

/// Interned text of one of the four matched fields.
type Symbol = u32;

/// The indexed fields of one data row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IndexedRow {
    pub src_ip: Symbol,
    pub dst_ip: Symbol,
    pub sport: Symbol,
    pub dport: Symbol,
    pub sev: u8,
    /// Where the row's `sev` field is, from the row's start, when it is one byte (else
    /// [`NOT_ONE_BYTE`]).
    pub sev_at: u16,
}

/// [`IndexedRow::sev_at`] of a row whose `sev` field is not one byte (quoted), or lies too
/// far into its row to be told: such a row is scored by rewriting the day.
const NOT_ONE_BYTE: u16 = u16::MAX;

/// The day's rows, as the preview needs them.
#[derive(Debug, Clone)]
pub(crate) struct FlowIndex {
    /// The day, to read rows of again.
    day: Day,
    schema: Schema,
    identity: FileIdentity,
    symbols: HashMap<Box<str>, Symbol, FastHash>,
    rows: Vec<IndexedRow>,
    /// Byte offset of each row in the file.
    offsets: Vec<u64>,
    /// 1-based line of each row.
    lines: Vec<u64>,
}

/// What a selection would score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    /// Rows the selection matches (what *Score* would rate).
    pub matched: u64,
    /// Of those, rows that already have a severity.
    pub already_scored: u64,
    /// The first matching rows, in file order.
    pub first: ConnectionPage,
}

/// A selection turned into symbols: `None` means "any"; a chosen text absent from the day
/// matches no row.
struct SymbolMatcher {
    quick_ip: Option<Option<Symbol>>,
    src_ip: Option<Option<Symbol>>,
    dst_ip: Option<Option<Symbol>>,
    sport: Option<Option<Symbol>>,
    dport: Option<Option<Symbol>>,
}

fn equal(wanted: Option<Option<Symbol>>, actual: Symbol) -> bool {
    match wanted {
        None => true,
        Some(symbol) => symbol == Some(actual),
    }
}

impl SymbolMatcher {
    /// The same rule as [`crate::Matcher::matches`], on symbols.
    fn matches(&self, row: &IndexedRow) -> bool {
        let ports = equal(self.sport, row.sport) && equal(self.dport, row.dport);
        match self.quick_ip {
            None => ports && equal(self.src_ip, row.src_ip) && equal(self.dst_ip, row.dst_ip),
            Some(quick) => {
                ports
                    && ((quick == Some(row.src_ip) && equal(self.dst_ip, row.dst_ip))
                        || (quick == Some(row.dst_ip) && equal(self.src_ip, row.src_ip)))
            }
        }
    }
}

impl FlowIndex {
    /// Reads the whole day once, as one state of it (see [`Day::for_each_row`]). The index
    /// describes the version read; if another process replaced the file meanwhile,
    /// [`FlowIndex::is_current`] says so.
    pub fn build(day: &Day) -> Result<FlowIndex, Error> {
        let reading = day.read_flows()?;
        let mut reader = FlowReader::whole(reading.source, &reading.path);
        let (schema, header) = reader.read_header()?;
        let sev_index = schema.slot_or_absent(Column::Sev);
        let mut index = FlowIndex {
            day: day.clone(),
            schema: schema.clone(),
            identity: reading.identity,
            symbols: HashMap::default(),
            rows: Vec::new(),
            offsets: Vec::new(),
            lines: Vec::new(),
        };
        let mut offset = header.len() as u64;
        while let Some(record) = reader.next_record()? {
            let row = Row::new(record, &schema);
            let sev = row.raw_span(sev_index);
            let indexed = IndexedRow {
                src_ip: index.intern(row.get(Column::SrcIp)),
                dst_ip: index.intern(row.get(Column::DstIp)),
                sport: index.intern(row.get(Column::Sport)),
                dport: index.intern(row.get(Column::Dport)),
                sev: row.severity()?,
                sev_at: match u16::try_from(sev.start) {
                    Ok(at) if sev.len() == 1 && at != NOT_ONE_BYTE => at,
                    _ => NOT_ONE_BYTE,
                },
            };
            index.rows.push(indexed);
            index.offsets.push(offset);
            index.lines.push(record.line);
            offset += record.raw.len() as u64;
        }
        Ok(index)
    }

    fn intern(&mut self, text: &str) -> Symbol {
        if let Some(&symbol) = self.symbols.get(text) {
            return symbol;
        }
        let symbol = self.symbols.len() as Symbol;
        self.symbols.insert(text.into(), symbol);
        symbol
    }

    /// The version of `flow_scores.csv` this index describes.
    pub fn identity(&self) -> FileIdentity {
        self.identity
    }

    /// Gives the rows at `positions` a new severity after a scoring that kept every row's
    /// length and place, and records the file's new identity.
    pub fn set_severities(
        &mut self,
        positions: impl IntoIterator<Item = u64>,
        severity: u8,
        identity: FileIdentity,
    ) {
        for at in positions {
            if let Some(row) = usize::try_from(at)
                .ok()
                .and_then(|at| self.rows.get_mut(at))
            {
                row.sev = severity;
            }
        }
        self.identity = identity;
    }

    /// True when the file on disk is still the version indexed.
    pub fn is_current(&self) -> Result<bool, Error> {
        Ok(FileIdentity::of(&self.day.paths().flow)? == self.identity)
    }

    /// Where the rows `selection` matches are, for a scoring in place of the version
    /// indexed; `None` when one of them has a `sev` field that is not one byte.
    pub fn locate(&self, selection: &Selection) -> Result<Option<Located>, Error> {
        let matcher = self.matcher(selection)?;
        let mut targets = Vec::new();
        for (at, row) in self.rows.iter().enumerate() {
            if !matcher.matches(row) {
                continue;
            }
            if row.sev_at == NOT_ONE_BYTE {
                return Ok(None);
            }
            let start = self.offsets[at];
            let end = self
                .offsets
                .get(at + 1)
                .copied()
                .unwrap_or(self.identity.len());
            targets.push(Target {
                position: at as u64,
                line: self.lines[at],
                row: start..end,
                sev_at: start + u64::from(row.sev_at),
                severity: row.sev,
            });
        }
        Ok(Some(Located {
            schema: self.schema.clone(),
            rows: self.rows.len() as u64,
            targets,
        }))
    }

    /// Rows by severity: unscored, then 1, 2, 3.
    pub fn severity_counts(&self) -> [u64; 4] {
        let mut counts = [0u64; 4];
        for row in &self.rows {
            counts[usize::from(row.sev.min(3))] += 1;
        }
        counts
    }

    fn matcher(&self, selection: &Selection) -> Result<SymbolMatcher, Error> {
        // The engine's checks and errors (nothing chosen, not an address, not a port).
        selection.matcher()?;
        let symbol = |value: &Option<String>| {
            value
                .as_deref()
                .map(str::trim)
                .filter(|text| !text.is_empty())
                .map(|text| self.symbols.get(text).copied())
        };
        Ok(SymbolMatcher {
            quick_ip: symbol(&selection.quick_ip),
            src_ip: symbol(&selection.src_ip),
            dst_ip: symbol(&selection.dst_ip),
            sport: symbol(&selection.sport),
            dport: symbol(&selection.dport),
        })
    }

    /// Counts the rows `selection` matches and reads the first `limit` of them from the file.
    pub fn preview(&self, selection: &Selection, limit: usize) -> Result<Preview, Error> {
        let matcher = self.matcher(selection)?;
        let mut matched = 0u64;
        let mut already_scored = 0u64;
        let mut first = Vec::new();
        for (at, row) in self.rows.iter().enumerate() {
            if matcher.matches(row) {
                matched += 1;
                already_scored += u64::from(row.sev != 0);
                if first.len() < limit {
                    first.push(at);
                }
            }
        }
        Ok(Preview {
            matched,
            already_scored,
            first: ConnectionPage {
                connections: self.connections(&first)?,
                offset: 0,
                matched,
            },
        })
    }

    /// The first `limit` scored rows (severity 1 to 3) and how many there are.
    pub fn scored_page(&self, limit: usize) -> Result<ConnectionPage, Error> {
        let scored: Vec<usize> = (0..self.rows.len())
            .filter(|&at| self.rows[at].sev != 0)
            .collect();
        let first: Vec<usize> = scored.iter().copied().take(limit).collect();
        Ok(ConnectionPage {
            connections: self.connections(&first)?,
            offset: 0,
            matched: scored.len() as u64,
        })
    }

    /// Reads the rows at these positions (ascending) from the indexed version of the file.
    fn connections(&self, positions: &[usize]) -> Result<Vec<Connection>, Error> {
        let mut connections = Vec::with_capacity(positions.len());
        if positions.is_empty() {
            return Ok(connections);
        }
        let reading = self.day.read_flows()?;
        for &at in positions {
            let mut row = reading.source.at(self.offsets[at]);
            let mut reader = FlowReader::new(&mut row, &reading.path, 4096);
            if let Some(record) = reader.next_record()? {
                let mut connection = Connection::of_row(&Row::new(record, &self.schema));
                connection.line = self.lines[at];
                connections.push(connection);
            }
        }
        Ok(connections)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic::{generate_bytes, DaySpec};
    use crate::Day;

    fn generated_day(rows: usize, shuffle: bool) -> (tempfile::TempDir, Day) {
        let dir = tempfile::tempdir().unwrap();
        let mut spec = DaySpec::new(rows, 7);
        spec.shuffle_columns = shuffle;
        spec.scored_share = 0.2;
        std::fs::write(dir.path().join("flow_scores.csv"), generate_bytes(&spec)).unwrap();
        let day = Day::open(dir.path()).unwrap();
        (dir, day)
    }

    /// Selections built from values of the day itself, plus a few that match nothing.
    fn selections(index: &FlowIndex, day: &Day) -> Vec<Selection> {
        let lists = day.listbox_values().unwrap();
        let mut selections = vec![Selection::new().quick_ip("192.0.2.99")];
        for (n, ip) in lists.src_ips.iter().take(6).enumerate() {
            selections.push(Selection::new().src_ip(ip.clone()));
            selections.push(Selection::new().quick_ip(ip.clone()));
            if let Some(port) = lists.dports.get(n) {
                selections.push(Selection::new().quick_ip(ip.clone()).dport(port.clone()));
                selections.push(Selection::new().src_ip(ip.clone()).dport(port.clone()));
            }
        }
        for ip in lists.dst_ips.iter().take(4) {
            selections.push(Selection::new().dst_ip(ip.clone()));
            selections.push(
                Selection::new()
                    .quick_ip(ip.clone())
                    .src_ip(lists.src_ips[0].clone()),
            );
        }
        for port in lists.sports.iter().take(3) {
            selections.push(Selection::new().sport(port.clone()));
        }
        assert!(index.severity_counts().iter().sum::<u64>() > 0);
        selections
    }

    #[test]
    fn the_preview_counts_and_shows_what_scoring_would_rate() {
        for shuffle in [false, true] {
            let (_dir, day) = generated_day(3000, shuffle);
            let index = FlowIndex::build(&day).unwrap();
            for selection in selections(&index, &day) {
                let preview = index.preview(&selection, 5).unwrap();
                let expected = ConnectionPage::of_selection(&day, &selection, 0, 5).unwrap();
                assert_eq!(preview.matched, expected.matched, "{selection:?}");
                assert_eq!(preview.first, expected, "{selection:?}");
            }
        }
    }

    #[test]
    fn a_selection_the_engine_refuses_is_refused_with_the_same_error() {
        let (_dir, day) = generated_day(50, false);
        let index = FlowIndex::build(&day).unwrap();
        for selection in [Selection::new(), Selection::new().quick_ip("10.0.0.300")] {
            let ours = index.preview(&selection, 5).unwrap_err().to_string();
            let engine = selection.matcher().unwrap_err().to_string();
            assert_eq!(ours, engine);
        }
    }

    #[test]
    fn a_row_of_the_index_still_takes_20_bytes_with_its_sev_offset() {
        // A million rows: 20 MB of rows, plus 16 MB of offsets and lines.
        assert_eq!(std::mem::size_of::<IndexedRow>(), 20);
    }

    #[test]
    fn the_index_locates_the_rows_and_sev_bytes_a_scoring_rates() {
        let (_dir, day) = generated_day(2000, true);
        let index = FlowIndex::build(&day).unwrap();
        let flow = std::fs::read(&day.paths().flow).unwrap();
        for selection in selections(&index, &day) {
            let located = index.locate(&selection).unwrap().unwrap();
            let preview = index.preview(&selection, 0).unwrap();
            assert_eq!(located.targets.len() as u64, preview.matched);
            for target in &located.targets {
                let (start, end) = (target.row.start as usize, target.row.end as usize);
                assert!(start == 0 || flow[start - 1] == b'\n');
                assert_eq!(flow[end - 1], b'\n');
                // Shuffled columns: the sev field is wherever the header put it, one digit
                // between separators.
                let at = target.sev_at as usize;
                assert!((start..end).contains(&at));
                assert!(at == start || flow[at - 1] == b',');
                assert!(matches!(flow[at + 1], b',' | b'\r' | b'\n'));
                assert_eq!(flow[at], b'0' + target.severity);
            }
        }
    }

    #[test]
    fn the_index_notices_when_the_file_was_replaced() {
        let (_dir, day) = generated_day(200, false);
        let index = FlowIndex::build(&day).unwrap();
        assert!(index.is_current().unwrap());
        let ip = day.listbox_values().unwrap().src_ips[0].clone();
        day.score(&Selection::new().src_ip(ip), 2).unwrap();
        assert!(!index.is_current().unwrap());
        let counts = FlowIndex::build(&day).unwrap().severity_counts();
        assert!(counts[2] > index.severity_counts()[2]);
    }
}
