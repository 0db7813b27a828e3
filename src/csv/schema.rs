//! Which field holds which column, found by header name.
//!
//! The OA step that writes `flow_scores.csv` took its header from an unordered
//! map, so real files come in any column order, with 20 columns (`srcIP_rep`,
//! `dstIP_rep`) or 22 (`gtiSrcRep`, `gtiDstRep`, `norseSrcRep`, `norseDstRep`),
//! sometimes with more. The engine never assumes a position: it asks the
//! [`Schema`] built from the header.

use crate::error::{Error, Position, Problem};
use std::path::Path;

/// The columns the engine and the notebook know by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Column {
    /// `sev`: 0 unscored, 1 high, 2 medium, 3 low.
    Sev,
    /// `tstart`: `YYYY-MM-DD HH:MM:SS`.
    Tstart,
    /// `srcIP`.
    SrcIp,
    /// `dstIP`.
    DstIp,
    /// `sport`.
    Sport,
    /// `dport`.
    Dport,
    /// `proto`.
    Proto,
    /// `flag`.
    Flag,
    /// `ipkt`: packets.
    Ipkt,
    /// `ibyt`: bytes.
    Ibyt,
    /// `lda_score`: lower is more suspicious.
    LdaScore,
    /// `rank`.
    Rank,
    /// `srcIpInternal`.
    SrcIpInternal,
    /// `destIpInternal`.
    DestIpInternal,
    /// `srcGeo`.
    SrcGeo,
    /// `dstGeo`.
    DstGeo,
    /// `srcDomain`.
    SrcDomain,
    /// `dstDomain`.
    DstDomain,
    /// `srcIP_rep` (20-column files).
    SrcIpRep,
    /// `dstIP_rep` (20-column files).
    DstIpRep,
    /// `gtiSrcRep` (22-column files).
    GtiSrcRep,
    /// `gtiDstRep` (22-column files).
    GtiDstRep,
    /// `norseSrcRep` (22-column files).
    NorseSrcRep,
    /// `norseDstRep` (22-column files).
    NorseDstRep,
}

impl Column {
    /// Every known column, in the canonical order of the OA README (20-column
    /// names first, then the 22-column reputation names).
    pub const ALL: [Column; 24] = [
        Column::Sev,
        Column::Tstart,
        Column::SrcIp,
        Column::DstIp,
        Column::Sport,
        Column::Dport,
        Column::Proto,
        Column::Flag,
        Column::Ipkt,
        Column::Ibyt,
        Column::LdaScore,
        Column::Rank,
        Column::SrcIpInternal,
        Column::DestIpInternal,
        Column::SrcGeo,
        Column::DstGeo,
        Column::SrcDomain,
        Column::DstDomain,
        Column::SrcIpRep,
        Column::DstIpRep,
        Column::GtiSrcRep,
        Column::GtiDstRep,
        Column::NorseSrcRep,
        Column::NorseDstRep,
    ];

    /// Columns every operation of the engine or the ML feedback relies on; a
    /// file without one of them is refused when the day is opened.
    pub const REQUIRED: [Column; 10] = [
        Column::Sev,
        Column::Tstart,
        Column::SrcIp,
        Column::DstIp,
        Column::Sport,
        Column::Dport,
        Column::Ipkt,
        Column::Ibyt,
        Column::LdaScore,
        Column::Rank,
    ];

