//! Interrupts: a flag the binary sets on SIGINT/SIGTERM, checked by a stage between parts.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A shared interrupt flag; the default is never set.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Option<Arc<AtomicBool>>);

impl Cancel {
    /// A flag that `flag` sets.
    pub fn new(flag: Arc<AtomicBool>) -> Self {
        Self(Some(flag))
    }

    /// Whether an interrupt was asked for.
    pub fn is_set(&self) -> bool {
        self.0.as_ref().is_some_and(|f| f.load(Ordering::SeqCst))
    }
}

impl From<Option<Arc<AtomicBool>>> for Cancel {
    fn from(flag: Option<Arc<AtomicBool>>) -> Self {
        Self(flag)
    }
}
