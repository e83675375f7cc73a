//! Every platform table bptmig reads or writes, and the role of each column it knows.
//!
//! Column *types* are deliberately absent: the live catalog of each environment is the
//! authority on types (`INFORMATION_SCHEMA.COLUMNS`). What the model knows is what a column
//! *means*: which columns are keys, which are foreign keys of which kind, which values may hold
//! an entity identifier, which hold scheduler state. Columns the model does not list are
//! carried through as plain values.

/// What a table is for in a migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TableRole {
    /// Runtime history that moves (rows are copied, every FK rewritten).
    Instance,
    /// Written by publishing in each environment; never moved, only mapped by SS_KEY.
    Definition,
    /// Platform enumeration seeded identically everywhere; read to map names.
    Static,
    /// Scheduler queue; must be empty on both sides.
    Queue,
    /// Users, groups, tenants, eSpaces, entities: mapped, never moved.
    Identity,
    /// An `OSEVT_<table>` subscription table; rows subscribing moved activities move.
    EventSubscription,
}

/// The kind of thing a foreign key points at, which decides how its value is mapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FkKind {
    /// A definition row, matched across environments by (eSpace SS_KEY, definition SS_KEY).
    Definition,
    /// A moved instance row: the value becomes the ID this run assigned to it.
    Instance,
    /// `OSSYS_USER`: mapping file, then username + tenant, then policy.
    User,
    /// `OSSYS_GROUP`: mapping file, then name + tenant, then policy.
    Group,
    /// `OSSYS_TENANT`: mapping file, then name.
    Tenant,
    /// `OSSYS_ESPACE`: by eSpace SS_KEY.
    Espace,
    /// A static table whose IDs are platform-seeded (checked equal by name).
    Static,
}

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnRole {
    /// The table's identity primary key.
    Key,
    /// A foreign key.
    Fk {
        kind: FkKind,
        /// The referenced table.
        table: &'static str,
    },
    /// Text that holds an entity identifier when the row's `SS_TYPE` (named here) is `bt…*…`.
    EntityRefValue { type_column: &'static str },
    /// The cross-environment key of a definition row (`SS_KEY`); copied as is on instances.
    SsKey,
    /// Scheduler lock or timer state that a copy should not carry blindly.
    SchedulerState,
    /// Anything else: copied unchanged.
    Value,
}

impl FkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FkKind::Definition => "definition",
            FkKind::Instance => "instance",
            FkKind::User => "user",
            FkKind::Group => "group",
            FkKind::Tenant => "tenant",
            FkKind::Espace => "espace",
            FkKind::Static => "static",
        }
    }
}

impl ColumnRole {
    /// A compact, stable text form, as written into Parquet metadata:
    /// `key`, `fk:<kind>:<table>`, `entity-ref:<type column>`, `ss-key`, `scheduler`, `value`.
    pub fn tag(&self) -> String {
        match self {
            ColumnRole::Key => "key".to_owned(),
            ColumnRole::Fk { kind, table } => format!("fk:{}:{table}", kind.as_str()),
            ColumnRole::EntityRefValue { type_column } => format!("entity-ref:{type_column}"),
            ColumnRole::SsKey => "ss-key".to_owned(),
            ColumnRole::SchedulerState => "scheduler".to_owned(),
            ColumnRole::Value => "value".to_owned(),
        }
    }
}

/// A column the model knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub role: ColumnRole,
    /// Whether the platform stores NULL here (as opposed to a sentinel such as 1900-01-01).
    pub nullable: bool,
}

/// A table the model knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Table {
    pub name: &'static str,
    pub role: TableRole,
    /// The identity primary key, when the table has one (`OSEVT_*` tables have none).
    pub key: Option<&'static str>,
    pub columns: &'static [Column],
}

impl Table {
    /// The column called `name` (case-insensitive, as SQL Server compares names).
    pub fn column(&self, name: &str) -> Option<&'static Column> {
        self.columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// The foreign-key columns of this table, in declaration order.
    pub fn foreign_keys(&self) -> impl Iterator<Item = (&'static Column, FkKind, &'static str)> {
        self.columns.iter().filter_map(|c| match c.role {
            ColumnRole::Fk { kind, table } => Some((c, kind, table)),
            _ => None,
        })
    }
}

// ---- table names -------------------------------------------------------------------------

pub const PROCESS: &str = "OSSYS_BPM_PROCESS";
pub const ACTIVITY: &str = "OSSYS_BPM_ACTIVITY";
pub const PROCESS_INPUT: &str = "OSSYS_BPM_PROCESS_INPUT";
pub const PROCESS_OUTPUT: &str = "OSSYS_BPM_PROCESS_OUTPUT";
pub const ACTIVITY_OUTPUT: &str = "OSSYS_BPM_ACTIVITY_OUTPUT";

