//! The feedback file `flow_scores_fb.csv`: scored rows for the ML side.
//!
//! Format: one header line, then one line per scored row; fields separated by
//! a tab, no quoting, lines ended by `\n`. Fields are the decoded text of the
//! flow file (quotes removed). A tab, carriage return or line feed inside a
//! field would break the format, so each is written as a space.
//!
//! Column order: the known columns in the canonical order of the OA schema
//! (`sev, tstart, srcIP, dstIP, sport, dport, proto, flag, ipkt, ibyt,
//! lda_score, rank, ...`), then unknown columns in file order. The ML side
//! (`FlowPreLDA.scala` in spot-ml) reads the file by position: it drops the
//! header, splits each line on tabs, keeps lines with exactly 22 fields and
//! `sev == 3`, and reads `tstart` (index 1, `date HH:MM:SS`), `srcIP`,
//! `dstIP`, `sport`, `dport` (2 to 5), `ipkt` and `ibyt` (8 and 9). Writing in
//! canonical order keeps those positions right even when `flow_scores.csv`
//! has its columns in another order. Two limits of the ML side stay: rows of
//! a 20-column day have 20 fields and are ignored by it (as with the original
//! notebook), and Java's `split` drops trailing empty fields, so a row whose
//! last fields are empty counts fewer than 22 fields.
//!
//! If the file already exists its header decides the order (it must hold
//! exactly the flow file's columns), so a day keeps one layout.

use crate::csv::row::Row;
use crate::csv::schema::Schema;
use crate::day::recovery::scoring_journal::FeedbackBefore;
use crate::error::{Error, Position, Problem};
use crate::io::crash_point;
use crate::io::durable::write_to;
use crate::io::ownership::{create_new_like, Ownership};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// How rows will be appended, decided before anything is written.
#[derive(Debug)]
pub(crate) struct FeedbackPlan {
    path: PathBuf,
    /// Flow-file field index for each feedback column.
    order: Vec<usize>,
    /// The header line to write first, when the file is new or empty.
    header: Option<String>,
    /// The file as it is now.
    pub before: FeedbackBefore,
}

impl FeedbackPlan {
    /// Looks at the feedback file and decides the column order, refusing a
    /// file whose header does not match the flow file or whose last line is
    /// unfinished.
    pub fn inspect(path: &Path, schema: &Schema) -> Result<FeedbackPlan, Error> {
        let existing = match File::open(path) {
            Ok(file) => Some(file),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(Error::io(path, "opening", e)),
        };
        let len = match &existing {
            Some(file) => file
                .metadata()
                .map_err(|e| Error::io(path, "reading the size of", e))?
                .len(),
            None => 0,
        };
        let before = FeedbackBefore {
            len,
            existed: existing.is_some(),
        };
        let (order, header) = match existing {
            Some(file) if len > 0 => (existing_order(path, file, len, schema)?, None),
            _ => {
                let order = schema.feedback_order();
                let names: Vec<&str> = order
                    .iter()
                    .map(|&index| schema.names()[index].as_str())
                    .collect();
                (order, Some(sanitized_line(names)))
            }
        };
        Ok(FeedbackPlan {
            path: path.to_path_buf(),
            order,
            header,
            before,
        })
    }

    /// Opens the file for appending and writes the header if it is new. A new file takes
    /// `model`'s owner, group and permissions (the flow file's: the feedback is as private as
    /// the flows it copies).
    pub fn open(self, model: Option<&Ownership>) -> Result<FeedbackWriter, Error> {
        let file = if self.before.existed {
            OpenOptions::new()
                .append(true)
                .open(&self.path)
                .map_err(|e| Error::io(&self.path, "opening for appending", e))?
        } else {
            create_new_like(&self.path, model)?
        };
        let mut writer = FeedbackWriter {
            out: BufWriter::with_capacity(1 << 16, file),
            path: self.path,
            order: self.order,
            line: String::new(),
        };
        if let Some(header) = self.header {
            write_to(&mut writer.out, &writer.path, header.as_bytes())?;
        }
        Ok(writer)
    }
}

