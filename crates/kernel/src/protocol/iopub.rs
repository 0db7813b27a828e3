//! Publishing on iopub: one task owns the socket, everyone else queues messages to it.
//!
//! A single queue keeps the order in which messages were produced: the cell's streamed
//! lines, the comm messages of widgets and the final `idle` reach the frontend in that order.

use super::sockets::KernelSocket;
use jupyter_protocol::{ExecutionState, JupyterMessage, JupyterMessageContent, Status};
use serde_json::Value;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::{mpsc, oneshot};

struct Outgoing {
    message: JupyterMessage,
    published: Option<oneshot::Sender<()>>,
}

/// A cheap handle for queueing iopub messages.
#[derive(Clone)]
pub(crate) struct Publisher {
    queue: mpsc::UnboundedSender<Outgoing>,
}

impl Publisher {
    /// Starts the task that owns the iopub socket.
    pub(crate) fn start(socket: KernelSocket) -> Publisher {
        let (queue, mut outgoing) = mpsc::unbounded_channel::<Outgoing>();
        tokio::spawn(async move {
            while let Some(Outgoing { message, published }) = outgoing.recv().await {
                let kind = message.header.msg_type.clone();
                if let Err(error) = socket.send(message) {
                    eprintln!("flow-edge-kernel: publishing {kind} on iopub failed: {error}");
                }
                if let Some(published) = published {
                    // The waiter may have timed out; then nobody needs to know.
                    let _ = published.send(());
                }
            }
        });
        Publisher { queue }
    }

    /// Queues `content`, parented to `parent`.
    pub(crate) fn send(
        &self,
        parent: Option<&JupyterMessage>,
        content: impl Into<JupyterMessageContent>,
    ) {
        self.enqueue(message(parent, content.into(), None), None);
    }

    /// Queues `content` and waits until it was handed to the socket, after everything queued
    /// before it.
    pub(crate) async fn send_confirmed(
        &self,
        parent: Option<&JupyterMessage>,
        content: impl Into<JupyterMessageContent>,
        metadata: Value,
    ) {
        let (published, sent) = oneshot::channel();
        self.enqueue(
            message(parent, content.into(), Some(metadata)),
            Some(published),
        );
        // An error means the publisher task is gone (shutdown); nothing left to wait for.
        let _ = sent.await;
    }

    /// Queues a `status` message.
    pub(crate) fn status(&self, parent: Option<&JupyterMessage>, state: ExecutionState) {
        self.send(
            parent,
            Status {
                execution_state: state,
            },
        );
    }

    fn enqueue(&self, message: JupyterMessage, published: Option<oneshot::Sender<()>>) {
        if self.queue.send(Outgoing { message, published }).is_err() {
            eprintln!("flow-edge-kernel: iopub publisher stopped; message dropped");
        }
    }
}

fn message(
    parent: Option<&JupyterMessage>,
    content: JupyterMessageContent,
    metadata: Option<Value>,
) -> JupyterMessage {
    let mut message = JupyterMessage::new(content, parent);
    // Routing identities belong to the shell socket; on iopub they would become the topic.
    message.zmq_identities.clear();
    if let Some(metadata) = metadata {
        message.metadata = metadata;
    }
    message
}

/// The shell request being handled: the parent of streams and of widget messages.
#[derive(Clone, Default)]
pub(crate) struct CurrentRequest {
    request: Arc<Mutex<Option<JupyterMessage>>>,
}

impl CurrentRequest {
    pub(crate) fn set(&self, request: &JupyterMessage) {
        *self.request.lock().unwrap_or_else(PoisonError::into_inner) = Some(request.clone());
    }

    pub(crate) fn get(&self) -> Option<JupyterMessage> {
        self.request
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}