pub const PROCESS_DEFINITION: &str = "OSSYS_BPM_PROCESS_DEFINITION";
pub const PROCESS_INPUT_DEF: &str = "OSSYS_BPM_PROCESS_INPUT_DEF";
pub const PROCESS_OUTPUT_DEF: &str = "OSSYS_BPM_PROCESS_OUTPUT_DEF";
pub const ACTIVITY_DEFINITION: &str = "OSSYS_BPM_ACTIVITY_DEFINITION";
pub const ACTIVITY_OUTPUT_DEF: &str = "OSSYS_BPM_ACTIVITY_OUTPUT_DEF";

pub const PROCESS_STATUS: &str = "OSSYS_BPM_PROCESS_STATUS";
pub const ACTIVITY_STATUS: &str = "OSSYS_BPM_ACTIVITY_STATUS";
pub const ACTIVITY_KIND: &str = "OSSYS_BPM_ACTIVITY_KIND";

pub const EVENT_QUEUE: &str = "OSSYS_BPM_EVENT_QUEUE";
pub const LIGHT_EVENT: &str = "OSSYS_BPM_EVENT";

pub const ESPACE: &str = "OSSYS_ESPACE";
pub const ENTITY: &str = "OSSYS_ENTITY";
pub const USER: &str = "OSSYS_USER";
pub const GROUP: &str = "OSSYS_GROUP";
pub const TENANT: &str = "OSSYS_TENANT";

/// Prefix of the per-entity event subscription tables.
pub const OSEVT_PREFIX: &str = "OSEVT_";
/// Prefix of application tables (user entities).
pub const OSUSR_PREFIX: &str = "OSUSR_";

// ---- column names ------------------------------------------------------------------------

pub const ID: &str = "ID";
pub const TENANT_ID: &str = "TENANT_ID";
pub const NAME: &str = "NAME";
pub const LABEL: &str = "LABEL";
pub const SS_KEY: &str = "SS_KEY";
pub const SS_TYPE: &str = "SS_TYPE";
pub const IS_ACTIVE: &str = "IS_ACTIVE";
pub const ESPACE_ID: &str = "ESPACE_ID";
pub const USERNAME: &str = "USERNAME";
pub const IS_TERMINAL: &str = "IS_TERMINAL";

pub const CREATED: &str = "CREATED";
pub const CREATED_BY: &str = "CREATED_BY";
pub const PROCESS_DEF_ID: &str = "PROCESS_DEF_ID";
pub const PARENT_PROCESS_ID: &str = "PARENT_PROCESS_ID";
pub const PARENT_ACTIVITY_ID: &str = "PARENT_ACTIVITY_ID";
pub const TOP_PROCESS_ID: &str = "TOP_PROCESS_ID";
pub const STATUS_ID: &str = "STATUS_ID";
pub const LAST_MODIFIED: &str = "LAST_MODIFIED";
pub const LAST_MODIFIED_BY: &str = "LAST_MODIFIED_BY";
pub const SUSPENDED_DATE: &str = "SUSPENDED_DATE";
pub const SUSPENDED_BY: &str = "SUSPENDED_BY";

pub const ACTIVITY_DEF_ID: &str = "ACTIVITY_DEF_ID";
pub const PROCESS_ID: &str = "PROCESS_ID";
pub const USER_ID: &str = "USER_ID";
pub const GROUP_ID: &str = "GROUP_ID";
pub const OPENED: &str = "OPENED";
pub const CLOSED: &str = "CLOSED";
pub const IS_RUNNING_SINCE: &str = "IS_RUNNING_SINCE";
pub const IS_RUNNING_AT: &str = "IS_RUNNING_AT";
pub const NEXT_RUN: &str = "NEXT_RUN";
pub const PRECEDENT_ACTIVITY_ID: &str = "PRECEDENT_ACTIVITY_ID";
pub const PRECEDENT_OUTCOME: &str = "PRECEDENT_OUTCOME";
pub const DUE_DATE: &str = "DUE_DATE";
pub const INBOX_DETAIL: &str = "INBOX_DETAIL";
pub const EXPIRED: &str = "EXPIRED";
pub const SKIPPED: &str = "SKIPPED";
pub const ERROR_COUNT: &str = "ERROR_COUNT";
pub const LAST_ERROR_ID: &str = "LAST_ERROR_ID";

