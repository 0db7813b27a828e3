//! Where a standby and the kernels looking for it meet: a folder only the user can enter,
//! holding per configuration a lock (a standby lives), a socket (it is ready) and a log.

use super::settings::{current_uid, StandbySettings};
use std::fmt;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

/// The folder cannot be used safely.
#[derive(Debug)]
pub struct RendezvousError {
    pub path: PathBuf,
    pub problem: String,
}

impl fmt::Display for RendezvousError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "standby folder {}: {}",
            self.path.display(),
            self.problem
        )
    }
}

impl std::error::Error for RendezvousError {}

/// The files of one configuration's standby.
#[derive(Debug, Clone)]
pub struct Rendezvous {
    dir: PathBuf,
    fingerprint: String,
}

/// What a look at the rendezvous finds.
#[derive(Debug, PartialEq, Eq)]
pub enum StandbyState {
    None,
    /// A standby lives (pid) and is not ready yet.
    Warming(u32),
    /// A standby (pid) listens.
    Ready(u32),
}

impl Rendezvous {
    /// Opens (creating it with mode 0700 if needed) the folder of `settings` for the
    /// configuration `fingerprint`. A folder that is a symbolic link, belongs to another user
    /// or that others may enter is refused: someone could stand in for the standby there.
    pub fn open(
        settings: &StandbySettings,
        fingerprint: &str,
    ) -> Result<Rendezvous, RendezvousError> {
        let dir = settings.dir.clone();
        let refuse = |problem: String| RendezvousError {
            path: dir.clone(),
            problem,
        };
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(error) => return Err(refuse(format!("cannot create it: {error}"))),
        }
        let metadata =
            std::fs::symlink_metadata(&dir).map_err(|error| refuse(error.to_string()))?;
        if !metadata.file_type().is_dir() {
            return Err(refuse("not a folder (a symbolic link?)".into()));
        }
        if metadata.uid() != current_uid() {
            return Err(refuse(format!("belongs to user {}", metadata.uid())));
        }
        if metadata.mode() & 0o077 != 0 {
            return Err(refuse(format!(
                "mode {:o}: others may enter it (expected 700)",
                metadata.mode() & 0o777
            )));
        }
        Ok(Rendezvous {
            dir,
            fingerprint: fingerprint.to_owned(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The socket a ready standby listens on.
    pub fn socket_path(&self) -> PathBuf {
        self.dir.join(format!("{}.sock", self.fingerprint))
    }

    /// The lock a living, not yet adopted, standby holds; it holds its pid.
    pub fn lock_path(&self) -> PathBuf {
        self.dir.join(format!("{}.lock", self.fingerprint))
    }

    /// The standby's stderr.
    pub fn log_path(&self) -> PathBuf {
        self.dir.join(format!("{}.log", self.fingerprint))
    }

    /// The log of the standby last adopted: the kernel serving the last notebook opened.
    pub fn previous_log_path(&self) -> PathBuf {
        self.dir.join(format!("{}.previous.log", self.fingerprint))
    }

    /// Takes the standby lock without waiting and writes this process's id into it;
    /// `Ok(None)` when another standby holds it.
    pub fn try_lock(&self) -> std::io::Result<Option<File>> {
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.lock_path())?;
        match file.try_lock() {
            Ok(()) => {
                file.set_len(0)?;
                write!(file, "{}", std::process::id())?;
                Ok(Some(file))
            }
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(error)) => Err(error),
        }
    }

    /// The rendezvous of the other configurations that have used this folder (a kernel
    /// started by Jupyter has Jupyter's environment, not the shell's that asks).
    pub fn others(&self) -> Vec<Rendezvous> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut others: Vec<Rendezvous> = entries
            .flatten()
            .filter_map(|entry| {
                let name = entry.file_name().into_string().ok()?;
                let fingerprint = name.strip_suffix(".lock")?;
                (fingerprint != self.fingerprint).then(|| Rendezvous {
                    dir: self.dir.clone(),
                    fingerprint: fingerprint.to_owned(),
                })
            })
            .collect();
        others.sort_by(|a, b| a.fingerprint.cmp(&b.fingerprint));
        others
    }

    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Whether a standby lives and is ready. A lock nobody holds means none (its socket, if
    /// left by a crash, is stale).
    pub fn state(&self) -> StandbyState {
        let Ok(file) = File::open(self.lock_path()) else {
            return StandbyState::None;
        };
        match file.try_lock_shared() {
            Ok(()) => StandbyState::None,
            Err(_) => {
                let pid = std::fs::read_to_string(self.lock_path())
                    .ok()
                    .and_then(|text| text.trim().parse().ok())
                    .unwrap_or_default();
                if self.socket_path().exists() {
                    StandbyState::Ready(pid)
                } else {
                    StandbyState::Warming(pid)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::time::Duration;

    fn settings(dir: &Path) -> StandbySettings {
        StandbySettings {
            dir: dir.to_path_buf(),
            delay: Duration::ZERO,
            idle: Duration::from_secs(1),
        }
    }

    #[test]
    fn the_folder_is_created_private_and_a_folder_others_can_enter_is_refused() {
        let base = tempfile::tempdir().unwrap();
        let dir = base.path().join("standby");
        let rendezvous = Rendezvous::open(&settings(&dir), "abc").unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        assert_eq!(rendezvous.socket_path(), dir.join("abc.sock"));

        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let error = Rendezvous::open(&settings(&dir), "abc").unwrap_err();
        assert!(error.to_string().contains("others may enter it"), "{error}");

        let link = base.path().join("link");
        std::os::unix::fs::symlink(&dir, &link).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        let error = Rendezvous::open(&settings(&link), "abc").unwrap_err();
        assert!(error.to_string().contains("symbolic link"), "{error}");
    }

    #[test]
    fn one_standby_holds_the_lock_and_the_state_follows_it() {
        let base = tempfile::tempdir().unwrap();
        let rendezvous = Rendezvous::open(&settings(&base.path().join("standby")), "f").unwrap();
        assert_eq!(rendezvous.state(), StandbyState::None);
        let lock = rendezvous.try_lock().unwrap().expect("free");
        let me = std::process::id();
        assert_eq!(rendezvous.state(), StandbyState::Warming(me));
        assert!(rendezvous.try_lock().unwrap().is_none());
        std::fs::write(rendezvous.socket_path(), "").unwrap();
        assert_eq!(rendezvous.state(), StandbyState::Ready(me));
        drop(lock);
        assert_eq!(rendezvous.state(), StandbyState::None);

        let other = Rendezvous::open(&settings(&base.path().join("standby")), "g").unwrap();
        let _other_lock = other.try_lock().unwrap().expect("free");
        let others = rendezvous.others();
        assert_eq!(others.len(), 1);
        assert_eq!(others[0].fingerprint(), "g");
        assert_eq!(others[0].state(), StandbyState::Warming(me));
    }
}
