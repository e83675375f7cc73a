//! Publishing the applications: eSpaces, tenants, users, groups, entities and definitions.

use bptmig_model::catalog as c;

use super::applications::{Kind, ProcDef, VarType, ESPACES, GROUPS, PROCESS_DEFS, TENANTS, USERS};
use super::entities::{entities, entity_type};
use super::ids::Ids;
use super::published::{PublishedIds, EMPTY_DATE};
use super::random::{activity_output_key, input_key, output_key, ss_key, Rng};
use super::shapes::{INACTIVE_TENANT, LOCKED_DEFINITION};
use super::{EnvKind, TableRows};
use crate::sql::{datetime, Lit};

/// Writes eSpaces, tenants, users, groups, entities and definitions.
///
/// With `shapes` on, the definitions and entities of the platform shapes are published too.
pub(super) fn publish(
    kind: EnvKind,
    shapes: bool,
    rng: &mut Rng,
    tables: &mut Vec<TableRows>,
) -> PublishedIds {
    let mut publisher = Publisher {
        prod: kind == EnvKind::Prod,
        shapes,
        rng,
        p: PublishedIds::default(),
        tables,
    };
    publisher.espaces();
    publisher.tenants();
    publisher.users();
    publisher.groups();
    publisher.entities();
    let defs = publisher.definitions();
    publisher.process_definitions(&defs);
    publisher.io_definitions(&defs);
    publisher.activity_definitions(&defs);
    publisher.p
}

/// The `SS_TYPE` of a variable.
pub(super) fn ss_type(ty: VarType) -> String {
    match ty {
        VarType::Basic(name) => format!("rt{name}"),
        VarType::CandidateId => entity_type("Candidate"),
        VarType::Identifier(entity) => entity_type(entity),
    }
}

/// The `DATA_TYPE` of a variable.
pub(super) fn data_type(ty: VarType) -> String {
    match ty {
        VarType::Basic(name) => format!("rt{name}"),
        VarType::CandidateId | VarType::Identifier(_) => "rtEntityReference".to_owned(),
    }
}

/// One environment being published: the rows go to `tables`, their IDs into `p`.
struct Publisher<'a> {
    prod: bool,
    shapes: bool,
    rng: &'a mut Rng,
    p: PublishedIds,
    tables: &'a mut Vec<TableRows>,
}

