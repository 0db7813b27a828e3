//! The day's locks. Every wait is bounded, and a wait that runs out names who holds the lock.
//!
//! **The day's lock** is an advisory `flock` on `flow_scores.csv.lock`: exclusive for writers
//! (one at a time, across processes), shared for readers while they pick the version to read.
//! A writer, once it holds the lock, records its pid, the time and its command line in the
//! file, so that a process that gives up waiting can say who it waited for; on Linux the
//! holders' pids come from `/proc/locks` (the record may be stale: it is believed only for a
//! pid that really holds the lock). The lock file is never deleted: deleting it would let a
//! second process lock a new file while a first one still holds the old.
//!
//! **The flows' own lock** is a `flock` on the open `flow_scores.csv` itself
//! ([`share_flows`], [`own_flows`]): shared by every reader for the whole of its read,
//! exclusive for a writer that changes bytes in place (which holds the day's lock first). It
//! guards the bytes of one version of the flows, so it needs no lock file (a day no writer
//! ever opened has none, and a colleague with read access only cannot make one), and a writer
//! that replaces the file by rename never waits for it: readers of the old version keep
//! reading that version.

use crate::error::{Error, LockHolder};
use crate::io::ownership::{create_new_like, Ownership};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Read};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The longest pause between two attempts to take the lock.
const LONGEST_PAUSE: Duration = Duration::from_millis(50);
/// Bytes read of a holder's record or command line, and characters shown of a command.
const RECORD_BYTES: u64 = 4096;
const COMMAND_CHARS: usize = 300;
/// Bytes read of `/proc/locks` (a line is about 60 bytes: this is some 16 000 locks).
const PROC_LOCKS_BYTES: u64 = 1 << 20;

/// The day's lock, held until dropped (closing the file releases it).
#[derive(Debug)]
pub(crate) struct DayLock {
    _file: File,
}

impl DayLock {
    /// Takes the lock for writing, waiting at most `wait` for the one who holds it, and
    /// records this process as the holder. A new lock file gets `model`'s ownership (the flow
    /// file's), so that whoever may read the day may also take the shared lock.
    pub fn exclusive(
        path: &Path,
        model: Option<&Ownership>,
        wait: Duration,
    ) -> Result<DayLock, Error> {
        let file = open_or_create(path, model)?;
        wait_for(&file, path, wait, Kind::Exclusive, Record::Kept)?;
        // Only a help for whoever waits next: a failure to record leaves the lock as good.
        let _ = record_holder(&file);
        Ok(DayLock { _file: file })
    }

    /// Takes the lock for reading, waiting at most `wait` for a writer. Needs read access
    /// only. `None` when there is no lock file: no writer ever locked the day.
    pub fn shared(path: &Path, wait: Duration) -> Result<Option<DayLock>, Error> {
        let file = match File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(path, "opening the lock file", e)),
        };
        wait_for(&file, path, wait, Kind::Shared, Record::Kept)?;
        Ok(Some(DayLock { _file: file }))
    }
}

/// Takes the flows' own lock (see the module docs) shared on the open `flow_scores.csv`
/// `file`, for a read, waiting at most `wait` for a writer that is changing it in place. Needs
/// read access only. Held as long as `file` is open (closing it releases the lock), so it
/// travels with the handle the read goes through.
pub(crate) fn share_flows(file: &File, path: &Path, wait: Duration) -> Result<(), Error> {
    wait_for(file, path, wait, Kind::Shared, Record::None)
}

/// Takes the flows' own lock exclusive on the open `flow_scores.csv` `file`, for changing it
/// in place, waiting at most `wait` for the readers of this version to finish. Held as long
/// as `file` is open.
pub(crate) fn own_flows(file: &File, path: &Path, wait: Duration) -> Result<(), Error> {
    wait_for(file, path, wait, Kind::Exclusive, Record::None)
}

/// Opens the lock file for writing, creating it if there is none. Another process creating
/// it at the same moment makes the creation fail: its file is opened instead (a few times at
/// most: only something deleting lock files as fast as they appear would exhaust them).
fn open_or_create(path: &Path, model: Option<&Ownership>) -> Result<File, Error> {
    let mut attempts = 3;
    loop {
        let opened = OpenOptions::new().read(true).write(true).open(path);
        match opened {
            Ok(file) => return Ok(file),
            Err(e) if e.kind() == io::ErrorKind::NotFound && attempts > 0 => {}
            Err(e) => return Err(Error::io(path, "opening the lock file", e)),
        }
        attempts -= 1;
        match create_new_like(path, model) {
            Ok(file) => return Ok(file),
            Err(Error::Io { source, .. }) if source.kind() == io::ErrorKind::AlreadyExists => {}
            Err(error) => return Err(error),
        }
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Exclusive,
    Shared,
}

/// Whether the locked file holds a record of its holder (the lock file does, the flows not).
#[derive(Clone, Copy)]
enum Record {
    Kept,
    None,
}

/// Tries to take the lock until it is free or `wait` has passed.
fn wait_for(
    file: &File,
    path: &Path,
    wait: Duration,
    kind: Kind,
    record: Record,
) -> Result<(), Error> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        let attempt = match kind {
            Kind::Exclusive => file.try_lock(),
            Kind::Shared => file.try_lock_shared(),
        };
        match attempt {
            Ok(()) => return Ok(()),
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(e)) => return Err(Error::io(path, "locking the day", e)),
        }
        let waited = started.elapsed();
        if waited >= wait {
            return Err(Error::Locked {
                path: path.to_path_buf(),
                waited: wait,
                holders: holders(file, record),
            });
        }
        std::thread::sleep(pause.min(wait - waited));
        pause = (pause * 2).min(LONGEST_PAUSE);
    }
}

