//! Resolution: the mapping file first, then automatic matching, then the policies.

use std::collections::HashMap;
use std::path::PathBuf;

use bptmig_model::pipeline::UnmappedPrincipal;

use super::index::{Lookup, PrincipalIndex, Row};
use super::mapping_file::invalid;
use super::{
    How, Kind, Mapped, MappingError, MappingFile, MappingProblem, PrincipalMap, PrincipalMaps,
    Principals, Ref, Resolution, ResolutionStats, Unmapped,
};

/// Maps every principal of `source` to `target`: the mapping file first, then automatic
/// matching, then the policies (see the module documentation).
///
/// Fails with [`MappingError::Invalid`] listing every problem of the mapping file (each with
/// its line: those [`MappingFile::problems`] noted while parsing and those its names meet
/// here), then with [`MappingError::PolicyTargetMissing`] / `PolicyTargetAmbiguous` for a
/// `user:`/`group:` policy naming no single target principal, then with
/// [`MappingError::Unmapped`] for all unmapped tenants, then all users under `fail`, then all
/// groups under `fail`: each step runs only when the ones before it succeeded.
pub fn resolve(
    source: &Principals,
    target: &Principals,
    file: Option<&MappingFile>,
    unmapped_user: &UnmappedPrincipal,
    unmapped_group: &UnmappedPrincipal,
) -> Result<Resolution, MappingError> {
    resolve_with(source, target, file, (unmapped_user, unmapped_group), false)
}

/// [`resolve`] for principals that only values reference: a tenant, user or group that
/// neither the file, nor its name, nor a `user:`/`group:` policy maps is left out of the maps
/// instead of failing (the value follows `unmoved_reference`); `fail` maps nothing.
pub(crate) fn resolve_lenient(
    source: &Principals,
    target: &Principals,
    file: Option<&MappingFile>,
    unmapped_user: &UnmappedPrincipal,
    unmapped_group: &UnmappedPrincipal,
) -> Result<Resolution, MappingError> {
    resolve_with(source, target, file, (unmapped_user, unmapped_group), true)
}

fn resolve_with(
    source: &Principals,
    target: &Principals,
    file: Option<&MappingFile>,
    (unmapped_user, unmapped_group): (&UnmappedPrincipal, &UnmappedPrincipal),
    lenient: bool,
) -> Result<Resolution, MappingError> {
    let src = PrincipalIndex::new(source);
    let tgt = PrincipalIndex::new(target);
    let from_file = match file {
        Some(file) => resolve_file(file, &src, &tgt)?,
        None => FileMaps::default(),
    };
    let user_policy = resolve_policy(Kind::User, unmapped_user, &tgt)?;
    let group_policy = resolve_policy(Kind::Group, unmapped_group, &tgt)?;
    let mut resolver = Resolver {
        src: &src,
        tgt: &tgt,
        from_file: &from_file,
        file_path: file.map(|file| file.path.clone()),
        how: ResolutionStats::default(),
        unmapped: Vec::new(),
        lenient,
    };
    let tenants = resolver.tenants()?;
    let users = resolver.members(Kind::User, user_policy, &tenants)?;
    let groups = resolver.members(Kind::Group, group_policy, &tenants)?;
    let Resolver {
        how, mut unmapped, ..
    } = resolver;
    unmapped.sort_by_key(|item| (item.kind, item.source_id));
    Ok(Resolution {
        maps: PrincipalMaps {
            tenants,
            users,
            groups,
        },
        how,
        unmapped,
    })
}

/// What resolution has decided so far, and what it decides with.
struct Resolver<'r, 'a> {
    src: &'r PrincipalIndex<'a>,
    tgt: &'r PrincipalIndex<'a>,
    from_file: &'r FileMaps,
    file_path: Option<PathBuf>,
    how: ResolutionStats,
    /// Users and groups mapped by policy.
    unmapped: Vec<Unmapped>,
    /// Leave out what nothing maps instead of failing ([`resolve_lenient`]).
    lenient: bool,
}

impl Resolver<'_, '_> {
    /// Tenants: the file, then the same name; nothing else.
    fn tenants(&mut self) -> Result<PrincipalMap, MappingError> {
        let (src, tgt) = (self.src, self.tgt);
        let mut tenants = Vec::with_capacity(src.tenants.rows.len());
        let mut missing = Vec::new();
        for row in &src.tenants.rows {
            let found = match self.from_file.get(Kind::Tenant, row.id) {
                Some(id) => Some((id, How::File)),
                None => tgt
                    .tenants
                    .single(tgt.tenants.named(row.name), |_| true)
                    .map(|id| (id, How::Automatic)),
            };
            match found {
                Some((id, way)) => {
                    self.how.tenants.count(way);
                    tenants.push(Mapped {
                        source: row.id,
                        target: Some(id),
                        how: way,
                    });
                }
                None => missing.push(src.describe(Kind::Tenant, row)),
            }
        }
        if !missing.is_empty() && !self.lenient {
            return Err(unmapped_error(
                Kind::Tenant,
                missing,
                self.file_path.clone(),
            ));
        }
        Ok(tenants.into_iter().collect())
    }