impl Publisher<'_> {
    /// IDs from `start_prod` in prod; in qa from `start_qa`, with gaps.
    ///
    /// qa is published in another order and with rows of its own first, so every numeric ID
    /// differs from prod's while names and SS_KEYs agree.
    fn ids(&self, start_prod: i64, start_qa: i64) -> Ids {
        Ids::new(if self.prod { start_prod } else { start_qa }, !self.prod)
    }

    /// `items` in publishing order: as listed in prod, reversed in qa.
    fn in_order<T>(&self, mut items: Vec<T>) -> Vec<T> {
        if !self.prod {
            items.reverse();
        }
        items
    }

    /// The eSpaces.
    fn espaces(&mut self) {
        let mut espaces = TableRows::new(
            c::ESPACE,
            &[
                c::ID,
                c::NAME,
                c::SS_KEY,
                c::IS_ACTIVE,
                "IS_MULTITENANT",
                "IS_USER_PROVIDER",
                "VERSION_ID",
                c::IS_LOCKED,
            ],
            true,
        );
        let mut e_ids = self.ids(1, 3);
        for &(name, provider, _system) in self.in_order(ESPACES.iter().collect()) {
            let id = e_ids.take(self.rng);
            self.p.espace.insert(name, id);
            espaces.push(vec![
                Lit::Int(id),
                Lit::text(name),
                Lit::text(ss_key(&format!("espace:{name}"))),
                Lit::Bool(true),
                Lit::Bool(name == "HRPortal"),
                Lit::Bool(provider),
                Lit::Int(100 + id),
                Lit::Bool(false),
            ]);
        }
        self.tables.push(espaces);
    }

    /// The tenants, each provided by an eSpace.
    fn tenants(&mut self) {
        let prod = self.prod;
        let mut tenants = TableRows::new(
            c::TENANT,
            &[c::ID, c::NAME, c::ESPACE_ID, c::IS_ACTIVE],
            true,
        );
        let mut t_ids = self.ids(1, 10);
        let order: Vec<usize> = if prod {
            vec![0, 1, 2, 3]
        } else {
            vec![1, 0, 3, 2]
        };
        for i in order {
            let name = TENANTS[i];
            let id = t_ids.take(self.rng);
            self.p.tenant.insert(name, id);
            let provider = if name == "ServiceCenter" {
                "ServiceCenter"
            } else {
                "Users"
            };
            // Platform shapes: qa deactivated a tenant that prod's history uses.
            let inactive = self.shapes && !prod && name == INACTIVE_TENANT;
            tenants.push(vec![
                Lit::Int(id),
                Lit::text(name),
                Lit::Int(self.p.espace[provider]),
                Lit::Bool(!inactive),
            ]);
        }
        self.tables.push(tenants);
    }

    /// The users of this environment.
    fn users(&mut self) {
        let prod = self.prod;
        let mut users = TableRows::new(
            c::USER,
            &[
                c::ID,
                c::NAME,
                c::USERNAME,
                "PASSWORD",
                "EMAIL",
                "EXTERNAL_ID",
                "CREATION_DATE",
                "LAST_LOGIN",
                c::IS_ACTIVE,
                c::TENANT_ID,
            ],
            true,
        );
        let mut u_ids = self.ids(1, 20);
        let listed = USERS
            .iter()
            .filter(|u| if prod { u.3 } else { u.4 })
            .collect();
        for (username, name, tenant, _, _) in self.in_order(listed) {
            let id = u_ids.take(self.rng);
            self.p.user.insert(username, id);
            users.push(vec![
                Lit::Int(id),
                Lit::text(*name),
                Lit::text(*username),
                Lit::text("#hash#"),
                Lit::text(format!("{username}@example.com")),
                if self.rng.chance(50) {
                    Lit::Null
                } else {
                    Lit::text(ss_key(username))
                },
                Lit::DateTime(datetime(2018, 1, 2, 9, 0, 0)),
                EMPTY_DATE,
                Lit::Bool(*username != "prod.only"),
                Lit::Int(self.p.tenant[tenant]),
            ]);
        }
        self.tables.push(users);
    }

    /// The groups of this environment.
    fn groups(&mut self) {
        let prod = self.prod;
        let mut groups = TableRows::new(
            c::GROUP,
            &[
                c::ID,
                c::NAME,
                "DESCRIPTION",
                c::CREATED_BY,
                c::CREATED,
                "HAS_CUSTOM_MANAGEMENT",
                c::TENANT_ID,
            ],
            true,
        );
        let mut g_ids = self.ids(1, 7);
        for (name, tenant, in_qa) in GROUPS.iter().filter(|g| prod || g.2) {
            let _ = in_qa;
            let id = g_ids.take(self.rng);
            self.p.group.insert((name, tenant), id);
            groups.push(vec![
                Lit::Int(id),
                Lit::text(*name),
                Lit::Null,
                Lit::Int(self.p.user["admin"]),
                Lit::DateTime(datetime(2018, 1, 3, 9, 0, 0)),
                Lit::Bool(false),
                Lit::Int(self.p.tenant[tenant]),
            ]);
        }
        self.tables.push(groups);
    }

    /// The entities and their attributes.
    fn entities(&mut self) {
        let tables = entities(self.prod, self.shapes, self.rng, &mut self.p);
        self.tables.extend(tables);
    }

    /// The process definitions of this environment, in publishing order.
    fn definitions(&self) -> Vec<&'static ProcDef> {
        let (prod, shapes) = (self.prod, self.shapes);
        self.in_order(
            PROCESS_DEFS
                .iter()
                .filter(|d| (prod || d.in_qa) && (shapes || !d.platform_shape))
                .collect(),
        )
    }

    /// The process definitions.
    fn process_definitions(&mut self, defs: &[&'static ProcDef]) {
        let mut pdefs = TableRows::new(
            c::PROCESS_DEFINITION,
            &[
                c::ID,
                c::NAME,
                c::LABEL,
                "DESCRIPTION",
                c::SS_KEY,
                c::IS_ACTIVE,
                c::ESPACE_ID,
                c::IS_LOCKED,
                "LOCKED_DATE",
                "LOCKED_BY",
                "PROCESS_ENTITY_ID",
            ],
            true,
        );
        let mut pd_ids = self.ids(1, 30);
        for d in defs {
            let id = pd_ids.take(self.rng);
            self.p.process_def.insert(d.name, id);
            // Platform shapes: qa locked a definition that prod's history uses.
            let locked = self.shapes && !self.prod && d.name == LOCKED_DEFINITION;
            pdefs.push(vec![
                Lit::Int(id),
                Lit::text(d.name),
                Lit::text(d.label),
                Lit::text(format!("{} process", d.label)),
                Lit::text(ss_key(&format!("process:{}", d.name))),
                Lit::Bool(d.active),
                Lit::Int(self.p.espace[d.espace]),
                Lit::Bool(locked),
                if locked {
                    Lit::DateTime(datetime(2020, 3, 2, 10, 0, 0))
                } else {
                    EMPTY_DATE
                },
                if locked {
                    Lit::Int(self.p.user["admin"])
                } else {
                    Lit::Null
                },
                Lit::Null,
            ]);
        }
        self.tables.push(pdefs);
    }

    /// The process input and output definitions.
    fn io_definitions(&mut self, defs: &[&'static ProcDef]) {
        let io_columns = [
            c::ID,
            c::SS_KEY,
            c::PROCESS_DEF_ID,
            c::NAME,
            "DESCRIPTION",
            c::IS_ACTIVE,
            c::DATA_TYPE,
            "DEFAULT_VALUE",
            c::SS_TYPE,
        ];
        let mut inputs = TableRows::new(
            c::PROCESS_INPUT_DEF,
            &[
                c::ID,
                c::SS_KEY,
                c::PROCESS_DEF_ID,
                c::NAME,
                "DESCRIPTION",
                c::IS_ACTIVE,
                c::DATA_TYPE,
                "IS_MANDATORY",
                "DEFAULT_VALUE",
                c::SS_TYPE,
            ],
            true,
        );
        let mut outputs = TableRows::new(c::PROCESS_OUTPUT_DEF, &io_columns, true);
        let mut in_ids = self.ids(1, 50);
        let mut out_ids = self.ids(1, 70);
        for d in defs {
            for v in d.inputs {
                let id = in_ids.take(self.rng);
                self.p.input_def.insert((d.name, v.name), id);
                let key = input_key(d.name, v.name);
                inputs.push(vec![
                    Lit::Int(id),
                    Lit::text(key),
                    Lit::Int(self.p.process_def[d.name]),
                    Lit::text(v.name),
                    Lit::Null,
                    Lit::Bool(true),
                    Lit::text(data_type(v.ty)),
                    Lit::Bool(true),
                    Lit::Null,
                    Lit::text(ss_type(v.ty)),
                ]);
            }
            for v in d.outputs {
                let id = out_ids.take(self.rng);
                self.p.output_def.insert((d.name, v.name), id);
                outputs.push(vec![
                    Lit::Int(id),
                    Lit::text(output_key(d.name, v.name)),
                    Lit::Int(self.p.process_def[d.name]),
                    Lit::text(v.name),
                    Lit::Null,
                    Lit::Bool(true),
                    Lit::text(data_type(v.ty)),
                    Lit::Null,
                    Lit::text(ss_type(v.ty)),
                ]);
            }
        }
        self.tables.push(inputs);
        self.tables.push(outputs);
    }

    /// The activity definitions and their output definitions.
    fn activity_definitions(&mut self, defs: &[&'static ProcDef]) {
        let mut acts = TableRows::new(
            c::ACTIVITY_DEFINITION,
            &[
                c::ID,
                c::SS_KEY,
                c::NAME,
                c::LABEL,
                "DESCRIPTION",
                "INBOX_INSTRUCTIONS",
                c::KIND,
                c::PROCESS_DEF_ID,
                c::IS_ACTIVE,
                "DISPLAY_X",
                "DISPLAY_Y",
                c::INVOKED_PROCESS_DEF_ID,
                "REQUIRES_PERMISSION",
                "SKIPPABLE",
            ],
            true,
        );
        let mut act_outs = TableRows::new(
            c::ACTIVITY_OUTPUT_DEF,
            &[
                c::ID,
                c::SS_KEY,
                c::ACTIVITY_DEF_ID,
                c::NAME,
                "DESCRIPTION",
                c::IS_ACTIVE,
                c::DATA_TYPE,
                c::IS_INPUT,
                "IS_MANDATORY",
                "DEFAULT_VALUE",
                c::SS_TYPE,
            ],
            true,
        );
        let mut a_ids = self.ids(1, 200);
        let mut ao_ids = self.ids(1, 90);
        for d in defs {
            for (x, a) in d.activities.iter().enumerate() {
                let id = a_ids.take(self.rng);
                self.p.activity_def.insert((d.name, a.name), id);
                let invoked = a
                    .invokes
                    .and_then(|name| self.p.process_def.get(name).copied());
                acts.push(vec![
                    Lit::Int(id),
                    Lit::text(ss_key(&format!("activity:{}.{}", d.name, a.name))),
                    Lit::text(a.name),
                    Lit::text(a.name),
                    Lit::Null,
                    if matches!(a.kind, Kind::Human) {
                        Lit::text("Please review")
                    } else {
                        Lit::Null
                    },
                    Lit::Int(a.kind as i64),
                    Lit::Int(self.p.process_def[d.name]),
                    Lit::Bool(d.active),
                    Lit::Int(100 * x as i64),
                    Lit::Int(50),
                    Lit::opt_int(invoked),
                    Lit::Bool(false),
                    Lit::Bool(matches!(a.kind, Kind::Human)),
                ]);
                for v in a.outputs {
                    let oid = ao_ids.take(self.rng);
                    self.p
                        .activity_output_def
                        .insert((d.name, a.name, v.name), oid);
                    act_outs.push(vec![
                        Lit::Int(oid),
                        Lit::text(activity_output_key(d.name, a.name, v.name)),
                        Lit::Int(id),
                        Lit::text(v.name),
                        Lit::Null,
                        Lit::Bool(true),
                        Lit::text(data_type(v.ty)),
                        Lit::Bool(false),
                        Lit::Bool(false),
                        Lit::Null,
                        Lit::text(ss_type(v.ty)),
                    ]);
                }
            }
        }
        self.tables.push(acts);
        self.tables.push(act_outs);
    }
}
