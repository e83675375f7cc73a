//! Every right the chosen strategy needs, and whether the login holds it (issue 15; filled in
//! by its owner).

use bptmig_model::PipelineConfig;

use super::server::Server;
use super::Line;

/// One line per side.
#[allow(clippy::unused_async)] // until its owner fills it in
pub async fn rights(
    _config: &PipelineConfig,
    _source: &mut Server<'_>,
    _target: &mut Server<'_>,
    _out: &mut Vec<Line>,
) {
}
