//! The slots: taking one for a kernel, listing them, clearing idle ones, keeping the bound.

use super::location::{CacheError, Settings};
use super::profile;
use super::size::{tree_bytes, SlotUsage};
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The build cache at a root.
#[derive(Debug, Clone)]
pub struct Cache {
    settings: Settings,
}

/// A slot this process holds: the lock is released when it is dropped (or the process ends,
/// even by a crash, since the kernel's `flock` goes with the open file).
#[derive(Debug)]
pub struct Slot {
    index: usize,
    dir: PathBuf,
    _lock: File,
}

impl Slot {
    /// The slot's number (`slot-N`).
    pub fn index(&self) -> usize {
        self.index
    }

    /// evcxr's build folder for this kernel.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// What `cache clear` did.
#[derive(Debug, Default)]
pub struct ClearOutcome {
    /// Cleared slots and the bytes freed.
    pub cleared: Vec<(usize, u64)>,
    /// Slots left alone because a kernel holds them.
    pub busy: Vec<usize>,
}

impl Cache {
    pub fn new(settings: Settings) -> Cache {
        Cache { settings }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    fn slot_dir(&self, index: usize) -> PathBuf {
        self.settings.root.join(format!("slot-{index}"))
    }

    fn lock_path(&self, index: usize) -> PathBuf {
        self.settings.root.join(format!("slot-{index}.lock"))
    }

    /// Locks slot `index` without waiting; `Ok(None)` when another process holds it.
    fn try_lock(&self, index: usize) -> Result<Option<File>, CacheError> {
        let path = self.lock_path(index);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(CacheError::io(&path))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(file)),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(error)) => Err(CacheError::Io { path, error }),
        }
    }

    /// Like `try_lock`, but a slot found locked is tried again a few times: `cache` and the
    /// size bound hold an idle slot's lock for a moment to see whether it is free, and a
    /// kernel starting in that moment should still get that slot, not a colder one.
    fn try_lock_patiently(&self, index: usize) -> Result<Option<File>, CacheError> {
        const TRIES: u32 = 3;
        for _ in 1..TRIES {
            if let Some(lock) = self.try_lock(index)? {
                return Ok(Some(lock));
            }
            std::thread::sleep(std::time::Duration::from_millis(15));
        }
        self.try_lock(index)
    }

    /// Takes the first free slot and creates its folder; `Ok(None)` when all are busy. Writes
    /// the cache's cargo profile first (`profile`), so every build in a slot follows it; a
    /// profile that cannot be written is reported and the slot taken all the same.
    pub fn acquire(&self) -> Result<Option<Slot>, CacheError> {
        create_private_dir(&self.settings.root)?;
        // Without the profile a slot still keeps the build: only a cold one is slower.
        if let Err(error) = profile::ensure_config(&self.settings.root) {
            eprintln!("flow-edge-kernel: the build cache's cargo profile: {error}");
        }
        for index in 0..self.settings.slots {
            let Some(lock) = self.try_lock_patiently(index)? else {
                continue;
            };
            // The lock file's mtime records the last use, for least-recently-used eviction.
            let _ = lock.set_modified(SystemTime::now());
            let dir = self.slot_dir(index);
            create_private_dir(&dir)?;
            return Ok(Some(Slot {
                index,
                dir,
                _lock: lock,
            }));
        }
        Ok(None)
    }

    /// Every slot with its size and whether it is in use.
    pub fn usage(&self) -> Result<Vec<SlotUsage>, CacheError> {
        (0..self.settings.slots)
            .map(|index| {
                let dir = self.slot_dir(index);
                let lock_path = self.lock_path(index);
                let last_used = std::fs::metadata(&lock_path)
                    .and_then(|m| m.modified())
                    .ok();
                let in_use = last_used.is_some() && self.try_lock(index)?.is_none();
                Ok(SlotUsage {
                    index,
                    bytes: tree_bytes(&dir),
                    in_use,
                    last_used,
                })
            })
            .collect()
    }

    /// Removes the folders of the slots no kernel holds.
    pub fn clear(&self) -> Result<ClearOutcome, CacheError> {
        let mut outcome = ClearOutcome::default();
        if !self.settings.root.exists() {
            return Ok(outcome);
        }
        for index in 0..self.settings.slots {
            match self.try_lock(index)? {
                None => outcome.busy.push(index),
                Some(_held_while_removing) => {
                    let freed = self.remove_slot_dir(index)?;
                    outcome.cleared.push((index, freed));
                }
            }
        }
        Ok(outcome)
    }

    /// Clears idle slots, least recently used first, until the whole cache fits the bound.
    /// Returns the slots cleared. Busy slots (this kernel's among them) are never touched.
    pub fn enforce_limit(&self) -> Result<Vec<usize>, CacheError> {
        let mut usage = self.usage()?;
        let mut total: u64 = usage.iter().map(|slot| slot.bytes).sum();
        usage.retain(|slot| !slot.in_use && slot.bytes > 0);
        usage.sort_by_key(|slot| slot.last_used);
        let mut cleared = Vec::new();
        for slot in usage {
            if total <= self.settings.limit_bytes {
                break;
            }
            // Taken between listing and now: skip it rather than wait.
            let Some(_held_while_removing) = self.try_lock(slot.index)? else {
                continue;
            };
            total = total.saturating_sub(self.remove_slot_dir(slot.index)?);
            cleared.push(slot.index);
        }
        Ok(cleared)
    }

    /// Removes slot `index`'s folder; the caller holds its lock. Returns the bytes freed.
    fn remove_slot_dir(&self, index: usize) -> Result<u64, CacheError> {
        let dir = self.slot_dir(index);
        let bytes = tree_bytes(&dir);
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => Ok(bytes),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(error) => Err(CacheError::Io { path: dir, error }),
        }
    }
}

