//! A private directory for the bridge socket: mode 0700, removed when the kernel exits.

use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

/// File name of the socket inside the directory.
const SOCKET_NAME: &str = "bridge.sock";

/// The directory holding the bridge socket; removing it on drop.
pub struct SocketDir {
    dir: PathBuf,
}

impl SocketDir {
    /// Creates a fresh directory under the system temp dir that only this user can enter.
    pub fn create() -> std::io::Result<SocketDir> {
        let base = std::env::temp_dir();
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.subsec_nanos())
            .unwrap_or_default();
        let mut last_error = None;
        for attempt in 0..16u32 {
            let dir = base.join(format!(
                "flow-edge-kernel-{}-{nanos:08x}-{attempt}",
                std::process::id()
            ));
            // `create` fails if the path exists, so nobody can have prepared it for us.
            match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
                Ok(()) => return Ok(SocketDir { dir }),
                Err(error) => last_error = Some(error),
            }
        }
        Err(last_error.unwrap_or_else(|| std::io::Error::other("no directory attempt made")))
    }

    /// Where the socket goes.
    pub fn socket_path(&self) -> PathBuf {
        self.dir.join(SOCKET_NAME)
    }
}

impl Drop for SocketDir {
    fn drop(&mut self) {
        if let Err(error) = std::fs::remove_dir_all(&self.dir) {
            eprintln!(
                "flow-edge-kernel: cannot remove {}: {error}",
                self.dir.display()
            );
        }
    }
}
