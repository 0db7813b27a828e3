//! The heartbeat: echo every ping so the frontend knows the kernel process is alive.
//!
//! It runs on a thread of its own, blocking on its REP socket, so a busy runtime never delays
//! a pong; oversized frames are refused by libzmq like on the other sockets.

/// Starts echoing on `socket` until the process ends.
pub(crate) fn start(socket: zmq::Socket) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("zmq-heartbeat".into())
        .spawn(move || loop {
            if let Err(error) = echo_one(&socket) {
                eprintln!("flow-edge-kernel: heartbeat: {error}");
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        })?;
    Ok(())
}

/// Receives one ping and sends its frames back as they come.
fn echo_one(socket: &zmq::Socket) -> zmq::Result<()> {
    loop {
        let mut frame = zmq::Message::new();
        socket.recv(&mut frame, 0)?;
        let more = socket.get_rcvmore()?;
        socket.send(frame, if more { zmq::SNDMORE } else { 0 })?;
        if !more {
            return Ok(());
        }
    }
}
