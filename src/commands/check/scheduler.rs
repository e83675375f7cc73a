//! Moved processes the target's scheduler will never run (inactive or locked definition,
//! eSpace or tenant) or run at once (open activities with a past `NEXT_RUN`) (issue 15;
//! filled in by its owner).

use bptmig_model::PipelineConfig;

use super::server::Server;
use super::{Line, Selected};

/// Lines about the selected trees.
#[allow(clippy::unused_async)] // until its owner fills it in
pub async fn scheduler(
    _config: &PipelineConfig,
    _sides: (&mut Server<'_>, &mut Server<'_>),
    _selected: &mut Selected,
    _out: &mut Vec<Line>,
) {
}
