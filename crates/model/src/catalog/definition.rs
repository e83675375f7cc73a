//! The definition tables, written by publishing in each environment and mapped by `SS_KEY`.

use super::column_names::{
    ACTIVITY_DEF_ID, DATA_TYPE, ESPACE_ID, ID, INVOKED_PROCESS_DEF_ID, IS_ACTIVE, IS_INPUT,
    IS_LOCKED, KIND, LABEL, NAME, PROCESS_DEF_ID, SS_TYPE,
};
use super::shorthands::{fk, key, ss_key, val};
use super::table_names::{
    ACTIVITY_DEFINITION, ACTIVITY_KIND, ACTIVITY_OUTPUT_DEF, ESPACE, PROCESS_DEFINITION,
    PROCESS_INPUT_DEF, PROCESS_OUTPUT_DEF,
};
use super::{FkKind, Table, TableRole};

pub const PROCESS_DEFINITION_TABLE: Table = Table {
    name: PROCESS_DEFINITION,
    role: TableRole::Definition,
    key: Some(ID),
    columns: &[
        key(),
        val(NAME, true),
        val(LABEL, true),
        ss_key(),
        val(IS_ACTIVE, false),
        fk(ESPACE_ID, FkKind::Espace, ESPACE, false),
        // Read for the scheduler findings (a locked definition's processes never run).
        val(IS_LOCKED, false),
    ],
};

pub const PROCESS_INPUT_DEF_TABLE: Table = Table {
    name: PROCESS_INPUT_DEF,
    role: TableRole::Definition,
    key: Some(ID),
    columns: &[
        key(),
        ss_key(),
        fk(
            PROCESS_DEF_ID,
            FkKind::Definition,
            PROCESS_DEFINITION,
            false,
        ),
        val(NAME, true),
        val(IS_ACTIVE, false),
        val(DATA_TYPE, true),
        val(SS_TYPE, true),
    ],
};

pub const PROCESS_OUTPUT_DEF_TABLE: Table = Table {
    name: PROCESS_OUTPUT_DEF,
    role: TableRole::Definition,
    key: Some(ID),
    columns: &[
        key(),
        ss_key(),
        fk(
            PROCESS_DEF_ID,
            FkKind::Definition,
            PROCESS_DEFINITION,
            false,
        ),
        val(NAME, true),
        val(IS_ACTIVE, false),
        val(DATA_TYPE, true),
        val(SS_TYPE, true),
    ],
};

pub const ACTIVITY_DEFINITION_TABLE: Table = Table {
    name: ACTIVITY_DEFINITION,
    role: TableRole::Definition,
    key: Some(ID),
    columns: &[
        key(),
        ss_key(),
        val(NAME, true),
        val(LABEL, true),
        fk(KIND, FkKind::Static, ACTIVITY_KIND, false),
        fk(
            PROCESS_DEF_ID,
            FkKind::Definition,
            PROCESS_DEFINITION,
            false,
        ),
        val(IS_ACTIVE, false),
        fk(
            INVOKED_PROCESS_DEF_ID,
            FkKind::Definition,
            PROCESS_DEFINITION,
            true,
        ),
    ],
};

pub const ACTIVITY_OUTPUT_DEF_TABLE: Table = Table {
    name: ACTIVITY_OUTPUT_DEF,
    role: TableRole::Definition,
    key: Some(ID),
    columns: &[
        key(),
        ss_key(),
        fk(
            ACTIVITY_DEF_ID,
            FkKind::Definition,
            ACTIVITY_DEFINITION,
            false,
        ),
        val(NAME, true),
        val(IS_ACTIVE, false),
        val(DATA_TYPE, true),
        val(IS_INPUT, true),
        val(SS_TYPE, true),
    ],
};

/// The definition tables, parents before children.
pub const DEFINITION_TABLES: &[Table] = &[
    PROCESS_DEFINITION_TABLE,
    PROCESS_INPUT_DEF_TABLE,
    PROCESS_OUTPUT_DEF_TABLE,
    ACTIVITY_DEFINITION_TABLE,
    ACTIVITY_OUTPUT_DEF_TABLE,
];
