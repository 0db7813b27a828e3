//! File I/O: the steps every crash-safe write is made of (new versions renamed into place,
//! single bytes written in place, the locks that keep readers and writers apart), and reading a
//! whole file without copying it. Knows nothing of CSV.

pub(crate) mod cache;
pub(crate) mod crash_point;
pub(crate) mod durable;
pub(crate) mod gather;
pub(crate) mod identity;
pub(crate) mod lock;
pub(crate) mod mapped;
pub(crate) mod ownership;
pub(crate) mod patch;
pub(crate) mod write_ahead;
