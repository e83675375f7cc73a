//! Trying a step again after a transient fault, with bounded exponential backoff.
//!
//! [`Retry::run`] runs a step; when it fails with a [`Fault`](crate::Fault) and retries are
//! left, it logs a warning naming the step, the fault and the attempt, waits, and runs the
//! step again with the next attempt number. The step itself opens a new connection on every
//! attempt after the first: a connection that saw a fault may be out of step with the server.
//! A step must therefore be atomic (a whole part, a whole chunk): redoing it must not double
//! anything.
//!
//! ```no_run
//! # async fn demo(endpoint: &bptmig_model::pipeline::Endpoint) -> bptmig_db::Result<()> {
//! use bptmig_db::{retry::Retry, Side};
//! let retry = Retry::for_endpoint(endpoint);
//! let mut client = bptmig_db::connect(Side::Source, endpoint).await?;
//! let n = retry
//!     .run("counting processes", async |attempt| {
//!         if attempt > 0 {
//!             client = bptmig_db::connect(Side::Source, endpoint).await?;
//!         }
//!         bptmig_db::scalar(&mut client, Side::Source, "SELECT COUNT(*) FROM T").await
//!     })
//!     .await?;
//! # let _ = n; Ok(()) }
//! ```

use std::fmt::Display;
use std::time::Duration;

use bptmig_model::pipeline::{Endpoint, RETRY_DELAY_CAP_SECS};

use crate::fault::Transient;

/// How often and how patiently a step is tried again after a transient fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Tries after the first; `0` makes the first failure final.
    pub retries: u32,
    /// The wait before the first retry; each next wait doubles it.
    pub base_delay: Duration,
    /// The longest wait between two attempts.
    pub max_delay: Duration,
}

impl Retry {
    /// No retry: the first failure is final.
    pub const NONE: Self = Self {
        retries: 0,
        base_delay: Duration::ZERO,
        max_delay: Duration::ZERO,
    };

    /// The endpoint's `retries` and `retry_delay_secs`, each wait at most 30 s (or the
    /// `retry_delay_secs` itself, when that is longer).
    pub fn for_endpoint(endpoint: &Endpoint) -> Self {
        Self {
            retries: endpoint.retries,
            base_delay: endpoint.retry_delay,
            max_delay: endpoint
                .retry_delay
                .max(Duration::from_secs(RETRY_DELAY_CAP_SECS)),
        }
    }

    /// How many times a step is tried in all.
    pub fn attempts(&self) -> u32 {
        self.retries.saturating_add(1)
    }

    /// The wait before retry `n` (1 for the first retry): `base_delay × 2^(n-1)`, at most
    /// `max_delay`.
    pub fn delay(&self, n: u32) -> Duration {
        let factor = 1_u32.checked_shl(n.saturating_sub(1)).unwrap_or(u32::MAX);
        self.base_delay
            .checked_mul(factor)
            .unwrap_or(Duration::MAX)
            .min(self.max_delay)
    }

    /// Runs `step` with attempt number 0, and again with 1, 2, … after each failure that is a
    /// transient fault, while retries are left; each retry is logged with `what` (what the
    /// step does, e.g. "part 3 of `OSSYS_BPM_ACTIVITY`") and waits [`Retry::delay`] first.
    /// Returns the first success, the first permanent error, or the last transient one.
    pub async fn run<T, E: Transient + Display>(
        &self,
        what: impl Display,
        mut step: impl AsyncFnMut(u32) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut attempt = 0;
        loop {
            let error = match step(attempt).await {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            let Some(fault) = error.fault() else {
                return Err(error);
            };
            if attempt >= self.retries {
                return Err(error);
            }
            attempt += 1;
            let delay = self.delay(attempt);
            tracing::warn!(
                attempt = attempt + 1,
                attempts = self.attempts(),
                delay_ms = delay.as_millis() as u64,
                error = %error,
                "{what} failed: {fault}; trying again on a new connection (attempt {} of {})",
                attempt + 1,
                self.attempts(),
            );
            tokio::time::sleep(delay).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::ErrorKind;

    use super::*;
    use crate::Fault;

    /// An error that is transient or not, as told.
    #[derive(Debug, PartialEq)]
    struct Failure(bool);

    impl Display for Failure {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "failure (transient: {})", self.0)
        }
    }

    impl Transient for Failure {
        fn fault(&self) -> Option<Fault> {
            self.0.then_some(Fault::ConnectionLost {
                kind: ErrorKind::ConnectionReset,
            })
        }
    }

    fn quick(retries: u32) -> Retry {
        Retry {
            retries,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(4),
        }
    }

    #[test]
    fn waits_double_up_to_the_cap() {
        let retry = Retry {
            retries: 5,
            base_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(30),
        };
        let waits: Vec<u64> = (1..=6).map(|n| retry.delay(n).as_secs()).collect();
        assert_eq!(waits, [2, 4, 8, 16, 30, 30]);
        assert_eq!((1..=5).map(|n| retry.delay(n).as_secs()).sum::<u64>(), 60);
        assert_eq!(retry.delay(100), Duration::from_secs(30));
        assert_eq!(Retry::NONE.delay(1), Duration::ZERO);
        let mut endpoint = Endpoint::new(bptmig_model::ConnectionString::new("server=x"));
        assert_eq!(Retry::for_endpoint(&endpoint), retry);
        endpoint.retry_delay = Duration::from_secs(90);
        assert_eq!(
            Retry::for_endpoint(&endpoint).delay(3),
            Duration::from_secs(90)
        );
    }

    #[tokio::test]
    async fn transient_failures_are_tried_again_until_the_retries_are_spent() {
        let mut seen = Vec::new();
        let result = quick(3)
            .run("the step", async |attempt| {
                seen.push(attempt);
                if attempt < 2 {
                    Err(Failure(true))
                } else {
                    Ok(attempt)
                }
            })
            .await;
        assert_eq!(result, Ok(2));
        assert_eq!(seen, [0, 1, 2]);

        assert_eq!(always_failing(2, true).await, 3);
        assert_eq!(always_failing(0, true).await, 1);
    }

    #[tokio::test]
    async fn a_permanent_failure_is_final_at_once() {
        assert_eq!(always_failing(5, false).await, 1);
    }

    /// How many times a step that always fails (transiently or not) runs with `retries`;
    /// the error returned is the step's.
    async fn always_failing(retries: u32, transient: bool) -> u32 {
        let mut tries = 0;
        let result: Result<(), _> = quick(retries)
            .run("the step", async |_| {
                tries += 1;
                Err(Failure(transient))
            })
            .await;
        assert_eq!(result, Err(Failure(transient)));
        tries
    }
}
