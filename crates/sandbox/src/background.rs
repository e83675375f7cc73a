//! A thread that serves until it is told to stop: the sandbox servers' and the fault proxy's.

use std::thread::JoinHandle;

use tokio::sync::oneshot;

/// A serving thread and the channel that stops it. Dropping it sends the stop and waits for
/// the thread to end.
#[derive(Debug)]
pub(crate) struct Background {
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Background {
    /// `thread`, which ends once `stop`'s receiver fires (or is dropped).
    pub(crate) fn new(stop: oneshot::Sender<()>, thread: JoinHandle<()>) -> Self {
        Self {
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
