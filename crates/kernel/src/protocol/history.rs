//! `history_request`: the cells this kernel ran, answered by tail, range or glob search.
//!
//! History lives in memory for the life of the kernel process, as one session numbered 1: a
//! restarted kernel starts a new, empty history (ipykernel keeps a database across runs; a
//! notebook keeps its own cells, so nothing a user relies on is lost).

use jupyter_protocol::{HistoryEntry, HistoryRequest};

/// The session number every entry of this process carries.
const SESSION: usize = 1;

/// One executed cell: its execution count, its source and its `text/plain` result, if any.
struct Cell {
    line: usize,
    input: String,
    output: Option<String>,
}

/// Every cell executed with `store_history`, oldest first.
#[derive(Default)]
pub(crate) struct History {
    cells: Vec<Cell>,
}

impl History {
    /// Records a cell under its execution count.
    pub(crate) fn record(&mut self, line: usize, input: &str, output: Option<String>) {
        self.cells.push(Cell {
            line,
            input: input.to_owned(),
            output,
        });
    }

    /// The entries a request asks for, in execution order.
    pub(crate) fn answer(&self, request: &HistoryRequest) -> Vec<HistoryEntry> {
        match request {
            HistoryRequest::Tail { n, output, .. } => {
                let skip = self.cells.len().saturating_sub(count(*n));
                entries(self.cells.iter().skip(skip), *output)
            }
            HistoryRequest::Range {
                session,
                start,
                stop,
                output,
                ..
            } => {
                // Session 0 or a negative offset both mean "this session" here; any other
                // session number names a session this process never had.
                let ours = session.is_none_or(|s| s <= 0 || s as usize == SESSION);
                let (start, stop) = (count(*start), count(*stop));
                let wanted = self
                    .cells
                    .iter()
                    .filter(|cell| ours && cell.line >= start && (stop == 0 || cell.line < stop));
                entries(wanted, *output)
            }
            HistoryRequest::Search {
                pattern,
                unique,
                output,
                n,
                ..
            } => {
                let mut found: Vec<&Cell> = Vec::new();
                for cell in self.cells.iter().rev() {
                    if !glob_matches(pattern.as_bytes(), cell.input.as_bytes()) {
                        continue;
                    }
                    if *unique && found.iter().any(|seen| seen.input == cell.input) {
                        continue;
                    }
                    found.push(cell);
                    if *n > 0 && found.len() == count(*n) {
                        break;
                    }
                }
                found.reverse();
                entries(found.into_iter(), *output)
            }
        }
    }
}

/// A request's count as a length; negative counts mean none.
fn count(n: i32) -> usize {
    usize::try_from(n).unwrap_or(0)
}

fn entries<'a>(cells: impl Iterator<Item = &'a Cell>, with_output: bool) -> Vec<HistoryEntry> {
    cells
        .map(|cell| {
            if with_output {
                let output = cell.output.clone().unwrap_or_default();
                HistoryEntry::InputOutput(SESSION, cell.line, (cell.input.clone(), output))
            } else {
                HistoryEntry::Input(SESSION, cell.line, cell.input.clone())
            }
        })
        .collect()
}

/// Glob matching as IPython's history search does it (SQLite `GLOB`): `*` matches any run of
/// characters, `?` any one character, everything else itself; the whole text must match.
fn glob_matches(pattern: &[u8], text: &[u8]) -> bool {
    // Iterative matcher with one backtrack point: the last `*` seen and where it resumed.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(entries: &[HistoryEntry]) -> Vec<(usize, String)> {
        entries
            .iter()
            .map(|entry| match entry {
                HistoryEntry::Input(_, line, input) => (*line, input.clone()),
                HistoryEntry::InputOutput(_, line, (input, _)) => (*line, input.clone()),
            })
            .collect()
    }

    fn three_cells() -> History {
        let mut history = History::default();
        history.record(1, "let x = 6;", None);
        history.record(2, "x * 7", Some("42".into()));
        history.record(3, "x * 7", Some("42".into()));
        history
    }

    #[test]
    fn tail_returns_the_last_cells_in_order() {
        let history = three_cells();
        let tail = history.answer(&HistoryRequest::Tail {
            n: 2,
            output: false,
            raw: true,
        });
        assert_eq!(inputs(&tail), [(2, "x * 7".into()), (3, "x * 7".into())]);
    }

    #[test]
    fn range_is_half_open_over_execution_counts() {
        let history = three_cells();
        let range = history.answer(&HistoryRequest::Range {
            session: Some(1),
            start: 1,
            stop: 2,
            output: false,
            raw: true,
        });
        assert_eq!(inputs(&range), [(1, "let x = 6;".into())]);
        let other_session = history.answer(&HistoryRequest::Range {
            session: Some(7),
            start: 1,
            stop: 3,
            output: false,
            raw: true,
        });
        assert!(other_session.is_empty());
    }

    #[test]
    fn search_globs_and_keeps_only_the_newest_duplicate_when_unique() {
        let history = three_cells();
        let search = |unique, n| {
            history.answer(&HistoryRequest::Search {
                pattern: "x * 7".into(),
                unique,
                output: false,
                raw: true,
                n,
            })
        };
        assert_eq!(inputs(&search(false, 0)).len(), 2);
        assert_eq!(inputs(&search(true, 0)), [(3, "x * 7".into())]);
        assert_eq!(inputs(&search(false, 1)), [(3, "x * 7".into())]);
    }

    #[test]
    fn output_entries_carry_the_plain_text_result() {
        let history = three_cells();
        let tail = history.answer(&HistoryRequest::Tail {
            n: 1,
            output: true,
            raw: true,
        });
        assert!(matches!(
            &tail[0],
            HistoryEntry::InputOutput(1, 3, (input, output)) if input == "x * 7" && output == "42"
        ));
    }

    #[test]
    fn glob_wildcards_match_like_sqlite() {
        assert!(glob_matches(b"6 * 7", b"6 * 7"));
        assert!(glob_matches(b"6 * 7", b"6 times 7"));
        assert!(glob_matches(b"a?c*", b"abcdef"));
        assert!(!glob_matches(b"6 * 7", b"6 * 8"));
        assert!(!glob_matches(b"abc", b"abcd"));
        assert!(glob_matches(b"*", b""));
    }
}
