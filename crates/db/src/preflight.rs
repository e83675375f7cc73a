//! Pre-flight checks that every stage touching a platform database shares.

use bptmig_model::catalog as c;

use crate::counts::row_count;
use crate::names::Names;
use crate::{Error, Result, SqlClient};

/// Refuses a database that lacks the platform tables bptmig reads ([`Error::NotPlatform`]),
/// found in any case, or that holds one of them under two spellings
/// ([`Error::AmbiguousTable`]).
pub fn require_platform(names: &Names) -> Result<()> {
    let required = c::INSTANCE_TABLES
        .iter()
        .chain(c::DEFINITION_TABLES)
        .chain(c::STATIC_TABLES)
        .chain(c::QUEUE_TABLES)
        .chain(c::IDENTITY_TABLES);
    let mut missing = Vec::new();
    for t in required {
        if names.find(t.name)?.is_none() {
            missing.push(t.name);
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::NotPlatform {
            side: names.side(),
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
    names: &Names,
) -> Result<Option<(&'static str, i64)>> {
    for queue in QUEUES {
        let rows = row_count(client, names.side(), &names.quoted(queue)?).await?;
        if rows > 0 {
            return Ok(Some((queue, rows)));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Side;

    fn platform(spell: impl Fn(&str) -> String) -> Vec<String> {
        c::INSTANCE_TABLES
            .iter()
            .chain(c::DEFINITION_TABLES)
            .chain(c::STATIC_TABLES)
            .chain(c::QUEUE_TABLES)
            .chain(c::IDENTITY_TABLES)
            .map(|t| spell(t.name))
            .collect()
    }

    #[test]
    fn a_platform_spelled_in_lower_case_passes() {
        let names = Names::from_spellings(Side::Source, platform(str::to_ascii_lowercase));
        require_platform(&names).unwrap();
    }

    #[test]
    fn a_missing_table_is_named() {
        let mut tables = platform(str::to_owned);
        tables.retain(|t| t != c::ESPACE);
        let names = Names::from_spellings(Side::Target, tables);
        let err = require_platform(&names).unwrap_err().to_string();
        assert!(err.contains(c::ESPACE), "{err}");
    }

    #[test]
    fn a_platform_table_under_two_spellings_is_refused() {
        let mut tables = platform(str::to_owned);
        tables.push(c::ESPACE.to_ascii_lowercase());
        let names = Names::from_spellings(Side::Target, tables);
        assert!(matches!(
            require_platform(&names),
            Err(Error::AmbiguousTable { .. })
        ));
    }
}
