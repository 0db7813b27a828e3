//! The CSV stack of `flow_scores.csv`: the RFC 4180 splitter, the SIMD structural scanner,
//! record readers with positions for every error, whole-day block passes, the schema found by
//! header name and the decoded view of one row.

pub(crate) mod blocks;
pub(crate) mod records;
pub(crate) mod row;
pub(crate) mod scan;
pub(crate) mod scan_ahead;
pub(crate) mod schema;
pub(crate) mod split;
