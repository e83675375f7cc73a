//! `const fn` shorthands the table definitions are written with.

use super::column_names::{ID, SS_KEY, SS_TYPE, TENANT_ID};
use super::table_names::TENANT;
use super::{Column, ColumnRole, FkKind};

pub(super) const fn key() -> Column {
    Column {
        name: ID,
        role: ColumnRole::Key,
        nullable: false,
    }
}

pub(super) const fn fk(
    name: &'static str,
    kind: FkKind,
    table: &'static str,
    nullable: bool,
) -> Column {
    Column {
        name,
        role: ColumnRole::Fk { kind, table },
        nullable,
    }
}

pub(super) const fn val(name: &'static str, nullable: bool) -> Column {
    Column {
        name,
        role: ColumnRole::Value,
        nullable,
    }
}

pub(super) const fn sched(name: &'static str) -> Column {
    Column {
        name,
        role: ColumnRole::SchedulerState,
        nullable: true,
    }
}

pub(super) const fn ss_key() -> Column {
    Column {
        name: SS_KEY,
        role: ColumnRole::SsKey,
        nullable: true,
    }
}

pub(super) const fn entity_value(name: &'static str) -> Column {
    Column {
        name,
        role: ColumnRole::EntityRefValue {
            type_column: SS_TYPE,
        },
        nullable: true,
    }
}

pub(super) const fn tenant() -> Column {
    fk(TENANT_ID, FkKind::Tenant, TENANT, true)
}
