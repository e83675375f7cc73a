//! The shapes of a real platform that prod carries with [`EnvSpec::platform_shapes`] on
//! (issue 13), named so that tests find them without hard-coding IDs: identifiers of system
//! entities inside values, a multi-tenant application entity with a reference attribute in
//! its event table, a system event table, and broken trees.
//!
//! What [`generate`](super::generate) made is in [`Dataset::shapes`](super::Dataset):
//! every identifier value with the case it exercises ([`ShapedValue`]) and every broken tree
//! with its processes ([`BrokenTree`]).
//!
//! [`EnvSpec::platform_shapes`]: super::EnvSpec::platform_shapes

/// The process definition (eSpace `HRPortal`, in both environments) whose variables are
/// identifiers of system entities; published only with platform shapes on.
pub const IDENTIFIER_DEFINITION: &str = "AccessReview";
/// Its human activity: open in every active instance, with the outputs below.
pub const IDENTIFIER_ACTIVITY: &str = "Review";

/// Inputs of [`IDENTIFIER_DEFINITION`]: (name, entity). The entity names are those of
/// `OSSYS_ENTITY.NAME`.
pub const IDENTIFIER_INPUTS: &[(&str, &str)] = &[
    ("Reviewer", "User"),
    ("ReviewGroup", "Group"),
    ("ReviewTenant", "Tenant"),
    ("RelatedProcess", "Process"),
    ("RelatedActivity", "Activity"),
];
/// Outputs of [`IDENTIFIER_DEFINITION`] (closed instances only).
pub const IDENTIFIER_OUTPUTS: &[(&str, &str)] = &[("ApprovedBy", "User"), ("FollowUp", "Process")];
/// Outputs of [`IDENTIFIER_ACTIVITY`].
pub const IDENTIFIER_ACTIVITY_OUTPUTS: &[(&str, &str)] =
    &[("Delegate", "User"), ("Escalated", "Activity")];

/// The system event table (the six fixed columns, `ID`, `TENANT_ID`): open `Review`
/// activities subscribing updates of a user. In both schemas; rows in prod only, named by
/// `OSSYS_ENTITY.EVENT_TABLE_NAME` (entity `User`) only with platform shapes on.
pub const USER_EVENT_TABLE: &str = "OSEVT_USER";
/// A multi-tenant application entity whose event table carries `TENANT_ID` and two reference
/// attributes: `CANDIDATE_ID` (→ Candidate) and `RECRUITER_ID` (→ User).
pub const JOB_OFFER_TABLE: &str = "OSUSR_3ar_JobOffer";
/// Its event table: open Human and Wait activities of Recruitment subscribing job offers.
pub const JOB_OFFER_EVENT_TABLE: &str = "OSEVT_3ar_JobOffer";

/// The process definition that qa has locked (`IS_LOCKED = 1`): prod's open instances of it
/// will never run there. Locked only with platform shapes on.
pub const LOCKED_DEFINITION: &str = "Onboarding";
/// The tenant that qa has deactivated (`IS_ACTIVE = 0`): prod's open processes of it will
/// never run there. Inactive only with platform shapes on.
pub const INACTIVE_TENANT: &str = "Globex";
/// The activity definitions whose open instances in prod have a `NEXT_RUN` in the past, the
/// moment they were due (every open Wait, and with platform shapes on every open Automatic
/// activity): the target's scheduler runs them as soon as it sees them.
pub const PAST_NEXT_RUN_KINDS: &[&str] = &["Wait", "Automatic Activity"];

/// An identifier value that points at something that cannot be missed by number: no table
/// of the sandbox holds this ID.
pub const NOWHERE_ID: i64 = 1_900_000_001;
/// The one identifier value that is not an integer.
pub const NOT_AN_INTEGER: &str = "12x";

/// What an identifier value inside a process input, process output or activity output
/// points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ValueCase {
    /// A user, group or tenant that qa has under the same natural key (username + tenant,
    /// group name + tenant, tenant name), or a process or activity of a tree that moves.
    Matched,
    /// A prod-only user (`prod.only`, `ops.bot`) or group (`Interviewers`), a tenant ID
    /// that exists nowhere, or a process or activity of a tree of the prod-only definition
    /// (skipped as `unmapped_definition = "skip-tree"` skips it).
    Outside,
    /// A process or activity of a broken tree (when prod has broken trees).
    BrokenTree,
    /// An ID that exists in no table ([`NOWHERE_ID`]).
    Nowhere,
    /// The platform's null identifier `0`.
    Zero,
    /// The platform's null identifier as empty text.
    Empty,
    /// Not an integer ([`NOT_AN_INTEGER`]); only the `Reviewer` input of one instance.
    NotInteger,
}

/// One identifier value generated into prod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapedValue {
    /// `OSSYS_BPM_PROCESS_INPUT`, `OSSYS_BPM_PROCESS_OUTPUT` or `OSSYS_BPM_ACTIVITY_OUTPUT`.
    pub table: &'static str,
    /// The row's `ID`.
    pub row_id: i64,
    /// The variable (`NAME`).
    pub variable: &'static str,
    /// The entity (`OSSYS_ENTITY.NAME`: User, Group, Tenant, Process, Activity).
    pub entity: &'static str,
    /// The text stored.
    pub value: String,
    pub case: ValueCase,
}

/// The kind of damage a broken tree has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BrokenKind {
    /// A sub-process whose `PARENT_PROCESS_ID` names a process that does not exist (its
    /// `PARENT_ACTIVITY_ID` is NULL; its top, a well-formed root, exists).
    MissingParent,
    /// A process with no parent whose `TOP_PROCESS_ID` names a process that does not exist
    /// (a purge that deleted the root first).
    MissingTop,
    /// A sub-process whose `TOP_PROCESS_ID` is another existing root, not its parent's top.
    TopDisagrees,
    /// Three processes each the parent of the next, the first with `TOP_PROCESS_ID = ID`
    /// but a parent, the others' top the first.
    Cycle,
}

/// A broken tree of prod: every process of it (all rows of these processes are otherwise
/// consistent: activities, inputs and outputs point at them as usual).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenTree {
    pub kind: BrokenKind,
    /// The IDs of its processes; the damaged one first.
    pub processes: Vec<i64>,
    /// The missing process it names, if any.
    pub missing: Option<i64>,
    pub description: &'static str,
}

/// What prod's generated data holds of these shapes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shapes {
    pub values: Vec<ShapedValue>,
    pub broken: Vec<BrokenTree>,
}

impl Shapes {
    /// The broken tree of `kind`.
    pub fn broken(&self, kind: BrokenKind) -> Option<&BrokenTree> {
        self.broken.iter().find(|b| b.kind == kind)
    }

    /// The values of `case`.
    pub fn values_of(&self, case: ValueCase) -> impl Iterator<Item = &ShapedValue> + '_ {
        self.values.iter().filter(move |v| v.case == case)
    }
}
