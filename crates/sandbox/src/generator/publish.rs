//! Publishing the applications: eSpaces, tenants, users, groups, entities and definitions.

use bptmig_model::catalog as c;

use super::applications::{
    Kind, ProcDef, VarType, CANDIDATE_EVENT_TABLE, CANDIDATE_TABLE, ESPACES, GROUPS, PROCESS_DEFS,
    TENANTS, USERS,
};
use super::ids::Ids;
use super::published::{PublishedIds, EMPTY_DATE};
use super::random::{activity_output_key, input_key, output_key, ss_key, Rng};
use super::{EnvKind, TableRows};
use crate::sql::{datetime, Lit};

/// Writes eSpaces, tenants, users, groups, entities and definitions.
pub(super) fn publish(kind: EnvKind, rng: &mut Rng, tables: &mut Vec<TableRows>) -> PublishedIds {
    let prod = kind == EnvKind::Prod;
    let mut p = PublishedIds::default();
    // qa published in another order and with rows of its own first, so every numeric ID
    // differs from prod's while names and SS_KEYs agree.
    let ids =
        |start_prod: i64, start_qa: i64| Ids::new(if prod { start_prod } else { start_qa }, !prod);

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
        ],
        true,
    );
    let mut e_ids = ids(1, 3);
    let order: Vec<usize> = if prod {
        (0..ESPACES.len()).collect()
    } else {
        (0..ESPACES.len()).rev().collect()
    };
    for i in order {
        let (name, provider, _system) = ESPACES[i];
        let id = e_ids.take(rng);
        p.espace.insert(name, id);
        espaces.push(vec![
            Lit::Int(id),
            Lit::text(name),
            Lit::text(ss_key(&format!("espace:{name}"))),
            Lit::Bool(true),
            Lit::Bool(name == "HRPortal"),
            Lit::Bool(provider),
            Lit::Int(100 + id),
        ]);
    }
    tables.push(espaces);

    let mut tenants = TableRows::new(
        c::TENANT,
        &[c::ID, c::NAME, c::ESPACE_ID, c::IS_ACTIVE],
        true,
    );
    let mut t_ids = ids(1, 10);
    let order: Vec<usize> = if prod {
        vec![0, 1, 2, 3]
    } else {
        vec![1, 0, 3, 2]
    };
    for i in order {
        let name = TENANTS[i];
        let id = t_ids.take(rng);
        p.tenant.insert(name, id);
        let provider = if name == "ServiceCenter" {
            "ServiceCenter"
        } else {
            "Users"
        };
        tenants.push(vec![
            Lit::Int(id),
            Lit::text(name),
            Lit::Int(p.espace[provider]),
            Lit::Bool(true),
        ]);
    }
    tables.push(tenants);

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
    let mut u_ids = ids(1, 20);
    let listed: Vec<_> = USERS
        .iter()
        .filter(|u| if prod { u.3 } else { u.4 })
        .collect();
    let listed: Vec<_> = if prod {
        listed
    } else {
        listed.into_iter().rev().collect()
    };
    for (username, name, tenant, _, _) in listed {
        let id = u_ids.take(rng);
        p.user.insert(username, id);
        users.push(vec![
            Lit::Int(id),
            Lit::text(*name),
            Lit::text(*username),
            Lit::text("#hash#"),
            Lit::text(format!("{username}@example.com")),
            if rng.chance(50) {
                Lit::Null
            } else {
                Lit::text(ss_key(username))
            },
            Lit::DateTime(datetime(2018, 1, 2, 9, 0, 0)),
            EMPTY_DATE,
            Lit::Bool(*username != "prod.only"),
            Lit::Int(p.tenant[tenant]),
        ]);
    }
    tables.push(users);

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
    let mut g_ids = ids(1, 7);
    for (name, tenant, in_qa) in GROUPS.iter().filter(|g| prod || g.2) {
        let _ = in_qa;
        let id = g_ids.take(rng);
        p.group.insert((name, tenant), id);
        groups.push(vec![
            Lit::Int(id),
            Lit::text(*name),
            Lit::Null,
            Lit::Int(p.user["admin"]),
            Lit::DateTime(datetime(2018, 1, 3, 9, 0, 0)),
            Lit::Bool(false),
            Lit::Int(p.tenant[tenant]),
        ]);
    }
    tables.push(groups);

    let mut entities = TableRows::new(
        c::ENTITY,
        &[
            c::ID,
            c::PHYSICAL_TABLE_NAME,
            c::NAME,
            c::ESPACE_ID,
            c::SS_KEY,
            c::IS_ACTIVE,
            "IS_SYSTEM",
            c::PRIMARYKEY_SS_KEY,
            "DATA_KIND",
            c::EXPOSE_PROCESS_EVENTS,
            c::EVENT_TABLE_NAME,
        ],
        true,
    );
    let mut ent_ids = ids(1, 40);
    let user_entity = ent_ids.take(rng);
    entities.push(vec![
        Lit::Int(user_entity),
        Lit::text("OSSYS_USER"),
        Lit::text("User"),
        Lit::Int(p.espace["ServiceCenter"]),
        Lit::text(ss_key("entity:User")),
        Lit::Bool(true),
        Lit::Bool(true),
        Lit::text(ss_key("attr:User.Id")),
        Lit::text("entity"),
        Lit::Bool(false),
        Lit::Null,
    ]);
    p.candidate_entity = ent_ids.take(rng);
    entities.push(vec![
        Lit::Int(p.candidate_entity),
        Lit::text(CANDIDATE_TABLE),
        Lit::text("Candidate"),
        Lit::Int(p.espace["Recruitment"]),
        Lit::text(ss_key("entity:Candidate")),
        Lit::Bool(true),
        Lit::Bool(false),
        Lit::text(ss_key("attr:Candidate.Id")),
        Lit::text("entity"),
        Lit::Bool(true),
        Lit::text(CANDIDATE_EVENT_TABLE),
    ]);
    tables.push(entities);

    publish_definitions(kind, rng, &mut p, tables);
    p
}