/// Writes `pid`, `since` (seconds since 1970) and `command` lines over the lock file.
fn record_holder(file: &File) -> io::Result<()> {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    let arguments: Vec<String> = std::env::args_os()
        .map(|argument| argument.to_string_lossy().into_owned())
        .collect();
    let record = format!(
        "pid {}\nsince {since}\ncommand {}\n",
        std::process::id(),
        printable(&arguments.join(" "))
    );
    // Written over the old record, then cut to its length: emptying the file first would
    // free its block, which costs milliseconds on a disk that discards freed blocks.
    file.write_all_at(record.as_bytes(), 0)?;
    file.set_len(record.len() as u64)
}

/// The holder a lock file records, if it records one.
fn recorded_holder(file: &File) -> Option<LockHolder> {
    let mut bytes = vec![0; RECORD_BYTES as usize];
    let read = file.read_at(&mut bytes, 0).ok()?;
    let text = String::from_utf8_lossy(&bytes[..read]);
    let mut holder = LockHolder {
        pid: 0,
        command: None,
        since: None,
    };
    for line in text.lines() {
        match line.split_once(' ') {
            Some(("pid", pid)) => holder.pid = pid.parse().ok()?,
            Some(("since", seconds)) => {
                holder.since = seconds
                    .parse()
                    .ok()
                    .map(|seconds| UNIX_EPOCH + Duration::from_secs(seconds));
            }
            Some(("command", command)) => holder.command = Some(printable(command)),
            _ => {}
        }
    }
    (holder.pid != 0).then_some(holder)
}

/// Who holds the lock of `file`, as far as can be told: the processes `/proc/locks` lists for
/// it (with the recorded command and time for the one the record names), else the recorded
/// holder.
fn holders(file: &File, record: Record) -> Vec<LockHolder> {
    let recorded = match record {
        Record::Kept => recorded_holder(file),
        Record::None => None,
    };
    let pids = file.metadata().map_or_else(
        |_| Vec::new(),
        |meta| lock_holder_pids(meta.dev(), meta.ino()),
    );
    if pids.is_empty() {
        return recorded.into_iter().collect();
    }
    pids.into_iter()
        .map(|pid| match &recorded {
            Some(holder) if holder.pid == pid => holder.clone(),
            _ => LockHolder {
                pid,
                command: command_of(pid),
                since: None,
            },
        })
        .collect()
}

/// The pids `/proc/locks` lists as holding a `flock` on the file `dev`/`ino` (not waiting
/// for one), without repeats.
#[cfg(target_os = "linux")]
fn lock_holder_pids(dev: u64, ino: u64) -> Vec<u32> {
    let mut text = String::new();
    let read = File::open("/proc/locks")
        .and_then(|locks| locks.take(PROC_LOCKS_BYTES).read_to_string(&mut text));
    if read.is_err() {
        return Vec::new();
    }
    // Lines read `1: FLOCK  ADVISORY  WRITE 1234 fe:00:786450 0 EOF`: the device's major and
    // minor numbers in hexadecimal, the inode in decimal. Waiters have `->` after the number.
    let file = format!("{:02x}:{:02x}:{ino}", libc::major(dev), libc::minor(dev));
    let mut pids = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if let ["FLOCK", _, _, pid, id, ..] = fields.get(1..).unwrap_or_default() {
            if *id == file {
                if let Ok(pid) = pid.parse::<u32>() {
                    if !pids.contains(&pid) {
                        pids.push(pid);
                    }
                }
            }
        }
    }
    pids
}

#[cfg(not(target_os = "linux"))]
fn lock_holder_pids(_dev: u64, _ino: u64) -> Vec<u32> {
    Vec::new()
}

/// The command line of process `pid`, where the system shows it.
fn command_of(pid: u32) -> Option<String> {
    let mut bytes = Vec::new();
    File::open(format!("/proc/{pid}/cmdline"))
        .and_then(|file| file.take(RECORD_BYTES).read_to_end(&mut bytes))
        .ok()?;
    let arguments: Vec<String> = bytes
        .split(|&byte| byte == 0)
        .filter(|argument| !argument.is_empty())
        .map(|argument| String::from_utf8_lossy(argument).into_owned())
        .collect();
    (!arguments.is_empty()).then(|| printable(&arguments.join(" ")))
}

/// `text` on one line, control characters as spaces, at most [`COMMAND_CHARS`] characters.
fn printable(text: &str) -> String {
    let mut shown: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(COMMAND_CHARS)
        .collect();
    if text.chars().count() > COMMAND_CHARS {
        shown.push('…');
    }
    shown
}
