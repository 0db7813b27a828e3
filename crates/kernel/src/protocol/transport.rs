//! A libzmq socket driven from async code.
//!
//! libzmq sockets may be used by one thread only, so each socket gets a thread of its own that
//! takes orders (send these frames, hand me the next message) from a queue; one end of a Unix
//! socket pair wakes it when an order arrives, and closing that end stops it.
//!
//! The thread takes a message out of libzmq only while someone waits for one: messages nobody
//! reads yet stay in libzmq's queue, bounded by its high-water mark, instead of piling up here.
//! libzmq itself refuses any frame longer than the limit (`ZMQ_MAXMSGSIZE`, set in
//! [`super::sockets`]) and disconnects the peer that announced it, before a byte of it is
//! stored; this module bounds what a whole multipart message may add up to.

use std::fmt;
use std::io::{ErrorKind, Read, Write};
use std::os::unix::io::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::mpsc;
use tokio::sync::oneshot;

/// The frames of one multipart message, as libzmq delivered them.
pub(crate) type Frames = Vec<zmq::Message>;

/// Why no message could be received.
#[derive(Debug)]
pub(crate) enum ReceiveError {
    /// The frames of one message add up to more than the limit; they were discarded.
    TooLarge { bytes: usize, limit: usize },
    /// libzmq reported an error.
    Socket(zmq::Error),
    /// The socket's thread is gone.
    Closed,
}

impl fmt::Display for ReceiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReceiveError::TooLarge { bytes, limit } => write!(
                f,
                "message of {bytes} bytes exceeds the limit of {limit} bytes"
            ),
            ReceiveError::Socket(error) => write!(f, "socket error: {error}"),
            ReceiveError::Closed => write!(f, "the socket's thread has stopped"),
        }
    }
}

/// The socket's thread has stopped; nothing can be sent.
#[derive(Debug)]
pub(crate) struct Closed;

impl fmt::Display for Closed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the socket's thread has stopped")
    }
}

type Delivery = Result<Frames, ReceiveError>;

enum Order {
    Send(Vec<Vec<u8>>),
    Receive(oneshot::Sender<Delivery>),
}

/// The async side of a socket owned by its thread.
pub(crate) struct Socket {
    orders: mpsc::Sender<Order>,
    wake: UnixStream,
}

impl Socket {
    /// Moves `socket` to a thread of its own, named after `name`. Multipart messages are
    /// refused when their frames add up to more than `limit` bytes.
    pub(crate) fn spawn(name: &str, socket: zmq::Socket, limit: usize) -> std::io::Result<Socket> {
        let (wake, wakes) = UnixStream::pair()?;
        wake.set_nonblocking(true)?;
        wakes.set_nonblocking(true)?;
        let (orders, queue) = mpsc::channel();
        std::thread::Builder::new()
            .name(format!("zmq-{name}"))
            .spawn(move || {
                Owner {
                    socket,
                    limit,
                    waiting: None,
                    early: None,
                }
                .serve(&queue, wakes)
            })?;
        Ok(Socket { orders, wake })
    }

    /// Queues a multipart message for sending.
    pub(crate) fn send(&self, frames: Vec<Vec<u8>>) -> Result<(), Closed> {
        self.order(Order::Send(frames))
    }

    /// The next message. Cancelling the wait loses nothing: a message that arrives for a
    /// waiter that is gone goes to the next one.
    pub(crate) async fn receive(&self) -> Result<Frames, ReceiveError> {
        let (reply, delivery) = oneshot::channel();
        self.order(Order::Receive(reply))
            .map_err(|Closed| ReceiveError::Closed)?;
        delivery.await.unwrap_or(Err(ReceiveError::Closed))
    }

    fn order(&self, order: Order) -> Result<(), Closed> {
        self.orders.send(order).map_err(|_| Closed)?;
        // A full pipe already holds a wake-up; the thread reads the queue when it wakes.
        match (&self.wake).write(&[1]) {
            Err(error) if error.kind() != ErrorKind::WouldBlock => Err(Closed),
            _ => Ok(()),
        }
    }
}

/// The thread's side: the socket and the one waiter it serves.
struct Owner {
    socket: zmq::Socket,
    limit: usize,
    waiting: Option<oneshot::Sender<Delivery>>,
    /// A message received for a waiter that went away, kept for the next one.
    early: Option<Delivery>,
}

impl Owner {
    fn serve(mut self, queue: &mpsc::Receiver<Order>, mut wakes: UnixStream) {
        loop {
            if !self.take_orders(queue) {
                return;
            }
            self.deliver();
            let wants_message = self.waiting.is_some();
            let mut items = vec![zmq::PollItem::from_fd(wakes.as_raw_fd(), zmq::POLLIN)];
            if wants_message {
                items.push(self.socket.as_poll_item(zmq::POLLIN));
            }
            match zmq::poll(&mut items, -1) {
                Ok(_) | Err(zmq::Error::EINTR) => {}
                Err(error) => {
                    eprintln!("flow-edge-kernel: polling a socket failed: {error}");
                    return;
                }
            }
            if !drain(&mut wakes) {
                // The async side is gone, but what it queued before leaving still goes out
                // (a shutdown_reply is the last thing a kernel sends).
                self.take_orders(queue);
                return;
            }
        }
    }

