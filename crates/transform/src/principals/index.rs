//! The principals of one environment, indexed by ID and by name for the lookups of
//! resolution.

use std::collections::HashMap;

use super::{Kind, Principals, Ref, Unmapped};

/// A principal of any kind, borrowed from [`Principals`].
#[derive(Debug, Clone, Copy)]
pub(super) struct Row<'a> {
    pub(super) id: i64,
    pub(super) name: &'a str,
    /// Always `None` for tenants.
    pub(super) tenant_id: Option<i64>,
}

/// The principals of one kind on one side, deduplicated by ID, in input order.
#[derive(Debug, Default)]
pub(super) struct Index<'a> {
    pub(super) rows: Vec<Row<'a>>,
    by_id: HashMap<i64, usize>,
    by_name: HashMap<&'a str, Vec<usize>>,
}

impl<'a> Index<'a> {
    fn new(rows: impl Iterator<Item = Row<'a>>) -> Self {
        let mut index = Self::default();
        for row in rows {
            if index.by_id.contains_key(&row.id) {
                continue;
            }
            index.by_id.insert(row.id, index.rows.len());
            index
                .by_name
                .entry(row.name)
                .or_default()
                .push(index.rows.len());
            index.rows.push(row);
        }
        index
    }

    /// Positions of the rows with exactly this name.
    pub(super) fn named(&self, name: &str) -> &[usize] {
        self.by_name.get(name).map_or(&[], Vec::as_slice)
    }

    /// The ID of the only row among `positions` that passes `keep`, if exactly one does.
    pub(super) fn single(
        &self,
        positions: &[usize],
        keep: impl Fn(&Row<'a>) -> bool,
    ) -> Option<i64> {
        let mut found = positions
            .iter()
            .map(|&position| &self.rows[position])
            .filter(|row| keep(row));
        match (found.next(), found.next()) {
            (Some(row), None) => Some(row.id),
            _ => None,
        }
    }
}

/// The principals of one environment, indexed for lookups.
#[derive(Debug)]
pub(super) struct PrincipalIndex<'a> {
    tenant_names: HashMap<i64, &'a str>,
    pub(super) tenants: Index<'a>,
    users: Index<'a>,
    groups: Index<'a>,
}

/// The result of looking a [`Ref`] up on one side.
#[derive(Debug)]
pub(super) enum Lookup {
    /// The position of the only match in its [`Index`].
    Found(usize),
    Unknown,
    /// Every matching principal, described.
    Ambiguous(Vec<Unmapped>),
}

impl Lookup {
    /// The message for a failed lookup of `what` (`role` is `source` or `target`).
    pub(super) fn message(&self, kind: Kind, what: &Ref, role: &str) -> String {
        let advice = if role == "target" {
            format!("check the spelling or create the {kind} in the target")
        } else {
            "check the spelling".to_owned()
        };
        match (self, what) {
            (Self::Found(_), _) => String::new(),
            (Self::Unknown, Ref::Id(_)) => format!(
                "unknown {role} ID `{what}`: the {role} has no {kind} with that ID; {advice}"
            ),
            (Self::Unknown, Ref::Name { tenant: None, .. }) => format!(
                "unknown {role} name `{what}`: the {role} has no {kind} with that {}; {advice}",
                kind.name_word()
            ),
            (
                Self::Unknown,
                Ref::Name {
                    name,
                    tenant: Some(tenant),
                },
            ) => format!(
                "unknown {role} name `{what}`: the {role} has no {kind} `{name}` in tenant \
                 `{tenant}`, nor one named `{what}`; {advice}"
            ),
            (Self::Ambiguous(rows), _) => {
                let how = if kind.has_tenant() {
                    "write `name@tenant` or `#<id>` to pick one"
                } else {
                    "write `#<id>` to pick one"
                };
                let list: Vec<String> = rows.iter().map(ToString::to_string).collect();
                format!(
                    "{role} name `{what}` is ambiguous: the {role} has {} {} with that {}: {}; \
                     {how}",
                    rows.len(),
                    kind.plural(),
                    kind.name_word(),
                    list.join(", ")
                )
            }
        }
    }
}

impl<'a> PrincipalIndex<'a> {
    pub(super) fn new(side: &'a Principals) -> Self {
        let tenants = Index::new(side.tenants.iter().map(|t| Row {
            id: t.id,
            name: &t.name,
            tenant_id: None,
        }));
        let tenant_names = tenants.rows.iter().map(|row| (row.id, row.name)).collect();
        Self {
            tenant_names,
            tenants,
            users: Index::new(side.users.iter().map(|u| Row {
                id: u.id,
                name: &u.username,
                tenant_id: u.tenant_id,
            })),
            groups: Index::new(side.groups.iter().map(|g| Row {
                id: g.id,
                name: &g.name,
                tenant_id: g.tenant_id,
            })),
        }
    }

    pub(super) fn index(&self, kind: Kind) -> &Index<'a> {
        match kind {
            Kind::User => &self.users,
            Kind::Group => &self.groups,
            Kind::Tenant => &self.tenants,
        }
    }

    pub(super) fn describe(&self, kind: Kind, row: &Row<'_>) -> Unmapped {
        Unmapped {
            kind,
            source_id: row.id,
            name: row.name.to_owned(),
            tenant: row.tenant_id.map(|tenant| {
                self.tenant_names
                    .get(&tenant)
                    .map_or_else(|| format!("#{tenant}"), |name| (*name).to_owned())
            }),
        }
    }

    pub(super) fn find(&self, kind: Kind, what: &Ref) -> Lookup {
        let index = self.index(kind);
        let positions: Vec<usize> = match what {
            Ref::Id(id) => index.by_id.get(id).copied().into_iter().collect(),
            Ref::Name { name, tenant: None } => index.named(name).to_vec(),
            Ref::Name {
                name,
                tenant: Some(tenant),
            } => {
                let in_tenant = index.named(name).iter().copied().filter(|&position| {
                    index.rows[position]
                        .tenant_id
                        .and_then(|id| self.tenant_names.get(&id))
                        == Some(&tenant.as_str())
                });
                // The whole text as a name: `ann@example.com` is a username, not `ann` in a
                // tenant `example.com`.
                let whole = index.named(&format!("{name}@{tenant}")).to_vec();
                in_tenant.chain(whole).collect()
            }
        };
        match positions.as_slice() {
            [] => Lookup::Unknown,
            [position] => Lookup::Found(*position),
            _ => Lookup::Ambiguous(
                positions
                    .iter()
                    .map(|&position| self.describe(kind, &index.rows[position]))
                    .collect(),
            ),
        }
    }
}