    /// Users or groups: the file, then the same name in the mapped tenant, then `policy`.
    fn members(
        &mut self,
        kind: Kind,
        policy: Policy,
        tenants: &PrincipalMap,
    ) -> Result<PrincipalMap, MappingError> {
        let src_index = self.src.index(kind);
        let mut mapped = Vec::with_capacity(src_index.rows.len());
        let mut missing = Vec::new();
        for row in &src_index.rows {
            let found = self
                .from_file
                .get(kind, row.id)
                .map(|id| (Some(id), How::File))
                .or_else(|| self.automatic(kind, row, tenants))
                .or(match policy {
                    Policy::Fail => None,
                    Policy::Map(id) => Some((id, How::Policy)),
                });
            match found {
                Some((id, way)) => {
                    match kind {
                        Kind::User => &mut self.how.users,
                        Kind::Group | Kind::Tenant => &mut self.how.groups,
                    }
                    .count(way);
                    if way == How::Policy {
                        self.unmapped.push(self.src.describe(kind, row));
                    }
                    mapped.push(Mapped {
                        source: row.id,
                        target: id,
                        how: way,
                    });
                }
                None => missing.push(self.src.describe(kind, row)),
            }
        }
        if missing.is_empty() || self.lenient {
            Ok(mapped.into_iter().collect())
        } else {
            Err(unmapped_error(kind, missing, self.file_path.clone()))
        }
    }

    /// The target principal of the same name in the mapped tenant, if exactly one.
    fn automatic(
        &self,
        kind: Kind,
        row: &Row<'_>,
        tenants: &PrincipalMap,
    ) -> Option<(Option<i64>, How)> {
        // A NULL tenant matches a NULL tenant; a tenant matches its mapped tenant; a tenant
        // missing from the source snapshot matches nothing.
        let target_tenant = match row.tenant_id {
            None => Some(None),
            Some(tenant) => tenants.get(tenant),
        }?;
        let tgt_index = self.tgt.index(kind);
        tgt_index
            .single(tgt_index.named(row.name), |candidate| {
                candidate.tenant_id == target_tenant
            })
            .map(|id| (Some(id), How::Automatic))
    }
}

fn unmapped_error(kind: Kind, mut items: Vec<Unmapped>, file: Option<PathBuf>) -> MappingError {
    items.sort_by_key(|item| item.source_id);
    MappingError::Unmapped { kind, items, file }
}

/// A policy with its target resolved.
#[derive(Debug, Clone, Copy)]
enum Policy {
    Fail,
    /// Map to this target ID, or to NULL.
    Map(Option<i64>),
}

fn resolve_policy(
    kind: Kind,
    policy: &UnmappedPrincipal,
    tgt: &PrincipalIndex<'_>,
) -> Result<Policy, MappingError> {
    match policy {
        UnmappedPrincipal::Fail => Ok(Policy::Fail),
        UnmappedPrincipal::Null => Ok(Policy::Map(None)),
        UnmappedPrincipal::To(name) => match tgt.find(kind, &Ref::name(kind, name)) {
            Lookup::Found(position) => Ok(Policy::Map(Some(tgt.index(kind).rows[position].id))),
            Lookup::Unknown => Err(MappingError::PolicyTargetMissing {
                kind,
                name: name.clone(),
            }),
            Lookup::Ambiguous(rows) => Err(MappingError::PolicyTargetAmbiguous {
                kind,
                name: name.clone(),
                candidates: rows.into_iter().map(|row| row.to_string()).collect(),
            }),
        },
    }
}

/// The mapping file's lines, resolved to IDs.
#[derive(Debug, Default)]
struct FileMaps {
    /// (kind, source ID) -> (target ID, line).
    map: HashMap<(Kind, i64), (i64, usize)>,
}

impl FileMaps {
    fn get(&self, kind: Kind, source: i64) -> Option<i64> {
        self.map.get(&(kind, source)).map(|&(target, _)| target)
    }
}

fn resolve_file(
    file: &MappingFile,
    src: &PrincipalIndex<'_>,
    tgt: &PrincipalIndex<'_>,
) -> Result<FileMaps, MappingError> {
    let mut maps = FileMaps::default();
    // The lines the parser could not read, then what resolving the others finds: one list.
    let mut problems = file.problems.clone();
    for entry in &file.entries {
        let kind = entry.kind;
        let source = match src.find(kind, &entry.source) {
            Lookup::Found(position) => Some(&src.index(kind).rows[position]),
            lookup => {
                problems.push(MappingProblem::new(
                    entry.line,
                    lookup.message(kind, &entry.source, "source"),
                ));
                None
            }
        };
        let target = match tgt.find(kind, &entry.target) {
            Lookup::Found(position) => Some(tgt.index(kind).rows[position].id),
            lookup => {
                problems.push(MappingProblem::new(
                    entry.line,
                    lookup.message(kind, &entry.target, "target"),
                ));
                None
            }
        };
        let (Some(source), Some(target)) = (source, target) else {
            continue;
        };
        // Two spellings (a name and `#<id>`) of one source principal.
        if let Some(&(_, first)) = maps.map.get(&(kind, source.id)) {
            problems.push(MappingProblem::new(
                entry.line,
                format!(
                    "duplicate source: `{}` is {kind} {}, also mapped on line {first}; keep one \
                     of the two lines",
                    entry.source,
                    src.describe(kind, source)
                ),
            ));
            continue;
        }
        maps.map.insert((kind, source.id), (target, entry.line));
    }
    if problems.is_empty() {
        Ok(maps)
    } else {
        Err(invalid(&file.path, problems))
    }
}