/// Reads an existing header and maps its names to flow-file fields.
fn existing_order(
    path: &Path,
    mut file: File,
    len: u64,
    schema: &Schema,
) -> Result<Vec<usize>, Error> {
    let mut last = [0u8; 1];
    file.seek(SeekFrom::Start(len - 1))
        .and_then(|_| file.read_exact(&mut last))
        .map_err(|e| Error::io(path, "reading", e))?;
    if last[0] != b'\n' {
        return Err(Error::content(
            Position::line(path, 0),
            Problem::UnfinishedFeedbackLine,
        ));
    }
    file.seek(SeekFrom::Start(0))
        .map_err(|e| Error::io(path, "reading", e))?;
    let mut head = Vec::new();
    let mut chunk = [0u8; 4096];
    while !head.contains(&b'\n') {
        let read = file
            .read(&mut chunk)
            .map_err(|e| Error::io(path, "reading", e))?;
        if read == 0 {
            break;
        }
        head.extend_from_slice(&chunk[..read]);
    }
    let end = head
        .iter()
        .position(|&byte| byte == b'\n')
        .unwrap_or(head.len());
    let header = String::from_utf8_lossy(&head[..end]);
    let header = header.trim_end_matches('\r');
    let mismatch = || {
        let expected: Vec<&str> = schema
            .feedback_order()
            .iter()
            .map(|&index| schema.names()[index].as_str())
            .collect();
        Error::content(
            Position::line(path, 1),
            Problem::FeedbackColumns {
                expected: expected.join("\t"),
                found: header.to_owned(),
            },
        )
    };
    let names: Vec<&str> = header.split('\t').collect();
    if names.len() != schema.len() {
        return Err(mismatch());
    }
    let mut order = Vec::with_capacity(names.len());
    for name in names {
        let index = schema.index_of(name).ok_or_else(mismatch)?;
        if order.contains(&index) {
            return Err(mismatch());
        }
        order.push(index);
    }
    Ok(order)
}

/// A tab-separated line of fields, each cleaned of tabs and line breaks.
fn sanitized_line<'s>(fields: impl IntoIterator<Item = &'s str>) -> String {
    let mut line = String::new();
    for (at, field) in fields.into_iter().enumerate() {
        if at > 0 {
            line.push('\t');
        }
        push_sanitized(&mut line, field);
    }
    line.push('\n');
    line
}

fn push_sanitized(line: &mut String, field: &str) {
    if field.contains(['\t', '\r', '\n']) {
        line.extend(field.chars().map(|c| {
            if matches!(c, '\t' | '\r' | '\n') {
                ' '
            } else {
                c
            }
        }));
    } else {
        line.push_str(field);
    }
}

/// Appends scored rows.
pub(crate) struct FeedbackWriter {
    out: BufWriter<File>,
    path: PathBuf,
    order: Vec<usize>,
    line: String,
}

impl FeedbackWriter {
    /// Appends `row` with its `sev` replaced by `severity`.
    pub fn append(&mut self, row: &Row, sev_index: usize, severity: u8) -> Result<(), Error> {
        self.line.clear();
        for (at, &index) in self.order.iter().enumerate() {
            if at > 0 {
                self.line.push('\t');
            }
            if index == sev_index {
                self.line.push(char::from(b'0' + severity));
            } else {
                push_sanitized(&mut self.line, row.field(index));
            }
        }
        self.line.push('\n');
        write_to(&mut self.out, &self.path, self.line.as_bytes())
    }

    /// Flushes the appended rows to disk.
    pub fn finish(self) -> Result<(), Error> {
        let file = self
            .out
            .into_inner()
            .map_err(|e| Error::io(&self.path, "writing", e.into_error()))?;
        crash_point::reached();
        file.sync_all()
            .map_err(|e| Error::io(&self.path, "flushing to disk", e))?;
        crash_point::reached();
        Ok(())
    }
}
