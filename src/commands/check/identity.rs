//! Each instance table's identity in the target: now, the block the run places after it,
//! and where it stands after the load (issue 15; filled in by its owner).

use bptmig_model::PipelineConfig;

use super::server::Server;
use super::Line;

/// One line per keyed instance table.
#[allow(clippy::unused_async)] // until its owner fills it in
pub async fn identity(_config: &PipelineConfig, _target: &mut Server<'_>, _out: &mut Vec<Line>) {}
