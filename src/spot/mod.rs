//! Integration with a Spot installation: its configuration file and the upload of the
//! feedback to the ML node.

pub mod conf;
pub mod upload;
