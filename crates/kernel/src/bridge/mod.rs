//! The comm bridge: the kernel's end of the socket to the widgets library in evcxr's
//! subprocess (the message formats are in `flow_edge_bridge_protocol::wire`).

mod comm_registry;
mod limits;
mod lines;
mod link;
mod server;
mod socket_dir;

pub(crate) use comm_registry::CommRegistry;
pub(crate) use server::{Bridge, ForwardError};
pub use socket_dir::SocketDir;