    /// Carries out the queued orders; false once the async side is gone.
    fn take_orders(&mut self, queue: &mpsc::Receiver<Order>) -> bool {
        loop {
            match queue.try_recv() {
                Ok(Order::Send(frames)) => {
                    if let Err(error) = self.socket.send_multipart(frames, zmq::DONTWAIT) {
                        eprintln!("flow-edge-kernel: sending a message failed: {error}");
                    }
                }
                Ok(Order::Receive(reply)) => self.waiting = Some(reply),
                Err(mpsc::TryRecvError::Empty) => return true,
                Err(mpsc::TryRecvError::Disconnected) => return false,
            }
        }
    }

    /// Hands a message to the waiter if one is there and a message is ready.
    fn deliver(&mut self) {
        let Some(reply) = self.waiting.take() else {
            return;
        };
        let delivery = match self.early.take() {
            Some(delivery) => delivery,
            None => match receive_now(&self.socket, self.limit) {
                Some(delivery) => delivery,
                None => {
                    self.waiting = Some(reply);
                    return;
                }
            },
        };
        if let Err(undelivered) = reply.send(delivery) {
            self.early = Some(undelivered);
        }
    }
}

/// Reads one whole message if one is ready.
fn receive_now(socket: &zmq::Socket, limit: usize) -> Option<Delivery> {
    let mut first = zmq::Message::new();
    match socket.recv(&mut first, zmq::DONTWAIT) {
        Ok(()) => Some(receive_rest(socket, first, limit)),
        Err(zmq::Error::EAGAIN) => None,
        Err(error) => Some(Err(ReceiveError::Socket(error))),
    }
}

/// Reads the frames after `first`; libzmq delivers a multipart message whole, so they are
/// all there. Past the limit, frames are read and dropped so the next message starts clean.
fn receive_rest(socket: &zmq::Socket, first: zmq::Message, limit: usize) -> Delivery {
    let mut bytes = first.len();
    let mut frames = vec![first];
    while socket.get_rcvmore().map_err(ReceiveError::Socket)? {
        let mut frame = zmq::Message::new();
        socket.recv(&mut frame, 0).map_err(ReceiveError::Socket)?;
        bytes = bytes.saturating_add(frame.len());
        if bytes <= limit {
            frames.push(frame);
        } else {
            frames.clear();
        }
    }
    if bytes > limit {
        return Err(ReceiveError::TooLarge { bytes, limit });
    }
    Ok(frames)
}

/// Empties the wake-up pipe; false when its other end closed (the async side is gone).
fn drain(wakes: &mut UnixStream) -> bool {
    let mut buffer = [0u8; 64];
    loop {
        match wakes.read(&mut buffer) {
            Ok(0) => return false,
            Ok(_) => {}
            Err(error) if error.kind() == ErrorKind::WouldBlock => return true,
            Err(error) if error.kind() == ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn pair(limit: usize) -> (Socket, zmq::Socket) {
        let context = zmq::Context::new();
        let endpoint = format!("inproc://transport-test-{limit}");
        let router = context.socket(zmq::ROUTER).unwrap();
        router.bind(&endpoint).unwrap();
        let dealer = context.socket(zmq::DEALER).unwrap();
        dealer.connect(&endpoint).unwrap();
        (Socket::spawn("test", router, limit).unwrap(), dealer)
    }

    #[tokio::test]
    async fn a_message_whose_frames_add_up_past_the_limit_is_refused_and_the_next_one_arrives() {
        let (router, dealer) = pair(100);
        dealer
            .send_multipart([vec![b'a'; 60], vec![b'b'; 60]], 0)
            .unwrap();
        dealer.send_multipart([b"small".to_vec()], 0).unwrap();
        let refused = tokio::time::timeout(Duration::from_secs(5), router.receive())
            .await
            .unwrap();
        assert!(
            matches!(refused, Err(ReceiveError::TooLarge { bytes, limit: 100 }) if bytes > 120),
            "{refused:?}"
        );
        let next = tokio::time::timeout(Duration::from_secs(5), router.receive())
            .await
            .unwrap()
            .unwrap();
        // The routing identity, then the frame.
        assert_eq!(next.len(), 2);
        assert_eq!(&next[1][..], b"small");
    }

    #[tokio::test]
    async fn a_message_for_a_waiter_that_gave_up_goes_to_the_next_one() {
        let (router, dealer) = pair(1000);
        let gave_up = tokio::time::timeout(Duration::from_millis(50), router.receive()).await;
        assert!(gave_up.is_err());
        dealer.send_multipart([b"kept".to_vec()], 0).unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let next = tokio::time::timeout(Duration::from_secs(5), router.receive())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&next[1][..], b"kept");
        // Replies go back through the same thread, addressed by identity.
        router
            .send(vec![next[0].to_vec(), b"back".to_vec()])
            .unwrap();
        let mut answer = zmq::Message::new();
        dealer.set_rcvtimeo(5000).unwrap();
        dealer.recv(&mut answer, 0).unwrap();
        assert_eq!(&answer[..], b"back");
    }
}