pub const INPUT_DEF_ID: &str = "INPUT_DEF_ID";
pub const OUTPUT_DEF_ID: &str = "OUTPUT_DEF_ID";
pub const ACTIVITY_ID: &str = "ACTIVITY_ID";
pub const DATA_TYPE: &str = "DATA_TYPE";
pub const INPUT_VALUE: &str = "INPUT_VALUE";
pub const OUTPUT_VALUE: &str = "OUTPUT_VALUE";

pub const KIND: &str = "KIND";
pub const INVOKED_PROCESS_DEF_ID: &str = "INVOKED_PROCESS_DEF_ID";
pub const IS_INPUT: &str = "IS_INPUT";

pub const PHYSICAL_TABLE_NAME: &str = "PHYSICAL_TABLE_NAME";
pub const EVENT_TABLE_NAME: &str = "EVENT_TABLE_NAME";
pub const EXPOSE_PROCESS_EVENTS: &str = "EXPOSE_PROCESS_EVENTS";
pub const PRIMARYKEY_SS_KEY: &str = "PRIMARYKEY_SS_KEY";

pub const DATA_ID: &str = "DATA_ID";
pub const ENTITY_RECORD_ID: &str = "ENTITY_RECORD_ID";
pub const ENQUEUE_TIME: &str = "ENQUEUE_TIME";

pub const EVT_ESPACE_ID: &str = "_ESPACE_ID";
pub const EVT_TENANT_ID: &str = "_TENANT_ID";
pub const EVT_ACTIVITY_ID: &str = "_ACTIVITY_ID";
pub const EVT_PROCESS_DEF_ID: &str = "_PROCESS_DEF_ID";
pub const EVT_IS_UPDATE: &str = "_IS_UPDATE";
pub const EVT_IS_LIGHT: &str = "_IS_LIGHT";

// ---- column shorthands -------------------------------------------------------------------

const fn key() -> Column {
    Column {
        name: ID,
        role: ColumnRole::Key,
        nullable: false,
    }
}

const fn fk(name: &'static str, kind: FkKind, table: &'static str, nullable: bool) -> Column {
    Column {
        name,
        role: ColumnRole::Fk { kind, table },
        nullable,
    }
}

const fn val(name: &'static str, nullable: bool) -> Column {
    Column {
        name,
        role: ColumnRole::Value,
        nullable,
    }
}

const fn sched(name: &'static str) -> Column {
    Column {
        name,
        role: ColumnRole::SchedulerState,
        nullable: true,
    }
}

const fn ss_key() -> Column {
    Column {
        name: SS_KEY,
        role: ColumnRole::SsKey,
        nullable: true,
    }
}

const fn entity_value(name: &'static str) -> Column {
    Column {
        name,
        role: ColumnRole::EntityRefValue {
            type_column: SS_TYPE,
        },
        nullable: true,
    }
}

const fn tenant() -> Column {
    fk(TENANT_ID, FkKind::Tenant, TENANT, true)
}

// ---- instance tables ---------------------------------------------------------------------

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

// ---- definition tables -------------------------------------------------------------------

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

// ---- static, queue and identity tables ---------------------------------------------------

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
    columns: &[key(), val(NAME, false), ss_key(), val(IS_ACTIVE, false)],
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
    ],
};

/// The instance tables with a fixed name, in load order.
pub const INSTANCE_TABLES: &[Table] = &[
    PROCESS_TABLE,
    ACTIVITY_TABLE,
    PROCESS_INPUT_TABLE,
    PROCESS_OUTPUT_TABLE,
    ACTIVITY_OUTPUT_TABLE,
];

/// The definition tables, parents before children.
pub const DEFINITION_TABLES: &[Table] = &[
    PROCESS_DEFINITION_TABLE,
    PROCESS_INPUT_DEF_TABLE,
    PROCESS_OUTPUT_DEF_TABLE,
    ACTIVITY_DEFINITION_TABLE,
    ACTIVITY_OUTPUT_DEF_TABLE,
];

pub const STATIC_TABLES: &[Table] = &[
    PROCESS_STATUS_TABLE,
    ACTIVITY_STATUS_TABLE,
    ACTIVITY_KIND_TABLE,
];

pub const QUEUE_TABLES: &[Table] = &[EVENT_QUEUE_TABLE, LIGHT_EVENT_TABLE];

pub const IDENTITY_TABLES: &[Table] = &[
    ESPACE_TABLE,
    ENTITY_TABLE,
    TENANT_TABLE,
    USER_TABLE,
    GROUP_TABLE,
];

/// Every table with a fixed name that the model knows.
pub fn all_tables() -> impl Iterator<Item = &'static Table> {
    INSTANCE_TABLES
        .iter()
        .chain(DEFINITION_TABLES)
        .chain(STATIC_TABLES)
        .chain(QUEUE_TABLES)
        .chain(IDENTITY_TABLES)
}

