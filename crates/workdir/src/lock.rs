//! The work directory's lock: one stage at a time.
//!
//! The lock is an OS-level exclusive lock (`flock`) on `<workdir>/lock`, so the kernel releases
//! it when its holder dies, however it dies; no process ever judges another's lock stale.
//! The file also says who holds it (pid and stage), for the message of the one refused.
//!
//! The holder removes the file before it lets go of the lock. A process that opened the file
//! just before that removal may then lock the removed file; it notices, because the path no
//! longer leads to the file it locked, and starts again. So at any moment at most one process
//! holds a lock on the file the path names.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// How often a process retries when the file it locked was removed under it.
const ATTEMPTS: usize = 16;

/// Held while a stage runs; the file is removed and the lock released on drop.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
    file: File,
}

#[derive(Debug, Serialize, Deserialize)]
struct LockInfo {
    pid: u32,
    stage: String,
}

impl Lock {
    pub(crate) fn acquire(path: &Path, stage: &str) -> Result<Self> {
        let info = LockInfo {
            pid: std::process::id(),
            stage: stage.to_owned(),
        };
        let body =
            serde_json::to_vec(&info).map_err(|e| Error::io(path, "encode the lock", e.into()))?;
        for _ in 0..ATTEMPTS {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)
                .map_err(|e| Error::io(path, "create the lock", e))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => return Err(held_by(path, &mut file)),
                Err(TryLockError::Error(e)) => return Err(Error::io(path, "lock", e)),
            }
            if !same_file(path, &file) {
                // Removed by its last holder after we opened it: lock the new one.
                continue;
            }
            file.set_len(0)
                .and_then(|()| file.seek(SeekFrom::Start(0)))
                .and_then(|_| file.write_all(&body))
                .and_then(|()| file.sync_all())
                .map_err(|e| Error::io(path, "write the lock", e))?;
            return Ok(Self {
                path: path.to_owned(),
                file,
            });
        }
        Err(Error::io(
            path,
            "create the lock",
            std::io::Error::other("another process keeps re-creating it"),
        ))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Remove first, unlock second (closing the file releases the lock).
        let _ = fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

/// The refusal for a lock another process holds, naming it when the file says who.
///
/// The holder writes its pid just after it takes the lock, so for a moment the file may still
/// name the process that held it before (now gone) or nothing: read again briefly until it
/// names a live process, else call the holder "starting".
fn held_by(path: &Path, file: &mut File) -> Error {
    const TRIES: usize = 20;
    for attempt in 0..TRIES {
        let mut text = String::new();
        let info: Option<LockInfo> = file
            .seek(SeekFrom::Start(0))
            .and_then(|_| file.read_to_string(&mut text))
            .ok()
            .and_then(|_| serde_json::from_str(&text).ok());
        if let Some(info) = info.filter(|i| process_alive(i.pid)) {
            return Error::Locked {
                path: path.to_owned(),
                pid: info.pid,
                stage: info.stage,
            };
        }
        if attempt + 1 < TRIES {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
    Error::Locked {
        path: path.to_owned(),
        pid: 0,
        stage: "starting".to_owned(),
    }
}

/// Whether a process with this pid exists (a zombie counts as gone).
#[cfg(target_os = "linux")]
fn process_alive(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

#[cfg(not(target_os = "linux"))]
fn process_alive(_pid: u32) -> bool {
    true
}

/// Whether `path` still names the file that `file` has open.
#[cfg(unix)]
fn same_file(path: &Path, file: &File) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (fs::metadata(path), file.metadata()) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(path: &Path, _file: &File) -> bool {
    path.exists()
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Barrier};

    use super::*;

    #[test]
    fn contenders_for_a_stale_lock_never_hold_it_at_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lock");
        let inside = Arc::new(AtomicUsize::new(0));
        let mut won_total = 0;
        for round in 0..40 {
            // A lock file left by a process that died, or one whose holder was still writing it.
            let stale = if round % 2 == 0 {
                ""
            } else {
                r#"{"pid":1,"stage":"load"}"#
            };
            fs::write(&path, stale).unwrap();
            let barrier = Arc::new(Barrier::new(3));
            let contenders: Vec<_> = (0..3)
                .map(|_| {
                    let (path, barrier, inside) = (path.clone(), barrier.clone(), inside.clone());
                    std::thread::spawn(move || {
                        barrier.wait();
                        let Ok(lock) = Lock::acquire(&path, "transform") else {
                            return 0;
                        };
                        assert_eq!(
                            inside.fetch_add(1, Ordering::SeqCst),
                            0,
                            "two holders at once"
                        );
                        std::thread::sleep(std::time::Duration::from_millis(2));
                        inside.fetch_sub(1, Ordering::SeqCst);
                        drop(lock);
                        1
                    })
                })
                .collect();
            let won: usize = contenders.into_iter().map(|h| h.join().unwrap()).sum();
            assert!(won >= 1, "round {round}: nobody got the stale lock");
            won_total += won;
        }
        assert!(won_total >= 40);
    }

    #[test]
    fn the_refusal_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lock");
        let held = Lock::acquire(&path, "load").unwrap();
        match Lock::acquire(&path, "verify") {
            Err(Error::Locked { pid, stage, .. }) => {
                assert_eq!(pid, std::process::id());
                assert_eq!(stage, "load");
            }
            other => panic!("expected Locked, got {other:?}"),
        }
        drop(held);
        assert!(!path.exists(), "the lock file is removed on release");
        drop(Lock::acquire(&path, "verify").unwrap());
    }
}
