//! The runtime history tables that move, and the `OSEVT_*` subscription tables.

use super::column_names::{
    ACTIVITY_DEF_ID, ACTIVITY_ID, CLOSED, CREATED, CREATED_BY, DATA_TYPE, DUE_DATE, ERROR_COUNT,
    EVT_ACTIVITY_ID, EVT_ESPACE_ID, EVT_IS_LIGHT, EVT_IS_UPDATE, EVT_PROCESS_DEF_ID, EVT_TENANT_ID,
    EXPIRED, GROUP_ID, ID, INBOX_DETAIL, INPUT_DEF_ID, INPUT_VALUE, IS_RUNNING_AT,
    IS_RUNNING_SINCE, LABEL, LAST_ERROR_ID, LAST_MODIFIED, LAST_MODIFIED_BY, NAME, NEXT_RUN,
    OPENED, OUTPUT_DEF_ID, OUTPUT_VALUE, PARENT_ACTIVITY_ID, PARENT_PROCESS_ID,
    PRECEDENT_ACTIVITY_ID, PRECEDENT_OUTCOME, PROCESS_DEF_ID, PROCESS_ID, SKIPPED, SS_TYPE,
    STATUS_ID, SUSPENDED_BY, SUSPENDED_DATE, TOP_PROCESS_ID, USER_ID,
};
use super::shorthands::{entity_value, fk, key, sched, ss_key, tenant, val};
use super::table_names::{
    ACTIVITY, ACTIVITY_DEFINITION, ACTIVITY_OUTPUT, ACTIVITY_OUTPUT_DEF, ACTIVITY_STATUS, ESPACE,
    GROUP, OSEVT_PREFIX, PROCESS, PROCESS_DEFINITION, PROCESS_INPUT, PROCESS_INPUT_DEF,
    PROCESS_OUTPUT, PROCESS_OUTPUT_DEF, PROCESS_STATUS, TENANT, USER,
};
use super::{Column, FkKind, Table, TableRole};

pub const PROCESS_TABLE: Table = Table {
    name: PROCESS,
    role: TableRole::Instance,
    key: Some(ID),
    columns: &[
        key(),
        tenant(),
        val(LABEL, true),
        val(CREATED, false),
        fk(CREATED_BY, FkKind::User, USER, true),
        fk(
            PROCESS_DEF_ID,
            FkKind::Definition,
            PROCESS_DEFINITION,
            false,
        ),
        fk(PARENT_PROCESS_ID, FkKind::Instance, PROCESS, true),
        fk(PARENT_ACTIVITY_ID, FkKind::Instance, ACTIVITY, true),
        fk(TOP_PROCESS_ID, FkKind::Instance, PROCESS, true),
        fk(STATUS_ID, FkKind::Static, PROCESS_STATUS, false),
        val(LAST_MODIFIED, false),
        fk(LAST_MODIFIED_BY, FkKind::User, USER, true),
        val(SUSPENDED_DATE, false),
        fk(SUSPENDED_BY, FkKind::User, USER, true),
    ],
};

pub const ACTIVITY_TABLE: Table = Table {
    name: ACTIVITY,
    role: TableRole::Instance,
    key: Some(ID),
    columns: &[
        key(),
        tenant(),
        fk(
            ACTIVITY_DEF_ID,
            FkKind::Definition,
            ACTIVITY_DEFINITION,
            false,
        ),
        fk(PROCESS_ID, FkKind::Instance, PROCESS, false),
        val(NAME, true),
        fk(USER_ID, FkKind::User, USER, true),
        val(CREATED, false),
        val(OPENED, false),
        val(CLOSED, false),
        fk(STATUS_ID, FkKind::Static, ACTIVITY_STATUS, false),
        sched(IS_RUNNING_SINCE),
        sched(IS_RUNNING_AT),
        val(NEXT_RUN, true),
        fk(PRECEDENT_ACTIVITY_ID, FkKind::Instance, ACTIVITY, true),
        val(PRECEDENT_OUTCOME, true),
        val(DUE_DATE, true),
        val(INBOX_DETAIL, true),
        val(EXPIRED, true),
        val(SKIPPED, true),
        val(ERROR_COUNT, true),
        val(LAST_ERROR_ID, true),
        val(LAST_MODIFIED, true),
        fk(GROUP_ID, FkKind::Group, GROUP, true),
    ],
};