    /// The column's name in the header.
    pub fn name(self) -> &'static str {
        match self {
            Column::Sev => "sev",
            Column::Tstart => "tstart",
            Column::SrcIp => "srcIP",
            Column::DstIp => "dstIP",
            Column::Sport => "sport",
            Column::Dport => "dport",
            Column::Proto => "proto",
            Column::Flag => "flag",
            Column::Ipkt => "ipkt",
            Column::Ibyt => "ibyt",
            Column::LdaScore => "lda_score",
            Column::Rank => "rank",
            Column::SrcIpInternal => "srcIpInternal",
            Column::DestIpInternal => "destIpInternal",
            Column::SrcGeo => "srcGeo",
            Column::DstGeo => "dstGeo",
            Column::SrcDomain => "srcDomain",
            Column::DstDomain => "dstDomain",
            Column::SrcIpRep => "srcIP_rep",
            Column::DstIpRep => "dstIP_rep",
            Column::GtiSrcRep => "gtiSrcRep",
            Column::GtiDstRep => "gtiDstRep",
            Column::NorseSrcRep => "norseSrcRep",
            Column::NorseDstRep => "norseDstRep",
        }
    }

    /// The known column with this header name, if any (names are case-sensitive,
    /// as in the files; see [`Column::other_spelling`]).
    pub fn from_name(name: &str) -> Option<Column> {
        Column::ALL
            .into_iter()
            .find(|column| column.name() == name || column.other_spelling() == Some(name))
    }

    /// The other header name Spot's own files use for the column: `flow_oa.py` writes
    /// `srcIp_rep` and `dstIp_rep`, while Spot's flow README documents `srcIP_rep` and
    /// `dstIP_rep`. Both are read; files keep the header they have.
    pub fn other_spelling(self) -> Option<&'static str> {
        match self {
            Column::SrcIpRep => Some("srcIp_rep"),
            Column::DstIpRep => Some("dstIp_rep"),
            _ => None,
        }
    }

    fn slot(self) -> usize {
        self as usize
    }
}

/// The header of a flow file: the names in file order and where each known
/// column is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema {
    names: Vec<String>,
    known: [Option<usize>; Column::ALL.len()],
}

impl Schema {
    /// Builds the schema of a header, refusing duplicate names and missing
    /// required columns. `path` only serves the error messages (line 1).
    pub fn from_header<S: AsRef<str>>(path: &Path, names: &[S]) -> Result<Schema, Error> {
        let mut known = [None; Column::ALL.len()];
        let mut seen = std::collections::HashSet::new();
        for (index, name) in names.iter().enumerate() {
            let name = name.as_ref();
            if !seen.insert(name) {
                return Err(Error::content(
                    Position::field(path, 1, index + 1, Some(name)),
                    Problem::DuplicateColumn(name.to_owned()),
                ));
            }
            if let Some(column) = Column::from_name(name) {
                if known[column.slot()].is_some() {
                    // Both spellings of one column: which one holds the data is unclear.
                    return Err(Error::content(
                        Position::field(path, 1, index + 1, Some(name)),
                        Problem::DuplicateColumn(column.name().to_owned()),
                    ));
                }
                known[column.slot()] = Some(index);
            }
        }
        for column in Column::REQUIRED {
            if known[column.slot()].is_none() {
                return Err(Error::content(
                    Position::line(path, 1),
                    Problem::MissingColumn(column.name()),
                ));
            }
        }
        Ok(Schema {
            names: names.iter().map(|name| name.as_ref().to_owned()).collect(),
            known,
        })
    }

    /// The field index of a known column, if the header has it.
    pub fn index(&self, column: Column) -> Option<usize> {
        self.known[column.slot()]
    }

    /// The field index of a column, or `usize::MAX` when the header lacks it,
    /// which [`crate::Row::field`] reads as an empty field. Required columns are
    /// always present (checked by `from_header`).
    pub(crate) fn slot_or_absent(&self, column: Column) -> usize {
        self.known[column.slot()].unwrap_or(usize::MAX)
    }

    /// The field index of any column, known or not, by header name.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|candidate| candidate == name)
    }

    /// The header names in file order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True for a header without names (never built by `from_header`, which
    /// needs the required columns).
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Field indexes in the order the feedback file uses: the known columns in
    /// canonical order (the positions `FlowPreLDA.scala` reads), then unknown
    /// columns in file order.
    pub fn feedback_order(&self) -> Vec<usize> {
        let mut order: Vec<usize> = Column::ALL
            .into_iter()
            .filter_map(|column| self.index(column))
            .collect();
        for (index, name) in self.names.iter().enumerate() {
            if Column::from_name(name).is_none() {
                order.push(index);
            }
        }
        order
    }
}
