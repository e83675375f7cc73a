//! The types the catalog is written in: tables, columns and their roles.

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
