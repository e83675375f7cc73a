//! `bptmig run`: every stage in turn, each resuming whatever is already done.

use super::{extract, load, transform, verify, Outcome};
use crate::settings::Settings;

pub fn run(settings: &Settings) -> anyhow::Result<Outcome> {
    let outcome = extract::run(settings)?;
    if outcome != Outcome::Done {
        return Ok(outcome);
    }
    // Findings to review do not stop the run; they set its exit code.
    let review = transform::run(settings)?;
    if review == Outcome::Interrupted {
        return Ok(review);
    }
    let outcome = load::run(settings)?;
    if outcome != Outcome::Done {
        return Ok(outcome);
    }
    let outcome = verify::run(settings)?;
    Ok(review.max(outcome))
}