pub const PROCESS_INPUT_TABLE: Table = Table {
    name: PROCESS_INPUT,
    role: TableRole::Instance,
    key: Some(ID),
    columns: &[
        key(),
        tenant(),
        fk(INPUT_DEF_ID, FkKind::Definition, PROCESS_INPUT_DEF, true),
        fk(PROCESS_ID, FkKind::Instance, PROCESS, false),
        fk(ACTIVITY_ID, FkKind::Instance, ACTIVITY, true),
        ss_key(),
        val(NAME, true),
        val(DATA_TYPE, true),
        entity_value(INPUT_VALUE),
        val(SS_TYPE, true),
    ],
};

pub const PROCESS_OUTPUT_TABLE: Table = Table {
    name: PROCESS_OUTPUT,
    role: TableRole::Instance,
    key: Some(ID),
    columns: &[
        key(),
        tenant(),
        fk(OUTPUT_DEF_ID, FkKind::Definition, PROCESS_OUTPUT_DEF, true),
        fk(PROCESS_ID, FkKind::Instance, PROCESS, false),
        ss_key(),
        val(NAME, true),
        val(DATA_TYPE, true),
        entity_value(OUTPUT_VALUE),
        val(SS_TYPE, true),
    ],
};

pub const ACTIVITY_OUTPUT_TABLE: Table = Table {
    name: ACTIVITY_OUTPUT,
    role: TableRole::Instance,
    key: Some(ID),
    columns: &[
        key(),
        tenant(),
        fk(OUTPUT_DEF_ID, FkKind::Definition, ACTIVITY_OUTPUT_DEF, true),
        fk(ACTIVITY_ID, FkKind::Instance, ACTIVITY, false),
        ss_key(),
        val(NAME, true),
        val(DATA_TYPE, true),
        entity_value(OUTPUT_VALUE),
        val(SS_TYPE, true),
    ],
};

/// The common columns of every `OSEVT_<table>` subscription table. The entity's own filter
/// columns (`ID`, its reference attributes, `TENANT_ID` on multi-tenant entities) follow and
/// are carried as plain values: they point into application data, which bptmig does not move.
pub const OSEVT_COLUMNS: &[Column] = &[
    fk(EVT_ESPACE_ID, FkKind::Espace, ESPACE, true),
    fk(EVT_TENANT_ID, FkKind::Tenant, TENANT, true),
    fk(EVT_ACTIVITY_ID, FkKind::Instance, ACTIVITY, true),
    fk(
        EVT_PROCESS_DEF_ID,
        FkKind::Definition,
        PROCESS_DEFINITION,
        true,
    ),
    val(EVT_IS_UPDATE, true),
    val(EVT_IS_LIGHT, true),
];

/// The shape of an `OSEVT_<table>` table named `name` (the name comes from
/// `OSSYS_ENTITY.EVENT_TABLE_NAME` at run time).
pub fn osevt_table(name: &'static str) -> Table {
    Table {
        name,
        role: TableRole::EventSubscription,
        key: None,
        columns: OSEVT_COLUMNS,
    }
}

/// Whether `name` is an event subscription table.
pub fn is_osevt(name: &str) -> bool {
    name.len() > OSEVT_PREFIX.len() && name[..OSEVT_PREFIX.len()].eq_ignore_ascii_case(OSEVT_PREFIX)
}

/// The instance tables with a fixed name, in load order.
pub const INSTANCE_TABLES: &[Table] = &[
    PROCESS_TABLE,
    ACTIVITY_TABLE,
    PROCESS_INPUT_TABLE,
    PROCESS_OUTPUT_TABLE,
    ACTIVITY_OUTPUT_TABLE,
];
