//! The names of the platform tables.

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
pub const ENTITY_ATTR: &str = "OSSYS_ENTITY_ATTR";
pub const USER: &str = "OSSYS_USER";
pub const GROUP: &str = "OSSYS_GROUP";
pub const TENANT: &str = "OSSYS_TENANT";

/// Prefix of the per-entity event subscription tables.
pub const OSEVT_PREFIX: &str = "OSEVT_";
/// Prefix of application tables (user entities).
pub const OSUSR_PREFIX: &str = "OSUSR_";
