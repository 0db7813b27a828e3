//! ML nodes that hang an upload, on 127.0.0.1: each accepts the connection and sends an SSH
//! banner, then either falls silent or trickles the start of a packet that never completes
//! (which ssh's keepalives do not catch). Shared by the upload, panel and command-line tests.

// Each test binary uses a part of these helpers.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// What the node does after its banner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Nothing at all.
    Silent,
    /// The length of a 4 KiB packet, then one byte every 200 ms.
    Trickle,
}

/// A hanging ML node; stops (closing its connections) when dropped.
pub struct HangingNode {
    pub port: u16,
    stop: Arc<AtomicBool>,
    closed: Arc<AtomicUsize>,
    accepting: Option<JoinHandle<()>>,
}

impl HangingNode {
    pub fn start(behaviour: Behaviour) -> HangingNode {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let port = listener.local_addr().expect("local address").port();
        let stop = Arc::new(AtomicBool::new(false));
        let closed = Arc::new(AtomicUsize::new(0));
        let (stopping, counting) = (Arc::clone(&stop), Arc::clone(&closed));
        let accepting = thread::spawn(move || {
            let mut connections = Vec::new();
            while !stopping.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (stop, closed) = (Arc::clone(&stopping), Arc::clone(&counting));
                        connections.push(thread::spawn(move || {
                            hang(stream, behaviour, &stop);
                            closed.fetch_add(1, Ordering::SeqCst);
                        }));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(10)),
                }
            }
            for connection in connections {
                let _ = connection.join();
            }
        });
        HangingNode {
            port,
            stop,
            closed,
            accepting: Some(accepting),
        }
    }

    /// How many connections the client side has closed so far.
    pub fn closed_connections(&self) -> usize {
        self.closed.load(Ordering::SeqCst)
    }
}

/// Serves one connection until the client closes it or the node stops.
fn hang(mut stream: TcpStream, behaviour: Behaviour, stop: &AtomicBool) {
    let _ = stream.set_nonblocking(false);
    if stream.write_all(b"SSH-2.0-OpenSSH_7.4\r\n").is_err() {
        return;
    }
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    if behaviour == Behaviour::Trickle && stream.write_all(&[0, 0, 0x0f, 0xfc, 4]).is_err() {
        return;
    }
    let mut sink = [0u8; 4096];
    while !stop.load(Ordering::SeqCst) {
        match stream.read(&mut sink) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return,
        }
        if behaviour == Behaviour::Trickle && stream.write_all(&[0]).is_err() {
            return;
        }
    }
}

impl Drop for HangingNode {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(accepting) = self.accepting.take() {
            let _ = accepting.join();
        }
    }
}
