//! The entities of both environments and their attributes (`OSSYS_ENTITY`,
//! `OSSYS_ENTITY_ATTR`): the platform's system entities, seeded with the same SS_KEYs
//! everywhere, and the applications' entities.
//!
//! An attribute's `TYPE` is `rt<basic type>`, or `bt<eSpace SS_KEY>*<entity SS_KEY>` when it
//! references an entity: the same text as the `SS_TYPE` of a variable of that entity's
//! identifier type ([`entity_type`]).

use bptmig_model::catalog as c;

use super::applications::{CANDIDATE_EVENT_TABLE, CANDIDATE_TABLE};
use super::ids::Ids;
use super::published::PublishedIds;
use super::random::{ss_key, Rng};
use super::shapes::{JOB_OFFER_EVENT_TABLE, JOB_OFFER_TABLE, USER_EVENT_TABLE};
use super::TableRows;
use crate::sql::Lit;

/// What an attribute holds.
#[derive(Clone, Copy)]
enum AttrType {
    /// `rt<name>`.
    Basic(&'static str),
    /// An identifier of the entity of this name.
    Ref(&'static str),
}

/// An attribute: its name and physical column.
struct Attr {
    name: &'static str,
    column: &'static str,
    ty: AttrType,
}

const fn basic(name: &'static str, column: &'static str, ty: &'static str) -> Attr {
    Attr {
        name,
        column,
        ty: AttrType::Basic(ty),
    }
}

const fn reference(name: &'static str, column: &'static str, entity: &'static str) -> Attr {
    Attr {
        name,
        column,
        ty: AttrType::Ref(entity),
    }
}

const TENANT_ATTR: Attr = reference("TenantId", c::TENANT_ID, "Tenant");

/// An entity: its name, physical table (spelled as the platform spells it), eSpace,
/// whether the platform owns it, whether it is multi-tenant (a `TENANT_ID` attribute) and
/// the event table it has when it exposes process events.
pub(super) struct EntityDef {
    pub(super) name: &'static str,
    pub(super) physical: &'static str,
    pub(super) espace: &'static str,
    system: bool,
    multi_tenant: bool,
    /// The event table, and whether it is listed only with platform shapes on.
    events: Option<(&'static str, bool)>,
    /// Listed only with platform shapes on.
    shapes_only: bool,
    /// Attributes besides `Id` and `TenantId`.
    attrs: &'static [Attr],
}

/// Every entity, in publishing order. `User` and `Candidate` come first: their IDs are
/// those of the environments before system entities were listed.
pub(super) const ENTITIES: &[EntityDef] = &[
    EntityDef {
        name: "User",
        physical: "ossys_User",
        espace: "ServiceCenter",
        system: true,
        multi_tenant: true,
        events: Some((USER_EVENT_TABLE, true)),
        shapes_only: false,
        attrs: &[
            basic("Name", c::NAME, "Text"),
            basic("Username", c::USERNAME, "Text"),
            basic("Is_Active", c::IS_ACTIVE, "Boolean"),
        ],
    },
    EntityDef {
        name: "Candidate",
        physical: CANDIDATE_TABLE,
        espace: "Recruitment",
        system: false,
        multi_tenant: true,
        events: Some((CANDIDATE_EVENT_TABLE, false)),
        shapes_only: false,
        attrs: &[
            basic("Name", c::NAME, "Text"),
            basic("Email", "EMAIL", "Email"),
            basic("Stage", "STAGE", "Text"),
        ],
    },
    EntityDef {
        name: "Group",
        physical: "ossys_Group",
        espace: "ServiceCenter",
        system: true,
        multi_tenant: true,
        events: None,
        shapes_only: false,
        attrs: &[
            basic("Name", c::NAME, "Text"),
            reference("Created_By", c::CREATED_BY, "User"),
        ],
    },
    EntityDef {
        name: "Tenant",
        physical: "ossys_Tenant",
        espace: "ServiceCenter",
        system: true,
        multi_tenant: false,
        events: None,
        shapes_only: false,
        attrs: &[
            basic("Name", c::NAME, "Text"),
            reference("ESpace_Id", c::ESPACE_ID, "Espace"),
        ],
    },
    EntityDef {
        name: "Process",
        physical: "ossys_BPM_Process",
        espace: "ServiceCenter",
        system: true,
        multi_tenant: true,
        events: None,
        shapes_only: false,
        attrs: &[
            basic("Label", c::LABEL, "Text"),
            reference("Process_Def_Id", c::PROCESS_DEF_ID, "Process_Definition"),
            reference("Parent_Process_Id", c::PARENT_PROCESS_ID, "Process"),
            reference("Parent_Activity_Id", c::PARENT_ACTIVITY_ID, "Activity"),
            reference("Top_Process_Id", c::TOP_PROCESS_ID, "Process"),
            reference("Created_By", c::CREATED_BY, "User"),
            reference("Last_Modified_By", c::LAST_MODIFIED_BY, "User"),
            reference("Suspended_By", c::SUSPENDED_BY, "User"),
        ],
    },
    EntityDef {
        name: "Activity",
        physical: "ossys_BPM_Activity",
        espace: "ServiceCenter",
        system: true,
        multi_tenant: true,
        events: None,
        shapes_only: false,
        attrs: &[
            basic("Name", c::NAME, "Text"),
            reference("Process_Id", c::PROCESS_ID, "Process"),
            reference("User_Id", c::USER_ID, "User"),
            reference("Group_Id", c::GROUP_ID, "Group"),
            reference(
                "Precedent_Activity_Id",
                c::PRECEDENT_ACTIVITY_ID,
                "Activity",
            ),
        ],
    },
    EntityDef {
        name: "Espace",
        physical: "ossys_Espace",
        espace: "ServiceCenter",
        system: true,
        multi_tenant: false,
        events: None,
        shapes_only: false,
        attrs: &[
            basic("Name", c::NAME, "Text"),
            basic("SS_Key", c::SS_KEY, "Text"),
        ],
    },
    EntityDef {
        name: "Process_Definition",
        physical: "ossys_BPM_Process_Definition",
        espace: "ServiceCenter",
        system: true,
        multi_tenant: false,
        events: None,
        shapes_only: false,
        attrs: &[
            basic("Name", c::NAME, "Text"),
            reference("ESpace_Id", c::ESPACE_ID, "Espace"),
        ],
    },
    EntityDef {
        name: "JobOffer",
        physical: JOB_OFFER_TABLE,
        espace: "Recruitment",
        system: false,
        multi_tenant: true,
        events: Some((JOB_OFFER_EVENT_TABLE, true)),
        shapes_only: true,
        attrs: &[
            basic("Title", "TITLE", "Text"),
            reference("CandidateId", "CANDIDATE_ID", "Candidate"),
            reference("RecruiterId", "RECRUITER_ID", "User"),
        ],
    },
];

/// The entity called `name`.
fn entity(name: &str) -> Option<&'static EntityDef> {
    ENTITIES.iter().find(|e| e.name == name)
}

/// The type of an identifier of entity `name`: `bt<eSpace SS_KEY>*<entity SS_KEY>`.
pub(super) fn entity_type(name: &str) -> String {
    let espace = entity(name).map_or("ServiceCenter", |e| e.espace);
    format!(
        "bt{}*{}",
        ss_key(&format!("espace:{espace}")),
        ss_key(&format!("entity:{name}"))
    )
}

fn attr_type(ty: AttrType) -> String {
    match ty {
        AttrType::Basic(name) => format!("rt{name}"),
        AttrType::Ref(entity) => entity_type(entity),
    }
}

const ENTITY_COLUMNS: &[&str] = &[
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
];

const ATTR_COLUMNS: &[&str] = &[
    c::ID,
    c::ENTITY_ID,
    c::NAME,
    "DESCRIPTION",
    c::SS_KEY,
    c::TYPE,
    "LENGTH",
    "IS_MANDATORY",
    "IS_AUTONUMBER",
    c::IS_ACTIVE,
    "ORDER_NUM",
    c::DATABASE_NAME,
];

/// The `OSSYS_ENTITY` and `OSSYS_ENTITY_ATTR` rows of an environment (`prod` or qa).
///
/// `User` and `Candidate` take their IDs as before (from `rng` in qa, which has gaps); the
/// others follow without drawing from `rng`, so that the rest of the environment is the
/// same whatever entities are listed. Event tables marked so are named only with
/// `shapes` on (without them, the extract reads the same tables as before).
pub(super) fn entities(
    prod: bool,
    shapes: bool,
    rng: &mut Rng,
    p: &mut PublishedIds,
) -> [TableRows; 2] {
    let mut rows = TableRows::new(c::ENTITY, ENTITY_COLUMNS, true);
    let mut attrs = TableRows::new(c::ENTITY_ATTR, ATTR_COLUMNS, true);
    let mut first = Ids::new(if prod { 1 } else { 40 }, !prod);
    let mut rest = Ids::new(if prod { 3 } else { 60 }, false);
    let mut attr_ids = Ids::new(if prod { 1 } else { 300 }, false);
    for (i, e) in ENTITIES.iter().enumerate() {
        if e.shapes_only && !shapes {
            continue;
        }
        let id = if i < 2 {
            first.take(rng)
        } else {
            rest.take(rng)
        };
        if e.name == "Candidate" {
            p.candidate_entity = id;
        }
        let events = e
            .events
            .filter(|(_, gated)| shapes || !*gated)
            .map(|(t, _)| t);
        rows.push(vec![
            Lit::Int(id),
            Lit::text(e.physical),
            Lit::text(e.name),
            Lit::Int(p.espace[e.espace]),
            Lit::text(ss_key(&format!("entity:{}", e.name))),
            Lit::Bool(true),
            Lit::Bool(e.system),
            Lit::text(ss_key(&format!("attr:{}.Id", e.name))),
            Lit::text("entity"),
            Lit::Bool(events.is_some()),
            events.map_or(Lit::Null, Lit::text),
        ]);
        for (order, a) in entity_attrs(e).enumerate() {
            attrs.push(attr_row(attr_ids.take(rng), id, e, a, order));
        }
    }
    [rows, attrs]
}

/// `Id`, `TenantId` on a multi-tenant entity, then the entity's other attributes.
fn entity_attrs(e: &'static EntityDef) -> impl Iterator<Item = &'static Attr> {
    const ID_ATTR: Attr = basic("Id", c::ID, "Integer");
    std::iter::once(&ID_ATTR)
        .chain(e.multi_tenant.then_some(&TENANT_ATTR))
        .chain(e.attrs)
}

fn attr_row(id: i64, entity: i64, e: &EntityDef, a: &Attr, order: usize) -> Vec<Lit> {
    let is_key = a.column == c::ID;
    let length = match a.ty {
        AttrType::Basic("Text" | "Email") => Lit::Int(250),
        _ => Lit::Null,
    };
    vec![
        Lit::Int(id),
        Lit::Int(entity),
        Lit::text(a.name),
        Lit::Null,
        Lit::text(ss_key(&format!("attr:{}.{}", e.name, a.name))),
        Lit::text(attr_type(a.ty)),
        length,
        Lit::Bool(is_key),
        Lit::Bool(is_key),
        Lit::Bool(true),
        Lit::Int(order as i64),
        Lit::text(a.column),
    ]
}
