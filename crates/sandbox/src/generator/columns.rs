//! The columns the history tables are generated with, and the status IDs they use.

use bptmig_model::catalog as c;

use super::applications::CANDIDATE_EVENT_TABLE;

/// The tables history is generated into, in load order: the model's instance tables, then
/// the Candidate subscriptions.
pub const HISTORY_TABLES: &[&str] = &[
    c::PROCESS,
    c::ACTIVITY,
    c::PROCESS_INPUT,
    c::PROCESS_OUTPUT,
    c::ACTIVITY_OUTPUT,
    CANDIDATE_EVENT_TABLE,
];

pub(super) const PROCESS_COLUMNS: &[&str] = &[
    c::ID,
    c::TENANT_ID,
    c::LABEL,
    c::CREATED,
    c::CREATED_BY,
    c::PROCESS_DEF_ID,
    c::PARENT_PROCESS_ID,
    c::PARENT_ACTIVITY_ID,
    c::TOP_PROCESS_ID,
    c::STATUS_ID,
    c::LAST_MODIFIED,
    c::LAST_MODIFIED_BY,
    c::SUSPENDED_DATE,
    c::SUSPENDED_BY,
    UNKNOWN_DECIMAL_COLUMN,
];

/// A column of `OSSYS_BPM_PROCESS` that the model does not know, as a newer platform version
/// might add: the tool must carry it through as a plain value. Exercises `DECIMAL(37,8)`.
pub const UNKNOWN_DECIMAL_COLUMN: &str = "PROCESS_COST";

/// Extreme and ordinary `DECIMAL(37,8)` values (37 digits at most, 8 after the point).
pub(super) const DECIMALS: &[i128] = &[
    9_999_999_999_999_999_999_999_999_999_999_999_999,
    -9_999_999_999_999_999_999_999_999_999_999_999_999,
    0,
    1,
    -1,
    12_345_678_901_234,
];

pub(super) const ACTIVITY_COLUMNS: &[&str] = &[
    c::ID,
    c::TENANT_ID,
    c::ACTIVITY_DEF_ID,
    c::PROCESS_ID,
    c::NAME,
    c::USER_ID,
    c::CREATED,
    c::OPENED,
    c::CLOSED,
    c::STATUS_ID,
    c::IS_RUNNING_SINCE,
    c::IS_RUNNING_AT,
    c::NEXT_RUN,
    c::PRECEDENT_ACTIVITY_ID,
    c::PRECEDENT_OUTCOME,
    c::DUE_DATE,
    c::INBOX_DETAIL,
    c::EXPIRED,
    c::SKIPPED,
    c::ERROR_COUNT,
    c::LAST_ERROR_ID,
    c::LAST_MODIFIED,
    c::GROUP_ID,
];

pub(super) const PROCESS_INPUT_COLUMNS: &[&str] = &[
    c::ID,
    c::TENANT_ID,
    c::INPUT_DEF_ID,
    c::PROCESS_ID,
    c::SS_KEY,
    c::NAME,
    c::DATA_TYPE,
    c::INPUT_VALUE,
    c::SS_TYPE,
];
pub(super) const PROCESS_OUTPUT_COLUMNS: &[&str] = &[
    c::ID,
    c::TENANT_ID,
    c::OUTPUT_DEF_ID,
    c::PROCESS_ID,
    c::SS_KEY,
    c::NAME,
    c::DATA_TYPE,
    c::OUTPUT_VALUE,
    c::SS_TYPE,
];
pub(super) const ACTIVITY_OUTPUT_COLUMNS: &[&str] = &[
    c::ID,
    c::TENANT_ID,
    c::OUTPUT_DEF_ID,
    c::ACTIVITY_ID,
    c::SS_KEY,
    c::NAME,
    c::DATA_TYPE,
    c::OUTPUT_VALUE,
    c::SS_TYPE,
];
pub(super) const EVENT_COLUMNS: &[&str] = &[
    c::EVT_ESPACE_ID,
    c::EVT_TENANT_ID,
    c::EVT_ACTIVITY_ID,
    c::EVT_PROCESS_DEF_ID,
    c::EVT_IS_UPDATE,
    c::EVT_IS_LIGHT,
    c::ID,
    c::TENANT_ID,
];

/// The columns of the job-offer subscriptions: the fixed ones, then the entity's filters.
pub(super) const JOB_OFFER_EVENT_COLUMNS: &[&str] = &[
    c::EVT_ESPACE_ID,
    c::EVT_TENANT_ID,
    c::EVT_ACTIVITY_ID,
    c::EVT_PROCESS_DEF_ID,
    c::EVT_IS_UPDATE,
    c::EVT_IS_LIGHT,
    c::ID,
    c::TENANT_ID,
    "CANDIDATE_ID",
    "RECRUITER_ID",
];

/// Process statuses.
pub const PROCESS_ACTIVE: i64 = 1;
pub const PROCESS_CLOSED: i64 = 2;
pub const PROCESS_SUSPENDED: i64 = 3;
pub const PROCESS_TERMINATED: i64 = 4;
/// Activity statuses.
pub const ACTIVITY_CLOSED: i64 = 5;
pub const ACTIVITY_TERMINATED: i64 = 6;
pub const ACTIVITY_LISTENING: i64 = 8;
pub const ACTIVITY_READY: i64 = 9;
pub const ACTIVITY_RUNNING: i64 = 2;