/// Creates `dir` (and its parents) readable by its owner only: cells and their build
/// products are the user's.
fn create_private_dir(dir: &Path) -> Result<(), CacheError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(CacheError::io(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(name: &str, limit_bytes: u64) -> Cache {
        let root =
            std::env::temp_dir().join(format!("flow-edge-slots-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        Cache::new(Settings {
            root,
            slots: 2,
            limit_bytes,
        })
    }

    #[test]
    fn held_slots_are_skipped_and_none_is_left_when_all_are_held() {
        let cache = cache("held", u64::MAX);
        let first = cache.acquire().unwrap().expect("a free slot");
        let second = cache.acquire().unwrap().expect("another free slot");
        assert_eq!((first.index(), second.index()), (0, 1));
        assert!(cache.acquire().unwrap().is_none());
        drop(first);
        assert_eq!(cache.acquire().unwrap().expect("slot 0 again").index(), 0);
        std::fs::remove_dir_all(&cache.settings().root).unwrap();
    }

    #[test]
    fn a_profile_that_cannot_be_written_still_gives_a_slot() {
        let cache = cache("profile", u64::MAX);
        std::fs::create_dir_all(&cache.settings().root).unwrap();
        // A file where the profile's folder should be.
        std::fs::write(cache.settings().root.join(".cargo"), "not a folder").unwrap();
        let slot = cache
            .acquire()
            .unwrap()
            .expect("a slot despite the profile");
        assert!(slot.dir().is_dir());
        std::fs::remove_dir_all(&cache.settings().root).unwrap();
    }

    #[test]
    fn the_bound_clears_idle_slots_oldest_first_and_never_a_held_one() {
        let cache = cache("bound", 1000);
        let held = cache.acquire().unwrap().unwrap();
        std::fs::write(held.dir().join("big"), vec![0u8; 2000]).unwrap();
        let idle = cache.acquire().unwrap().unwrap();
        std::fs::write(idle.dir().join("big"), vec![0u8; 2000]).unwrap();
        drop(idle);
        assert_eq!(cache.enforce_limit().unwrap(), vec![1]);
        assert!(held.dir().join("big").exists());
        assert!(!cache.slot_dir(1).exists());
        std::fs::remove_dir_all(&cache.settings().root).unwrap();
    }
}
