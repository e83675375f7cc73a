//! The static, queue and identity tables: read to map names or checked, never moved.

use super::column_names::{
    ACTIVITY_ID, DATABASE_NAME, DATA_ID, ENQUEUE_TIME, ENTITY_ID, ENTITY_RECORD_ID, ERROR_COUNT,
    ESPACE_ID, EVENT_TABLE_NAME, EXPOSE_PROCESS_EVENTS, ID, IS_ACTIVE, IS_LOCKED, IS_TERMINAL,
    NAME, NEXT_RUN, PHYSICAL_TABLE_NAME, PRIMARYKEY_SS_KEY, PROCESS_DEF_ID, TYPE, USERNAME,
};
use super::shorthands::{fk, key, ss_key, tenant, val};
use super::table_names::{
    ACTIVITY, ACTIVITY_KIND, ACTIVITY_STATUS, ENTITY, ENTITY_ATTR, ESPACE, EVENT_QUEUE, GROUP,
    LIGHT_EVENT, PROCESS_DEFINITION, PROCESS_STATUS, TENANT, USER,
};
use super::{FkKind, Table, TableRole};

pub const PROCESS_STATUS_TABLE: Table = Table {
    name: PROCESS_STATUS,
    role: TableRole::Static,
    key: Some(ID),
    columns: &[key(), val(NAME, false), val(IS_TERMINAL, false)],
};

pub const ACTIVITY_STATUS_TABLE: Table = Table {
    name: ACTIVITY_STATUS,
    role: TableRole::Static,
    key: Some(ID),
    columns: &[key(), val(NAME, false), val(IS_TERMINAL, false)],
};

pub const ACTIVITY_KIND_TABLE: Table = Table {
    name: ACTIVITY_KIND,
    role: TableRole::Static,
    key: Some(ID),
    columns: &[key(), val(NAME, false)],
};

pub const EVENT_QUEUE_TABLE: Table = Table {
    name: EVENT_QUEUE,
    role: TableRole::Queue,
    key: Some(ID),
    columns: &[
        key(),
        fk(ESPACE_ID, FkKind::Espace, ESPACE, true),
        tenant(),
        fk(ACTIVITY_ID, FkKind::Instance, ACTIVITY, true),
        fk(PROCESS_DEF_ID, FkKind::Definition, PROCESS_DEFINITION, true),
        val(DATA_ID, true),
        val(ENQUEUE_TIME, true),
        val(ERROR_COUNT, true),
        val(NEXT_RUN, true),
    ],
};

pub const LIGHT_EVENT_TABLE: Table = Table {
    name: LIGHT_EVENT,
    role: TableRole::Queue,
    key: Some(ID),
    columns: &[
        key(),
        fk(ESPACE_ID, FkKind::Espace, ESPACE, true),
        tenant(),
        fk(ACTIVITY_ID, FkKind::Instance, ACTIVITY, true),
        fk(PROCESS_DEF_ID, FkKind::Definition, PROCESS_DEFINITION, true),
        val(ENTITY_RECORD_ID, true),
        val(ENQUEUE_TIME, true),
        val(ERROR_COUNT, true),
        val(NEXT_RUN, true),
    ],
};

pub const ESPACE_TABLE: Table = Table {
    name: ESPACE,
    role: TableRole::Identity,
    key: Some(ID),
    columns: &[
        key(),
        val(NAME, false),
        ss_key(),
        val(IS_ACTIVE, false),
        // Read for the scheduler findings; absent on some platform versions.
        val(IS_LOCKED, false),
    ],
};

pub const ENTITY_TABLE: Table = Table {
    name: ENTITY,
    role: TableRole::Identity,
    key: Some(ID),
    columns: &[
        key(),
        val(PHYSICAL_TABLE_NAME, true),
        val(NAME, false),
        fk(ESPACE_ID, FkKind::Espace, ESPACE, false),
        ss_key(),
        val(IS_ACTIVE, false),
        val(PRIMARYKEY_SS_KEY, true),
        val(EXPOSE_PROCESS_EVENTS, true),
        val(EVENT_TABLE_NAME, true),
    ],
};

/// The attributes of every entity. An attribute's `TYPE` names the entity it references
/// (`bt<eSpace SS_KEY>*<entity SS_KEY>`), which types the columns of an `OSEVT_*` table;
/// `DATABASE_NAME` is its physical column. Read from the source, never mapped.
pub const ENTITY_ATTR_TABLE: Table = Table {
    name: ENTITY_ATTR,
    role: TableRole::Identity,
    key: Some(ID),
    columns: &[
        key(),
        val(ENTITY_ID, false),
        val(NAME, false),
        ss_key(),
        val(TYPE, true),
        val(IS_ACTIVE, false),
        val(DATABASE_NAME, true),
    ],
};

pub const USER_TABLE: Table = Table {
    name: USER,
    role: TableRole::Identity,
    key: Some(ID),
    columns: &[
        key(),
        val(NAME, true),
        val(USERNAME, false),
        val(IS_ACTIVE, false),
        tenant(),
    ],
};

pub const GROUP_TABLE: Table = Table {
    name: GROUP,
    role: TableRole::Identity,
    key: Some(ID),
    columns: &[key(), val(NAME, false), tenant()],
};

pub const TENANT_TABLE: Table = Table {
    name: TENANT,
    role: TableRole::Identity,
    key: Some(ID),
    columns: &[
        key(),
        val(NAME, false),
        fk(ESPACE_ID, FkKind::Espace, ESPACE, true),
        // Not in the public material (G): read when the target has it, for the scheduler
        // findings (an inactive tenant's processes never run).
        val(IS_ACTIVE, false),
    ],
};

pub const STATIC_TABLES: &[Table] = &[
    PROCESS_STATUS_TABLE,
    ACTIVITY_STATUS_TABLE,
    ACTIVITY_KIND_TABLE,
];

pub const QUEUE_TABLES: &[Table] = &[EVENT_QUEUE_TABLE, LIGHT_EVENT_TABLE];

pub const IDENTITY_TABLES: &[Table] = &[
    ESPACE_TABLE,
    ENTITY_TABLE,
    ENTITY_ATTR_TABLE,
    TENANT_TABLE,
    USER_TABLE,
    GROUP_TABLE,
];
