//! `bptmig check --probe`: the load's own paths round-tripped on session temporary tables
//! shaped like the target's instance tables (issue 15; filled in by its owner).

use bptmig_model::PipelineConfig;

use super::server::Server;
use super::Line;

/// One line per strategy and one saying which `auto` uses.
#[allow(clippy::unused_async)] // until its owner fills it in
pub async fn probe(_config: &PipelineConfig, _target: &mut Server<'_>, _out: &mut Vec<Line>) {}
