//! The published applications, identical in both environments: eSpaces, tenants, process
//! definitions, users, groups and the text that exercises escaping.

use super::shapes::{IDENTIFIER_ACTIVITY, IDENTIFIER_DEFINITION};

/// The application table with process events, and its subscription table.
pub const CANDIDATE_TABLE: &str = "OSUSR_3ar_Candidate";
pub const CANDIDATE_EVENT_TABLE: &str = "OSEVT_3ar_Candidate";

#[derive(Clone, Copy)]
pub(super) enum Kind {
    Start = 1,
    End = 2,
    Human = 3,
    Automatic = 4,
    Wait = 5,
    Decision = 6,
    Execute = 7,
    SendEmail = 9,
}

/// A basic type name, the Candidate entity identifier, or an identifier of the entity of
/// this name (`User`, `Process`, ...; see `entities.rs`).
#[derive(Clone, Copy)]
pub(super) enum VarType {
    Basic(&'static str),
    CandidateId,
    Identifier(&'static str),
}

#[derive(Clone, Copy)]
pub(super) struct Var {
    pub(super) name: &'static str,
    pub(super) ty: VarType,
}

pub(super) struct ActDef {
    pub(super) name: &'static str,
    pub(super) kind: Kind,
    pub(super) invokes: Option<&'static str>,
    pub(super) outputs: &'static [Var],
}

pub(super) struct ProcDef {
    pub(super) name: &'static str,
    pub(super) label: &'static str,
    pub(super) espace: &'static str,
    pub(super) active: bool,
    pub(super) in_qa: bool,
    /// Published only with platform shapes on.
    pub(super) platform_shape: bool,
    pub(super) activities: &'static [ActDef],
    pub(super) inputs: &'static [Var],
    pub(super) outputs: &'static [Var],
}

pub(super) const fn act(name: &'static str, kind: Kind) -> ActDef {
    ActDef {
        name,
        kind,
        invokes: None,
        outputs: &[],
    }
}

pub(super) const fn var(name: &'static str, basic: &'static str) -> Var {
    Var {
        name,
        ty: VarType::Basic(basic),
    }
}

pub(super) const CANDIDATE_ID: Var = Var {
    name: "CandidateId",
    ty: VarType::CandidateId,
};

/// eSpaces: (name, user provider, system).
pub(super) const ESPACES: &[(&str, bool, bool)] = &[
    ("ServiceCenter", false, true),
    ("Users", true, false),
    ("Recruitment", false, false),
    ("HRPortal", false, false),
];

pub(super) const TENANTS: &[&str] = &["ServiceCenter", "Users", "AcmeCorp", "Globex"];

pub(super) const PROCESS_DEFS: &[ProcDef] = &[
    ProcDef {
        name: "CandidateSelection",
        label: "Candidate Selection",
        espace: "Recruitment",
        active: true,
        in_qa: true,
        platform_shape: false,
        activities: &[
            act("Start", Kind::Start),
            ActDef {
                name: "ScreenCandidate",
                kind: Kind::Human,
                invokes: None,
                outputs: &[
                    var("Approved", "Boolean"),
                    Var {
                        name: "ReferredCandidateId",
                        ty: VarType::CandidateId,
                    },
                ],
            },
            ActDef {
                name: "Interview",
                kind: Kind::Execute,
                invokes: Some("Interview"),
                outputs: &[],
            },
            act("WaitForDocuments", Kind::Wait),
            act("Decide", Kind::Decision),
            act("End", Kind::End),
        ],
        inputs: &[CANDIDATE_ID, var("Notes", "Text")],
        outputs: &[var("Hired", "Boolean"), var("Summary", "Text")],
    },
    ProcDef {
        name: "Interview",
        label: "Interview",
        espace: "Recruitment",
        active: true,
        in_qa: true,
        platform_shape: false,
        activities: &[
            act("Start", Kind::Start),
            act("ScheduleInterview", Kind::Human),
            ActDef {
                name: "BackgroundCheck",
                kind: Kind::Execute,
                invokes: Some("BackgroundCheck"),
                outputs: &[],
            },
            ActDef {
                name: "ConductInterview",
                kind: Kind::Human,
                invokes: None,
                outputs: &[var("Score", "Decimal")],
            },
            act("End", Kind::End),
        ],
        inputs: &[CANDIDATE_ID, var("Interviewer", "Text")],
        outputs: &[var("Score", "Decimal")],
    },
    ProcDef {
        name: "BackgroundCheck",
        label: "Background Check",
        espace: "Recruitment",
        active: true,
        in_qa: true,
        platform_shape: false,
        activities: &[
            act("Start", Kind::Start),
            act("VerifyRecords", Kind::Automatic),
            act("End", Kind::End),
        ],
        inputs: &[CANDIDATE_ID],
        outputs: &[var("Clean", "Boolean")],
    },
    ProcDef {
        name: "Onboarding",
        label: "Employee Onboarding",
        espace: "HRPortal",
        active: true,
        in_qa: true,
        platform_shape: false,
        activities: &[
            act("Start", Kind::Start),
            act("PrepareDesk", Kind::Human),
            act("SendWelcome", Kind::SendEmail),
            act("End", Kind::End),
        ],
        inputs: &[var("EmployeeName", "Text"), var("StartDate", "Date")],
        outputs: &[var("Done", "Boolean")],
    },
    ProcDef {
        name: "LegacyApproval",
        label: "Legacy Approval",
        espace: "HRPortal",
        active: false,
        in_qa: true,
        platform_shape: false,
        activities: &[
            act("Start", Kind::Start),
            act("Approve", Kind::Human),
            act("End", Kind::End),
        ],
        inputs: &[var("RequestId", "Integer")],
        outputs: &[],
    },
    ProcDef {
        name: "ProdOnlyAudit",
        label: "Audit (prod only)",
        espace: "HRPortal",
        active: true,
        in_qa: false,
        platform_shape: false,
        activities: &[
            act("Start", Kind::Start),
            act("Review", Kind::Human),
            act("End", Kind::End),
        ],
        inputs: &[var("AuditRef", "Text")],
        outputs: &[],
    },
    ProcDef {
        name: IDENTIFIER_DEFINITION,
        label: "Access Review",
        espace: "HRPortal",
        active: true,
        in_qa: true,
        platform_shape: true,
        activities: &[
            act("Start", Kind::Start),
            ActDef {
                name: IDENTIFIER_ACTIVITY,
                kind: Kind::Human,
                invokes: None,
                outputs: &[id_var("Delegate", "User"), id_var("Escalated", "Activity")],
            },
            act("End", Kind::End),
        ],
        inputs: &[
            id_var("Reviewer", "User"),
            id_var("ReviewGroup", "Group"),
            id_var("ReviewTenant", "Tenant"),
            id_var("RelatedProcess", "Process"),
            id_var("RelatedActivity", "Activity"),
        ],
        outputs: &[id_var("ApprovedBy", "User"), id_var("FollowUp", "Process")],
    },
];

/// A variable holding an identifier of the entity called `entity`.
const fn id_var(name: &'static str, entity: &'static str) -> Var {
    Var {
        name,
        ty: VarType::Identifier(entity),
    }
}

/// Names of the process definitions, for tests and docs.
pub fn process_definition_names() -> impl Iterator<Item = &'static str> {
    PROCESS_DEFS.iter().map(|d| d.name)
}

/// The process definition that exists in prod only.
pub const PROD_ONLY_DEFINITION: &str = "ProdOnlyAudit";
/// The inactive process definition that still has instances.
pub const INACTIVE_DEFINITION: &str = "LegacyApproval";

/// Usernames: (username, display name, tenant, in prod, in qa).
pub(super) const USERS: &[(&str, &str, &str, bool, bool)] = &[
    ("admin", "Administrator", "ServiceCenter", true, true),
    ("maria.silva", "Maria Silva", "Users", true, true),
    ("john.doe", "John Doe", "Users", true, true),
    ("siobhan.obrien", "Siobhán O'Brien", "Users", true, true),
    ("zoe.angstrom", "Zoë \"Zed\" Ångström", "Users", true, true),
    ("tanaka.yuki", "田中 由紀", "Users", true, true),
    ("prod.only", "Left The Company", "Users", true, false),
    ("ops.bot", "Ops 🤖 Bot", "Users", true, false),
    ("acme.manager", "Acme Manager", "AcmeCorp", true, true),
    ("acme.clerk", "Acme Clerk", "AcmeCorp", true, false),
    ("globex.lead", "Globex Lead", "Globex", true, true),
    ("qa.lead", "QA Lead", "Users", false, true),
    ("qa.tester", "QA Tester", "Users", false, true),
];

/// Groups: (name, tenant, in qa).
pub(super) const GROUPS: &[(&str, &str, bool)] = &[
    ("Recruiters", "Users", true),
    ("Managers", "Users", true),
    ("Interviewers", "Users", false),
    ("Recruiters", "AcmeCorp", true),
    ("HR", "Globex", true),
];

/// Labels and values that exercise escaping and encodings.
pub(super) const AWKWARD: &[&str] = &[
    "O'Brien, Siobhán",
    "Zoë \"Zed\" Ångström",
    "日本語のラベル",
    "Emoji 🚀 and 𝄞 outside the BMP",
    "semi;colon, comma, back\\slash",
    "line one\nline two\ttabbed",
    "'; DROP TABLE OSSYS_USER; --",
    "",
];