/// The table with a fixed name called `name` (case-insensitive).
pub fn table(name: &str) -> Option<&'static Table> {
    all_tables().find(|t| t.name.eq_ignore_ascii_case(name))
}

/// For an instance table, the definition table that its definition FK points at and the
/// column holding it (`PROCESS_DEF_ID` on `OSSYS_BPM_PROCESS`, ...).
pub fn definition_fk(table: &Table) -> Option<(&'static str, &'static str)> {
    table
        .foreign_keys()
        .find(|(_, kind, _)| *kind == FkKind::Definition)
        .map(|(c, _, target)| (c.name, target))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_table_has_unique_column_names_and_its_key_listed() {
        for t in all_tables() {
            let mut seen = HashSet::new();
            for c in t.columns {
                assert!(seen.insert(c.name), "{}.{} listed twice", t.name, c.name);
            }
            if let Some(k) = t.key {
                assert_eq!(
                    t.column(k).map(|c| c.role),
                    Some(ColumnRole::Key),
                    "{}",
                    t.name
                );
            }
        }
    }

    #[test]
    fn every_fk_points_at_a_known_table() {
        for t in all_tables() {
            for (c, _, target) in t.foreign_keys() {
                assert!(table(target).is_some(), "{}.{} -> {target}", t.name, c.name);
            }
        }
        for c in OSEVT_COLUMNS {
            if let ColumnRole::Fk { table: target, .. } = c.role {
                assert!(table(target).is_some(), "OSEVT.{} -> {target}", c.name);
            }
        }
    }

    #[test]
    fn instance_fks_point_only_at_instance_tables() {
        for t in all_tables().filter(|t| t.role == TableRole::Instance) {
            for (c, kind, target) in t.foreign_keys() {
                let target_role = table(target).map(|t| t.role);
                match kind {
                    FkKind::Instance => assert_eq!(target_role, Some(TableRole::Instance)),
                    FkKind::Definition => assert_eq!(target_role, Some(TableRole::Definition)),
                    FkKind::Static => assert_eq!(target_role, Some(TableRole::Static)),
                    _ => assert_eq!(target_role, Some(TableRole::Identity), "{}", c.name),
                }
            }
        }
    }

    #[test]
    fn role_tags() {
        let tag = |t: &Table, c: &str| t.column(c).unwrap().role.tag();
        assert_eq!(tag(&PROCESS_TABLE, ID), "key");
        assert_eq!(
            tag(&PROCESS_TABLE, PROCESS_DEF_ID),
            "fk:definition:OSSYS_BPM_PROCESS_DEFINITION"
        );
        assert_eq!(tag(&ACTIVITY_TABLE, USER_ID), "fk:user:OSSYS_USER");
        assert_eq!(tag(&PROCESS_INPUT_TABLE, INPUT_VALUE), "entity-ref:SS_TYPE");
        assert_eq!(tag(&ACTIVITY_TABLE, IS_RUNNING_AT), "scheduler");
        assert_eq!(tag(&ACTIVITY_TABLE, NAME), "value");
    }

    #[test]
    fn lookups_are_case_insensitive() {
        assert_eq!(table("ossys_bpm_process").map(|t| t.name), Some(PROCESS));
        assert_eq!(
            PROCESS_TABLE.column("top_process_id").map(|c| c.name),
            Some(TOP_PROCESS_ID)
        );
        assert!(table("OSSYS_NOPE").is_none());
        assert!(is_osevt("OSEVT_OSUSR_ABC_CANDIDATE"));
        assert!(is_osevt("osevt_user"));
        assert!(!is_osevt("OSEVT_"));
        assert!(!is_osevt("OSSYS_BPM_EVENT"));
    }

    #[test]
    fn definition_fk_of_each_instance_table() {
        let got: Vec<_> = INSTANCE_TABLES.iter().map(definition_fk).collect();
        assert_eq!(
            got,
            vec![
                Some((PROCESS_DEF_ID, PROCESS_DEFINITION)),
                Some((ACTIVITY_DEF_ID, ACTIVITY_DEFINITION)),
                Some((INPUT_DEF_ID, PROCESS_INPUT_DEF)),
                Some((OUTPUT_DEF_ID, PROCESS_OUTPUT_DEF)),
                Some((OUTPUT_DEF_ID, ACTIVITY_OUTPUT_DEF)),
            ]
        );
    }

    #[test]
    fn entity_reference_values_name_an_existing_type_column() {
        for t in INSTANCE_TABLES {
            for c in t.columns {
                if let ColumnRole::EntityRefValue { type_column } = c.role {
                    assert!(t.column(type_column).is_some(), "{}.{}", t.name, c.name);
                }
            }
        }
    }
}
