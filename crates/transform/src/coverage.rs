//! Mapping coverage without a transform, for `bptmig check`: which referenced definitions the
//! target lacks, and whether every referenced user, group and tenant is mapped by the mapping
//! file, by name or by policy. The same rules as the transform's phase 1.

use bptmig_model::PipelineConfig;

use crate::maps::{DefinitionMaps, MissingDefinition, Snapshot};
use crate::plan::resolve_used;
use crate::principals::{MappingError, Resolution};
use crate::{Error, Result};

pub use bptmig_model::UsedIds;

/// What a transform of rows referencing [`UsedIds`] would find.
#[derive(Debug)]
pub struct Coverage {
    /// Referenced definitions, all tables.
    pub definitions_used: usize,
    /// Referenced definitions with no (eSpace SS_KEY, SS_KEY) match in the target.
    pub unmapped_definitions: Vec<MissingDefinition>,
    /// The principals' resolution, or why the transform would refuse.
    pub principals: std::result::Result<Resolution, MappingError>,
}

/// Resolves `used` against the two snapshots under `config`'s mapping file and policies.
pub fn coverage(
    config: &PipelineConfig,
    source: &Snapshot,
    target: &Snapshot,
    used: &UsedIds,
) -> Result<Coverage> {
    let defs = DefinitionMaps::build(source, target)?;
    let mut unmapped_definitions = Vec::new();
    let mut definitions_used = 0;
    for (table, ids) in &used.definitions {
        definitions_used += ids.len();
        if let Some(missing) = defs.unmapped.get(table.as_str()) {
            unmapped_definitions.extend(ids.iter().filter_map(|id| missing.get(id)).cloned());
        }
    }
    // Mapping-file and policy refusals are findings here, not errors.
    let principals = match resolve_used(config, source, target, used) {
        Ok(r) => Ok(r),
        Err(Error::Mapping(e)) => Err(e),
        Err(e) => return Err(e),
    };
    Ok(Coverage {
        definitions_used,
        unmapped_definitions,
        principals,
    })
}
