//! The users, groups and tenants that moving rows reference, and their resolution through
//! the mapping file, names, then the policies.

use std::collections::{BTreeMap, BTreeSet};

use arrow::array::{Array, AsArray};
use arrow::datatypes::Int32Type;
use bptmig_model::{PipelineConfig, UsedIds};
use bptmig_workdir::IdMap;
use rayon::prelude::*;

use super::id_set::IdSet;
use super::scan::{int_column, principal_columns, PrincipalScan, Sighting, BATCH_ROWS};
use crate::input::Input;
use crate::maps::Snapshot;
use crate::principals::{self, Kind, MappingFile, Principals, Ref};
use crate::verified::VerifiedParts;
use crate::Result;

/// Source IDs of the users, groups and tenants that moving rows reference.
///
/// A principal is in use when one of its witnesses in some part moves. A part where its
/// witnesses both stay behind, with rows between them, is read again (its owner and principal
/// columns only) to look at every row; parts whose witnesses decide are not.
pub(super) fn principals_in_use(
    scans: Vec<PrincipalScan<'_>>,
    ids: &BTreeMap<String, IdMap>,
    verified: &VerifiedParts,
) -> Result<UsedIds> {
    let mut used: [IdSet; 3] = Default::default();
    let mut tables: Vec<(&Input, Option<&IdMap>)> = Vec::with_capacity(scans.len());
    // (table, part, kind, principal) where the witnesses do not decide.
    let mut open: Vec<(usize, usize, usize, i32)> = Vec::new();
    for (t, scan) in scans.into_iter().enumerate() {
        let owners = ids.get(scan.input.owner_table());
        tables.push((scan.input, owners));
        for (part, witnesses) in scan.parts.into_iter().enumerate() {
            let witnesses = witnesses?;
            let Some(owners) = owners else { continue };
            let moves = |s: &Sighting| owners.get(s.owner).is_some();
            for (kind, list) in witnesses.kinds.iter().enumerate() {
                for w in list {
                    if moves(&w.first) || moves(&w.last) {
                        used[kind].insert(i64::from(w.principal));
                    } else if w.first.row != w.last.row {
                        open.push((t, part, kind, w.principal));
                    }
                }
            }
        }
    }
    open.retain(|&(_, _, kind, principal)| !used[kind].contains(i64::from(principal)));
    let mut again: Vec<(usize, usize)> = open.iter().map(|&(t, part, ..)| (t, part)).collect();
    again.dedup();
    if !again.is_empty() {
        tracing::debug!(parts = again.len(), "principals in use: parts read again");
    }
    let exact: Vec<Result<[IdSet; 3]>> = again
        .par_iter()
        .map(|&(t, part)| {
            let (input, owners) = tables[t];
            owners.map_or_else(
                || Ok(Default::default()),
                |m| every_row(input, part, m, verified),
            )
        })
        .collect();
    for sets in exact {
        for (mine, theirs) in used.iter_mut().zip(&sets?) {
            mine.union(theirs);
        }
    }
    let [users, groups, tenants] = used.map(|s| s.to_set());
    Ok(UsedIds {
        definitions: BTreeMap::new(),
        users,
        groups,
        tenants,
    })
}

/// The principals that the moving rows of one part reference, row by row.
fn every_row(
    input: &Input,
    part: usize,
    owners: &IdMap,
    verified: &VerifiedParts,
) -> Result<[IdSet; 3]> {
    let columns = principal_columns(input);
    let owner = input.owner_column();
    let mut names = vec![owner];
    names.extend(columns.iter().map(|(name, _)| *name));
    let (reader, _) = input.open_part(part, verified)?.columns_present(&names);
    let mut used: [IdSet; 3] = Default::default();
    for batch in reader.batch_size(BATCH_ROWS).batches()? {
        let batch = batch?;
        let Some(keys) = int_column(input, &batch, owner)? else {
            continue;
        };
        let keys = keys.as_primitive::<Int32Type>();
        let mut values = Vec::with_capacity(columns.len());
        for (name, kind) in &columns {
            if let Some(a) = int_column(input, &batch, name)? {
                values.push((a.as_primitive::<Int32Type>(), *kind));
            }
        }
        for (row, key) in keys.iter().enumerate() {
            if key.is_none_or(|id| owners.get(id).is_none()) {
                continue;
            }
            for (values, kind) in &values {
                if values.is_valid(row) {
                    used[*kind].insert(i64::from(values.value(row)));
                }
            }
        }
    }
    Ok(used)
}

/// Resolves the principals that `used` names through the mapping file, names, then the
/// policies; shared by the transform and `bptmig check`.
pub(crate) fn resolve_used(
    config: &PipelineConfig,
    source: &Snapshot,
    target: &Snapshot,
    used: &UsedIds,
) -> Result<principals::Resolution> {
    resolve_used_with(config, source, target, used, false)
}

/// [`resolve_used`], leniently ([`principals::resolve_lenient`]) when `lenient`.
pub(super) fn resolve_used_with(
    config: &PipelineConfig,
    source: &Snapshot,
    target: &Snapshot,
    used: &UsedIds,
    lenient: bool,
) -> Result<principals::Resolution> {
    let file = config
        .mapping
        .file
        .as_deref()
        // Problems of lines are reported with those resolution finds in the others.
        .map(MappingFile::load_with_problems)
        .transpose()?;
    let src = restrict(&source.principals()?, used, file.as_ref());
    let resolve = if lenient {
        principals::resolve_lenient
    } else {
        principals::resolve
    };
    Ok(resolve(
        &src,
        &target.principals()?,
        file.as_ref(),
        &config.mapping.unmapped_user,
        &config.mapping.unmapped_group,
    )?)
}

