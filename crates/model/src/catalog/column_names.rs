//! The names of the platform columns bptmig reads or writes.

pub const ID: &str = "ID";
pub const TENANT_ID: &str = "TENANT_ID";
pub const NAME: &str = "NAME";
pub const LABEL: &str = "LABEL";
pub const SS_KEY: &str = "SS_KEY";
pub const SS_TYPE: &str = "SS_TYPE";
pub const IS_ACTIVE: &str = "IS_ACTIVE";
/// `IS_LOCKED` of a process definition or an eSpace: the scheduler runs nothing of a locked
/// one. Not every platform version has it (read as unlocked when absent).
pub const IS_LOCKED: &str = "IS_LOCKED";
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

pub const ENTITY_ID: &str = "ENTITY_ID";
/// `OSSYS_ENTITY_ATTR.TYPE`: `rt<basic type>`, or `bt<eSpace SS_KEY>*<entity SS_KEY>` for a
/// reference to that entity.
pub const TYPE: &str = "TYPE";
/// `OSSYS_ENTITY_ATTR.DATABASE_NAME`: the attribute's physical column name.
pub const DATABASE_NAME: &str = "DATABASE_NAME";

pub const DATA_ID: &str = "DATA_ID";
pub const ENTITY_RECORD_ID: &str = "ENTITY_RECORD_ID";
pub const ENQUEUE_TIME: &str = "ENQUEUE_TIME";

pub const EVT_ESPACE_ID: &str = "_ESPACE_ID";
pub const EVT_TENANT_ID: &str = "_TENANT_ID";
pub const EVT_ACTIVITY_ID: &str = "_ACTIVITY_ID";
pub const EVT_PROCESS_DEF_ID: &str = "_PROCESS_DEF_ID";
pub const EVT_IS_UPDATE: &str = "_IS_UPDATE";
pub const EVT_IS_LIGHT: &str = "_IS_LIGHT";
