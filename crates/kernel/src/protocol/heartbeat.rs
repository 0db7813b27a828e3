//! The heartbeat: echo every ping so the frontend knows the kernel process is alive.

use jupyter_zmq_client::KernelHeartbeatConnection;

/// Answers pings until the process ends; a failed ping is logged and the loop goes on.
pub(crate) async fn run(mut heartbeat: KernelHeartbeatConnection) {
    loop {
        if let Err(error) = heartbeat.single_heartbeat().await {
            eprintln!("flow-edge-kernel: heartbeat: {error}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}