/// The source principals limited to what moved rows use, what the mapping file names (so its
/// lines are checked against the whole source) and the tenants of those users and groups.
fn restrict(all: &Principals, used: &UsedIds, file: Option<&MappingFile>) -> Principals {
    // Principal IDs are identity values (positive): a negative one is never in use.
    let has = |set: &BTreeSet<i64>, id: i64| id >= 0 && set.contains(&id);
    let named = |kind: Kind, id: i64, name: &str| {
        file.is_some_and(|f| {
            f.entries.iter().any(|e| {
                e.kind == kind
                    && match &e.source {
                        Ref::Id(i) => *i == id,
                        Ref::Name { name: n, .. } => n == name,
                    }
            })
        })
    };
    let users: Vec<_> = all
        .users
        .iter()
        .filter(|u| has(&used.users, u.id) || named(Kind::User, u.id, &u.username))
        .cloned()
        .collect();
    let groups: Vec<_> = all
        .groups
        .iter()
        .filter(|g| has(&used.groups, g.id) || named(Kind::Group, g.id, &g.name))
        .cloned()
        .collect();
    let mut tenants = used.tenants.clone();
    tenants.extend(
        all.tenants
            .iter()
            .filter(|t| named(Kind::Tenant, t.id, &t.name))
            .map(|t| t.id),
    );
    tenants.extend(users.iter().filter_map(|u| u.tenant_id));
    tenants.extend(groups.iter().filter_map(|g| g.tenant_id));
    Principals {
        tenants: all
            .tenants
            .iter()
            .filter(|t| has(&tenants, t.id))
            .cloned()
            .collect(),
        users,
        groups,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int32Array, RecordBatch};
    use arrow::datatypes::{DataType, Field, Schema};
    use bptmig_model::catalog as c;
    use bptmig_workdir::Manifest;
    use parquet::file::properties::WriterProperties;

    use super::*;
    use crate::plan::scan::scan;

    /// `OSSYS_BPM_PROCESS` rows 1 to 6 in two parts of three. User 7 created rows 1 to 3; 8
    /// modified row 2 and created rows 4 and 6; 9 modified row 1 only.
    fn processes(dir: &std::path::Path) -> Input {
        let schema = Arc::new(Schema::new(vec![
            Field::new(c::ID, DataType::Int32, false),
            Field::new(c::CREATED_BY, DataType::Int32, true),
            Field::new(c::LAST_MODIFIED_BY, DataType::Int32, true),
        ]));
        let parts = [
            (
                [1, 2, 3],
                [Some(7), Some(7), Some(7)],
                [Some(9), Some(8), None],
            ),
            ([4, 5, 6], [Some(8), None, Some(8)], [None, None, None]),
        ];
        let parts = parts
            .into_iter()
            .enumerate()
            .map(|(n, (ids, created, modified))| {
                let batch = RecordBatch::try_new(
                    schema.clone(),
                    vec![
                        Arc::new(Int32Array::from(ids.to_vec())),
                        Arc::new(Int32Array::from(created.to_vec())),
                        Arc::new(Int32Array::from(modified.to_vec())),
                    ],
                )
                .unwrap();
                let path = dir.join(Manifest::part_name(n));
                bptmig_workdir::part::write_file(
                    &path,
                    schema.clone(),
                    &[batch],
                    WriterProperties::default(),
                )
                .unwrap()
            })
            .collect();
        Input {
            name: c::PROCESS.to_owned(),
            model: crate::maps::model_table(c::PROCESS),
            dir: dir.to_owned(),
            manifest: Manifest {
                table: c::PROCESS.to_owned(),
                run_id: "r".into(),
                key: Some(c::ID.to_owned()),
                columns: Vec::new(),
                complete: true,
                parts,
            },
        }
    }

    fn users_in_use(inputs: &[Input], moving: &[i32]) -> Vec<i64> {
        let verified = VerifiedParts::default();
        let scanned = scan(inputs, &[], &verified).unwrap();
        let map = IdMap::new(moving.iter().map(|id| (*id, id + 100)));
        let ids = BTreeMap::from([(c::PROCESS.to_owned(), map)]);
        let used = principals_in_use(scanned.principals, &ids, &verified).unwrap();
        // Parts read again are not hashed again.
        assert_eq!(verified.hashed(), 2);
        used.users.into_iter().collect()
    }

    #[test]
    fn a_principal_is_in_use_when_any_moving_row_references_it_whatever_its_witnesses() {
        let dir = tempfile::tempdir().unwrap();
        let inputs = [processes(dir.path())];
        // Row 2 is neither the first nor the last of 7's rows: its part is read again.
        assert_eq!(users_in_use(&inputs, &[2]), [7, 8]);
        // Row 1 is 7's first and 9's only row; 8's rows 4 and 6 stay, row 5 is not 8's.
        assert_eq!(users_in_use(&inputs, &[1, 5]), [7, 9]);
        assert_eq!(users_in_use(&inputs, &[6]), [8]);
        assert_eq!(users_in_use(&inputs, &[]), Vec::<i64>::new());
    }
}
