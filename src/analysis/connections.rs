//! A page of connections: the rows an analyst reads first, a page at a time.
//!
//! A day has up to a million rows; a view of "the connections of this IP" keeps the first
//! rows of one page and counts the rest in the same streaming pass.

use crate::analysis::context::NetworkContext;
use crate::analysis::reputation::ReputationLevel;
use crate::day::selection::Selection;
use crate::{Column, Day, Error, Row};

/// The columns of a connection an analyst reads first, as written in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// 1-based line in `flow_scores.csv`.
    pub line: u64,
    /// `sev`: 0 unscored, 1 high, 2 medium, 3 low.
    pub sev: String,
    /// `tstart`.
    pub tstart: String,
    /// `srcIP`.
    pub src_ip: String,
    /// `dstIP`.
    pub dst_ip: String,
    /// `sport`.
    pub sport: String,
    /// `dport`.
    pub dport: String,
    /// `proto`.
    pub proto: String,
    /// `ipkt`.
    pub ipkt: String,
    /// `ibyt`.
    pub ibyt: String,
    /// `lda_score`.
    pub lda_score: String,
    /// Network-context name of the source, when known.
    pub src_name: Option<String>,
    /// Network-context name of the destination, when known.
    pub dst_name: Option<String>,
    /// What the day's context columns say of the source.
    pub src_context: EndpointContext,
    /// What the day's context columns say of the destination.
    pub dst_context: EndpointContext,
}

/// What the context columns Spot's OA step adds say of one end of a connection: reputation,
/// geo and domain, as written. A column the day does not have is absent (`None`, or missing
/// from `reputation`), so views show only what the day carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointContext {
    /// The reputation columns of this end with their fields (`srcIP_rep`, or `gtiSrcRep` and
    /// `norseSrcRep`), in that order.
    pub reputation: Vec<(Column, String)>,
    /// `srcGeo` or `dstGeo`.
    pub geo: Option<String>,
    /// `srcDomain` or `dstDomain`.
    pub domain: Option<String>,
}

/// The context columns of each end: reputation (20- then 22-column names), geo, domain.
const SOURCE_COLUMNS: ([Column; 3], Column, Column) = (
    [Column::SrcIpRep, Column::GtiSrcRep, Column::NorseSrcRep],
    Column::SrcGeo,
    Column::SrcDomain,
);
const DESTINATION_COLUMNS: ([Column; 3], Column, Column) = (
    [Column::DstIpRep, Column::GtiDstRep, Column::NorseDstRep],
    Column::DstGeo,
    Column::DstDomain,
);

impl EndpointContext {
    /// The context of one end of `row`, from the columns the day has.
    fn of_row(row: &Row, (reputation, geo, domain): ([Column; 3], Column, Column)) -> Self {
        let present = |column: Column| row.schema().index(column).is_some();
        let field = |column: Column| present(column).then(|| row.get(column).to_string());
        EndpointContext {
            reputation: reputation
                .into_iter()
                .filter(|&column| present(column))
                .map(|column| (column, row.get(column).to_string()))
                .collect(),
            geo: field(geo),
            domain: field(domain),
        }
    }

    /// The reputation level of this end (`None` when the day has no reputation column or
    /// every field is empty); see [`crate::analysis::reputation`].
    pub fn reputation_level(&self) -> Option<ReputationLevel> {
        ReputationLevel::of(self.reputation.iter().map(|(_, field)| field.as_str()))
    }

    /// True when no context column of this end holds anything.
    pub fn is_empty(&self) -> bool {
        self.reputation
            .iter()
            .all(|(_, field)| field.trim().is_empty())
            && [&self.geo, &self.domain]
                .iter()
                .all(|text| text.as_deref().is_none_or(|t| t.trim().is_empty()))
    }
}

impl Connection {
    /// The analyst's columns of a row.
    pub fn of_row(row: &Row) -> Connection {
        let get = |column| row.get(column).to_string();
        Connection {
            line: row.line(),
            sev: get(Column::Sev),
            tstart: get(Column::Tstart),
            src_ip: get(Column::SrcIp),
            dst_ip: get(Column::DstIp),
            sport: get(Column::Sport),
            dport: get(Column::Dport),
            proto: get(Column::Proto),
            ipkt: get(Column::Ipkt),
            ibyt: get(Column::Ibyt),
            lda_score: get(Column::LdaScore),
            src_name: None,
            dst_name: None,
            src_context: EndpointContext::of_row(row, SOURCE_COLUMNS),
            dst_context: EndpointContext::of_row(row, DESTINATION_COLUMNS),
        }
    }
}

/// Some of the connections matching a filter, and how many matched in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionPage {
    /// The connections of this page, in file order.
    pub connections: Vec<Connection>,
    /// Matching rows before this page.
    pub offset: u64,
    /// Matching rows in the whole day.
    pub matched: u64,
}

impl ConnectionPage {
    /// Reads the day once, keeping matching rows `offset..offset + limit` and counting all.
    pub fn collect(
        day: &Day,
        offset: u64,
        limit: usize,
        mut filter: impl FnMut(&Row) -> bool,
    ) -> Result<ConnectionPage, Error> {
        let mut page = ConnectionPage {
            connections: Vec::new(),
            offset,
            matched: 0,
        };
        day.for_each_row(|row| {
            if filter(row) {
                if page.matched >= offset && page.connections.len() < limit {
                    page.connections.push(Connection::of_row(row));
                }
                page.matched += 1;
            }
            Ok::<(), Error>(())
        })?;
        Ok(page)
    }

    /// The connections a scoring with this selection would rate: look before scoring.
    pub fn of_selection(
        day: &Day,
        selection: &Selection,
        offset: u64,
        limit: usize,
    ) -> Result<ConnectionPage, Error> {
        let matcher = selection.matcher()?;
        Self::collect(day, offset, limit, |row| matcher.matches(row))
    }

    /// Puts network-context names beside the addresses.
    pub fn with_context(mut self, context: &NetworkContext) -> ConnectionPage {
        for connection in &mut self.connections {
            connection.src_name = context.name_of(&connection.src_ip).map(str::to_string);
            connection.dst_name = context.name_of(&connection.dst_ip).map(str::to_string);
        }
        self
    }

    /// Matching rows after this page.
    pub fn remaining(&self) -> u64 {
        self.matched
            .saturating_sub(self.offset)
            .saturating_sub(self.connections.len() as u64)
    }
}