/// The `SS_TYPE` of a variable.
pub(super) fn ss_type(ty: VarType) -> String {
    match ty {
        VarType::Basic(name) => format!("rt{name}"),
        VarType::CandidateId => format!(
            "bt{}*{}",
            ss_key("espace:Recruitment"),
            ss_key("entity:Candidate")
        ),
    }
}

pub(super) fn data_type(ty: VarType) -> String {
    match ty {
        VarType::Basic(name) => format!("rt{name}"),
        VarType::CandidateId => "rtEntityReference".to_owned(),
    }
}

fn publish_definitions(
    kind: EnvKind,
    rng: &mut Rng,
    p: &mut PublishedIds,
    tables: &mut Vec<TableRows>,
) {
    let prod = kind == EnvKind::Prod;
    let defs: Vec<&ProcDef> = PROCESS_DEFS.iter().filter(|d| prod || d.in_qa).collect();
    let defs: Vec<&ProcDef> = if prod {
        defs
    } else {
        defs.into_iter().rev().collect()
    };

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
            "IS_LOCKED",
            "LOCKED_DATE",
            "LOCKED_BY",
            "PROCESS_ENTITY_ID",
        ],
        true,
    );
    let mut pd_ids = Ids::new(if prod { 1 } else { 30 }, !prod);
    for d in &defs {
        let id = pd_ids.take(rng);
        p.process_def.insert(d.name, id);
        pdefs.push(vec![
            Lit::Int(id),
            Lit::text(d.name),
            Lit::text(d.label),
            Lit::text(format!("{} process", d.label)),
            Lit::text(ss_key(&format!("process:{}", d.name))),
            Lit::Bool(d.active),
            Lit::Int(p.espace[d.espace]),
            Lit::Bool(false),
            EMPTY_DATE,
            Lit::Null,
            Lit::Null,
        ]);
    }
    tables.push(pdefs);

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
    let mut in_ids = Ids::new(if prod { 1 } else { 50 }, !prod);
    let mut out_ids = Ids::new(if prod { 1 } else { 70 }, !prod);
    for d in &defs {
        for v in d.inputs {
            let id = in_ids.take(rng);
            p.input_def.insert((d.name, v.name), id);
            let key = input_key(d.name, v.name);
            inputs.push(vec![
                Lit::Int(id),
                Lit::text(key),
                Lit::Int(p.process_def[d.name]),
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
            let id = out_ids.take(rng);
            p.output_def.insert((d.name, v.name), id);
            outputs.push(vec![
                Lit::Int(id),
                Lit::text(output_key(d.name, v.name)),
                Lit::Int(p.process_def[d.name]),
                Lit::text(v.name),
                Lit::Null,
                Lit::Bool(true),
                Lit::text(data_type(v.ty)),
                Lit::Null,
                Lit::text(ss_type(v.ty)),
            ]);
        }
    }
    tables.push(inputs);
    tables.push(outputs);

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
    let mut a_ids = Ids::new(if prod { 1 } else { 200 }, !prod);
    let mut ao_ids = Ids::new(if prod { 1 } else { 90 }, !prod);
    for d in &defs {
        for (x, a) in d.activities.iter().enumerate() {
            let id = a_ids.take(rng);
            p.activity_def.insert((d.name, a.name), id);
            let invoked = a.invokes.and_then(|name| p.process_def.get(name).copied());
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
                Lit::Int(p.process_def[d.name]),
                Lit::Bool(d.active),
                Lit::Int(100 * x as i64),
                Lit::Int(50),
                Lit::opt_int(invoked),
                Lit::Bool(false),
                Lit::Bool(matches!(a.kind, Kind::Human)),
            ]);
            for v in a.outputs {
                let oid = ao_ids.take(rng);
                p.activity_output_def.insert((d.name, a.name, v.name), oid);
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
    tables.push(acts);
    tables.push(act_outs);
}
