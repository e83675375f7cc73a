//! Each `[anonymize]` rule previewed on a few sample rows, showing only the replacements
//! (issue 17; filled in by its owner).

use bptmig_model::PipelineConfig;

use super::server::Server;
use super::{Line, Selected};

/// One line per rule.
#[allow(clippy::unused_async)] // until its owner fills it in
pub async fn preview(
    _config: &PipelineConfig,
    _source: &mut Server<'_>,
    _selected: &mut Selected,
    _out: &mut Vec<Line>,
) {
}
