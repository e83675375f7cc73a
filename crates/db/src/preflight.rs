//! Pre-flight checks that every stage touching a platform database shares.

use bptmig_model::catalog as c;

use crate::counts::row_count;
use crate::query::{query_rows, text_cell};
use crate::{Error, Result, Side, SqlClient};

/// Refuses a database that lacks the platform tables bptmig reads ([`Error::NotPlatform`]).
pub async fn require_platform(client: &mut SqlClient, side: Side) -> Result<()> {
    let sql = "SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES";
    let rows = query_rows(client, side, sql, &[]).await?;
    let present: Vec<String> = rows
        .iter()
        .filter_map(|r| text_cell(r, 0))
        .map(|n| n.to_ascii_uppercase())
        .collect();
    let required = c::INSTANCE_TABLES
        .iter()
        .chain(c::DEFINITION_TABLES)
        .chain(c::STATIC_TABLES)
        .chain(c::QUEUE_TABLES)
        .chain(c::IDENTITY_TABLES);
    let missing: Vec<&str> = required
        .map(|t| t.name)
        .filter(|n| !present.iter().any(|p| p == n))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::NotPlatform {
            side,
            missing: missing.join(", "),
        })
    }
}

/// The BPT queues, in the order they are checked.
pub const QUEUES: [&str; 2] = [c::EVENT_QUEUE, c::LIGHT_EVENT];

/// The first BPT queue that still holds events, with its row count; `None` when both are
/// drained. The scheduler must have drained them before history is copied or written.
pub async fn queued_events(
    client: &mut SqlClient,
    side: Side,
) -> Result<Option<(&'static str, i64)>> {
    for queue in QUEUES {
        let rows = row_count(client, side, queue).await?;
        if rows > 0 {
            return Ok(Some((queue, rows)));
        }
    }
    Ok(None)
}
