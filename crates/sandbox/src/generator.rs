//! A deterministic generator of two OutSystems environments that share their published
//! applications: **prod**, with process history, and **qa**, with the same eSpaces and
//! definitions (same SS_KEYs) under other numeric IDs, its own users and tenants, and little
//! history.
//!
//! Everything is derived from [`EnvSpec`]: the same spec always gives the same rows. The
//! result is a [`Dataset`]: tables of [`Lit`] rows in an order that satisfies every FK, which
//! [`crate::seed`] inserts and which tests can inspect.

use std::collections::BTreeMap;

use bptmig_model::catalog as c;

use crate::sql::{datetime, Lit};

/// Which environment to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvKind {
    Prod,
    Qa,
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct EnvSpec {
    /// Seed of every random choice.
    pub seed: u64,
    /// Top-level processes of prod's history (sub-processes come on top).
    pub processes: usize,
    /// Top-level processes already in qa.
    pub qa_processes: usize,
    /// Leave one row in `OSSYS_BPM_EVENT_QUEUE` (a scheduler that has not drained).
    pub pending_event: bool,
}

impl Default for EnvSpec {
    fn default() -> Self {
        Self {
            seed: 11,
            processes: 120,
            qa_processes: 4,
            pending_event: false,
        }
    }
}

/// Rows of one table, inserted together.
#[derive(Debug, Clone)]
pub struct TableRows {
    pub table: &'static str,
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<Lit>>,
    /// The rows carry explicit values for an identity `ID` column.
    pub explicit_ids: bool,
}

impl TableRows {
    fn new(table: &'static str, columns: &[&'static str], explicit_ids: bool) -> Self {
        Self {
            table,
            columns: columns.to_vec(),
            rows: Vec::new(),
            explicit_ids,
        }
    }

    fn push(&mut self, row: Vec<Lit>) {
        debug_assert_eq!(row.len(), self.columns.len(), "{}", self.table);
        self.rows.push(row);
    }

    /// The value of `column` in every row.
    pub fn column(&self, column: &str) -> impl Iterator<Item = &Lit> + '_ {
        let i = self
            .columns
            .iter()
            .position(|c| c.eq_ignore_ascii_case(column));
        self.rows.iter().filter_map(move |r| i.map(|i| &r[i]))
    }
}

/// A generated environment, in insertion order.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub kind: EnvKind,
    pub tables: Vec<TableRows>,
}

impl Dataset {
    /// Rows generated for `table` (summed over its insertion groups).
    pub fn count(&self, table: &str) -> usize {
        self.groups(table).map(|t| t.rows.len()).sum()
    }

    /// The insertion groups of `table`.
    pub fn groups<'a>(&'a self, table: &'a str) -> impl Iterator<Item = &'a TableRows> + 'a {
        self.tables
            .iter()
            .filter(move |t| t.table.eq_ignore_ascii_case(table))
    }

    /// Every row of `table` as a map column → value.
    pub fn rows(&self, table: &str) -> Vec<BTreeMap<&'static str, Lit>> {
        self.groups(table)
            .flat_map(|g| {
                g.rows.iter().map(|r| {
                    g.columns
                        .iter()
                        .copied()
                        .zip(r.iter().cloned())
                        .collect::<BTreeMap<_, _>>()
                })
            })
            .collect()
    }
}

// ---- where history goes ----------------------------------------------------------------------

/// Receives generated history rows, table by table, each table in increasing ID order.
pub trait Sink {
    /// One row of `table` with values for `columns`, at tree `level` (processes and
    /// activities; 0 for everything else).
    fn row(
        &mut self,
        table: &'static str,
        columns: &'static [&'static str],
        level: usize,
        row: Vec<Lit>,
    );
}

/// Keeps history in memory as insertion groups: processes and activities level by level
/// (each level's processes reference activities of the level above), then the rest.
#[derive(Default)]
struct MemorySink {
    levels: Vec<(TableRows, TableRows)>,
    rest: Vec<TableRows>,
}

impl Sink for MemorySink {
    fn row(
        &mut self,
        table: &'static str,
        columns: &'static [&'static str],
        level: usize,
        row: Vec<Lit>,
    ) {
        let group = if table == c::PROCESS || table == c::ACTIVITY {
            while self.levels.len() <= level {
                self.levels.push((
                    TableRows::new(c::PROCESS, PROCESS_COLUMNS, true),
                    TableRows::new(c::ACTIVITY, ACTIVITY_COLUMNS, true),
                ));
            }
            let (p, a) = &mut self.levels[level];
            if table == c::PROCESS {
                p
            } else {
                a
            }
        } else {
            match self.rest.iter().position(|t| t.table == table) {
                Some(i) => &mut self.rest[i],
                None => {
                    self.rest.push(TableRows::new(
                        table,
                        columns,
                        table != CANDIDATE_EVENT_TABLE,
                    ));
                    let last = self.rest.len() - 1;
                    &mut self.rest[last]
                }
            }
        };
        group.push(row);
    }
}

impl MemorySink {
    fn into_tables(self, tables: &mut Vec<TableRows>) {
        for (p, a) in self.levels {
            tables.push(p);
            tables.push(a);
        }
        let order = [
            c::PROCESS_INPUT,
            c::PROCESS_OUTPUT,
            c::ACTIVITY_OUTPUT,
            CANDIDATE_EVENT_TABLE,
        ];
        let mut rest = self.rest;
        rest.sort_by_key(|t| order.iter().position(|o| *o == t.table));
        tables.extend(rest);
    }
}

// ---- the published applications (identical in both environments) ------------------------

/// The application table with process events, and its subscription table.
pub const CANDIDATE_TABLE: &str = "OSUSR_3AR_CANDIDATE";
pub const CANDIDATE_EVENT_TABLE: &str = "OSEVT_OSUSR_3AR_CANDIDATE";

#[derive(Clone, Copy)]
enum Kind {
    Start = 1,
    End = 2,
    Human = 3,
    Automatic = 4,
    Wait = 5,
    Decision = 6,
    Execute = 7,
    SendEmail = 9,
}

/// A basic type name, or the Candidate entity identifier.
#[derive(Clone, Copy)]
enum VarType {
    Basic(&'static str),
    CandidateId,
}

#[derive(Clone, Copy)]
struct Var {
    name: &'static str,
    ty: VarType,
}

struct ActDef {
    name: &'static str,
    kind: Kind,
    invokes: Option<&'static str>,
    outputs: &'static [Var],
}

struct ProcDef {
    name: &'static str,
    label: &'static str,
    espace: &'static str,
    active: bool,
    in_qa: bool,
    activities: &'static [ActDef],
    inputs: &'static [Var],
    outputs: &'static [Var],
}

const fn act(name: &'static str, kind: Kind) -> ActDef {
    ActDef {
        name,
        kind,
        invokes: None,
        outputs: &[],
    }
}

const fn var(name: &'static str, basic: &'static str) -> Var {
    Var {
        name,
        ty: VarType::Basic(basic),
    }
}

const CANDIDATE_ID: Var = Var {
    name: "CandidateId",
    ty: VarType::CandidateId,
};

/// eSpaces: (name, user provider, system).
const ESPACES: &[(&str, bool, bool)] = &[
    ("ServiceCenter", false, true),
    ("Users", true, false),
    ("Recruitment", false, false),
    ("HRPortal", false, false),
];

const TENANTS: &[&str] = &["ServiceCenter", "Users", "AcmeCorp", "Globex"];

const PROCESS_DEFS: &[ProcDef] = &[
    ProcDef {
        name: "CandidateSelection",
        label: "Candidate Selection",
        espace: "Recruitment",
        active: true,
        in_qa: true,
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
        activities: &[
            act("Start", Kind::Start),
            act("Review", Kind::Human),
            act("End", Kind::End),
        ],
        inputs: &[var("AuditRef", "Text")],
        outputs: &[],
    },
];

/// Names of the process definitions, for tests and docs.
pub fn process_definition_names() -> impl Iterator<Item = &'static str> {
    PROCESS_DEFS.iter().map(|d| d.name)
}

/// The process definition that exists in prod only.
pub const PROD_ONLY_DEFINITION: &str = "ProdOnlyAudit";
/// The inactive process definition that still has instances.
pub const INACTIVE_DEFINITION: &str = "LegacyApproval";

/// Usernames: (username, display name, tenant, in prod, in qa).
const USERS: &[(&str, &str, &str, bool, bool)] = &[
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
const GROUPS: &[(&str, &str, bool)] = &[
    ("Recruiters", "Users", true),
    ("Managers", "Users", true),
    ("Interviewers", "Users", false),
    ("Recruiters", "AcmeCorp", true),
    ("HR", "Globex", true),
];

/// Labels and values that exercise escaping and encodings.
const AWKWARD: &[&str] = &[
    "O'Brien, Siobhán",
    "Zoë \"Zed\" Ångström",
    "日本語のラベル",
    "Emoji 🚀 and 𝄞 outside the BMP",
    "semi;colon, comma, back\\slash",
    "line one\nline two\ttabbed",
    "'; DROP TABLE OSSYS_USER; --",
    "",
];

// ---- random numbers ----------------------------------------------------------------------

/// splitmix64: tiny, fast and plenty for test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// A GUID-shaped key derived from a name: identical in every environment, like the SS_KEYs
/// the platform copies between them.
pub fn ss_key(name: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut r = Rng(h);
    let (a, b) = (r.next(), r.next());
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        (b >> 48) & 0x3fff | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

/// SS_KEY of a process input definition; instances copy it. The platform keys some inputs
/// as `<process key>.#<name>` (56+ characters), the rest with a GUID.
fn input_key(process: &str, input: &str) -> String {
    if input == "Notes" {
        format!("{}.#{input}", ss_key(&format!("process:{process}")))
    } else {
        ss_key(&format!("input:{process}.{input}"))
    }
}

/// SS_KEY of a process output definition; instances copy it.
fn output_key(process: &str, output: &str) -> String {
    ss_key(&format!("output:{process}.{output}"))
}

/// SS_KEY of an activity output definition; instances copy it.
fn activity_output_key(process: &str, activity: &str, output: &str) -> String {
    ss_key(&format!("actout:{process}.{activity}.{output}"))
}

// ---- ID allocation -----------------------------------------------------------------------

/// Hands out increasing IDs, with gaps where `gappy` (deleted rows leave holes in real data).
struct Ids {
    next: i64,
    gappy: bool,
}

impl Ids {
    fn new(start: i64, gappy: bool) -> Self {
        Self { next: start, gappy }
    }

    fn take(&mut self, rng: &mut Rng) -> i64 {
        let id = self.next;
        self.next += if self.gappy && rng.chance(15) {
            1 + rng.below(3) as i64
        } else {
            1
        };
        id
    }
}

// ---- the generator -----------------------------------------------------------------------

/// Numeric IDs of the published rows of one environment, by name.
#[derive(Default)]
struct PublishedIds {
    espace: BTreeMap<&'static str, i64>,
    tenant: BTreeMap<&'static str, i64>,
    user: BTreeMap<&'static str, i64>,
    group: BTreeMap<(&'static str, &'static str), i64>,
    process_def: BTreeMap<&'static str, i64>,
    input_def: BTreeMap<(&'static str, &'static str), i64>,
    output_def: BTreeMap<(&'static str, &'static str), i64>,
    activity_def: BTreeMap<(&'static str, &'static str), i64>,
    activity_output_def: BTreeMap<(&'static str, &'static str, &'static str), i64>,
    candidate_entity: i64,
}

/// Generates one environment, history included, in memory.
pub fn generate(kind: EnvKind, spec: &EnvSpec) -> Dataset {
    let mut env = generate_published(kind, spec);
    let mut sink = MemorySink::default();
    env.history(spec, &mut sink);
    let mut tables = std::mem::take(&mut env.tables);
    sink.into_tables(&mut tables);
    if spec.pending_event {
        tables.push(env.pending_event());
    }
    Dataset { kind, tables }
}

/// An environment whose applications are published and whose history is still to come.
pub struct Published {
    kind: EnvKind,
    rng: Rng,
    ids: PublishedIds,
    candidates: Vec<i64>,
    /// Static, identity, definition and application rows, in insertion order.
    pub tables: Vec<TableRows>,
}

/// Publishes the applications of `kind`: static rows, eSpaces, tenants, users, groups,
/// entities, definitions and Candidate rows.
pub fn generate_published(kind: EnvKind, spec: &EnvSpec) -> Published {
    let mut rng = Rng(spec.seed
        ^ if kind == EnvKind::Prod {
            0x5052_4f44
        } else {
            0x5141
        });
    let mut tables = statics();
    let ids = publish(kind, &mut rng, &mut tables);
    let candidates = candidates(kind, spec, &mut rng, &mut tables);
    Published {
        kind,
        rng,
        ids,
        candidates,
        tables,
    }
}

impl Published {
    /// Generates the history (`spec.processes` roots in prod, `spec.qa_processes` in qa) into
    /// `sink`, streaming: nothing but the published rows is kept.
    pub fn history(&mut self, spec: &EnvSpec, sink: &mut dyn Sink) {
        let roots = match self.kind {
            EnvKind::Prod => spec.processes,
            EnvKind::Qa => spec.qa_processes,
        };
        let candidates = std::mem::take(&mut self.candidates);
        History::new(
            self.kind,
            &self.ids,
            candidates.clone(),
            &mut self.rng,
            sink,
        )
        .generate(roots);
        self.candidates = candidates;
    }

    fn pending_event(&self) -> TableRows {
        let mut q = TableRows::new(
            c::EVENT_QUEUE,
            &[
                c::ESPACE_ID,
                c::TENANT_ID,
                c::DATA_ID,
                c::ENQUEUE_TIME,
                c::ERROR_COUNT,
                c::NEXT_RUN,
            ],
            false,
        );
        let now = datetime(2019, 12, 1, 8, 0, 0);
        q.push(vec![
            Lit::Int(self.ids.espace["Recruitment"]),
            Lit::Int(self.ids.tenant["Users"]),
            Lit::text("1"),
            Lit::DateTime(now),
            Lit::Int(0),
            Lit::DateTime(now),
        ]);
        q
    }
}

/// Platform-seeded rows, identical in every environment.
const PROCESS_STATUSES: &[(i64, &str, bool)] = &[
    (1, "Active", false),
    (2, "Closed", true),
    (3, "Suspended", false),
    (4, "Terminated", true),
];
const ACTIVITY_STATUSES: &[(i64, &str, bool, bool)] = &[
    (1, "Scheduled", false, false),
    (2, "Running", false, false),
    (3, "Waiting", false, false),
    (4, "Error", false, false),
    (5, "Closed", true, false),
    (6, "Terminated", true, false),
    (7, "Suspended", false, false),
    (8, "Listening", false, false),
    (9, "Ready", false, true),
];
const ACTIVITY_KINDS: &[(i64, &str)] = &[
    (1, "Start"),
    (2, "End"),
    (3, "Human Activity"),
    (4, "Automatic Activity"),
    (5, "Wait"),
    (6, "Decision"),
    (7, "Execute Process"),
    (8, "Conditional Start"),
    (9, "Send Email"),
];

fn statics() -> Vec<TableRows> {
    let mut ps = TableRows::new(c::PROCESS_STATUS, &[c::ID, c::NAME, c::IS_TERMINAL], false);
    for (id, name, terminal) in PROCESS_STATUSES {
        ps.push(vec![Lit::Int(*id), Lit::text(*name), Lit::Bool(*terminal)]);
    }
    let mut acs = TableRows::new(
        c::ACTIVITY_STATUS,
        &[c::ID, c::NAME, c::IS_TERMINAL, "APPEARS_IN_INBOX"],
        false,
    );
    for (id, name, terminal, inbox) in ACTIVITY_STATUSES {
        acs.push(vec![
            Lit::Int(*id),
            Lit::text(*name),
            Lit::Bool(*terminal),
            Lit::Bool(*inbox),
        ]);
    }
    let mut kinds = TableRows::new(c::ACTIVITY_KIND, &[c::ID, c::NAME], false);
    for (id, name) in ACTIVITY_KINDS {
        kinds.push(vec![Lit::Int(*id), Lit::text(*name)]);
    }
    vec![ps, acs, kinds]
}

const EMPTY_DATE: Lit = Lit::DateTime(0);

/// Writes eSpaces, tenants, users, groups, entities and definitions.
fn publish(kind: EnvKind, rng: &mut Rng, tables: &mut Vec<TableRows>) -> PublishedIds {
    let prod = kind == EnvKind::Prod;
    let mut p = PublishedIds::default();
    // qa published in another order and with rows of its own first, so every numeric ID
    // differs from prod's while names and SS_KEYs agree.
    let ids =
        |start_prod: i64, start_qa: i64| Ids::new(if prod { start_prod } else { start_qa }, !prod);

    let mut espaces = TableRows::new(
        c::ESPACE,
        &[
            c::ID,
            c::NAME,
            c::SS_KEY,
            c::IS_ACTIVE,
            "IS_MULTITENANT",
            "IS_USER_PROVIDER",
            "VERSION_ID",
        ],
        true,
    );
    let mut e_ids = ids(1, 3);
    let order: Vec<usize> = if prod {
        (0..ESPACES.len()).collect()
    } else {
        (0..ESPACES.len()).rev().collect()
    };
    for i in order {
        let (name, provider, _system) = ESPACES[i];
        let id = e_ids.take(rng);
        p.espace.insert(name, id);
        espaces.push(vec![
            Lit::Int(id),
            Lit::text(name),
            Lit::text(ss_key(&format!("espace:{name}"))),
            Lit::Bool(true),
            Lit::Bool(name == "HRPortal"),
            Lit::Bool(provider),
            Lit::Int(100 + id),
        ]);
    }
    tables.push(espaces);

    let mut tenants = TableRows::new(
        c::TENANT,
        &[c::ID, c::NAME, c::ESPACE_ID, c::IS_ACTIVE],
        true,
    );
    let mut t_ids = ids(1, 10);
    let order: Vec<usize> = if prod {
        vec![0, 1, 2, 3]
    } else {
        vec![1, 0, 3, 2]
    };
    for i in order {
        let name = TENANTS[i];
        let id = t_ids.take(rng);
        p.tenant.insert(name, id);
        let provider = if name == "ServiceCenter" {
            "ServiceCenter"
        } else {
            "Users"
        };
        tenants.push(vec![
            Lit::Int(id),
            Lit::text(name),
            Lit::Int(p.espace[provider]),
            Lit::Bool(true),
        ]);
    }
    tables.push(tenants);

    let mut users = TableRows::new(
        c::USER,
        &[
            c::ID,
            c::NAME,
            c::USERNAME,
            "PASSWORD",
            "EMAIL",
            "EXTERNAL_ID",
            "CREATION_DATE",
            "LAST_LOGIN",
            c::IS_ACTIVE,
            c::TENANT_ID,
        ],
        true,
    );
    let mut u_ids = ids(1, 20);
    let listed: Vec<_> = USERS
        .iter()
        .filter(|u| if prod { u.3 } else { u.4 })
        .collect();
    let listed: Vec<_> = if prod {
        listed
    } else {
        listed.into_iter().rev().collect()
    };
    for (username, name, tenant, _, _) in listed {
        let id = u_ids.take(rng);
        p.user.insert(username, id);
        users.push(vec![
            Lit::Int(id),
            Lit::text(*name),
            Lit::text(*username),
            Lit::text("#hash#"),
            Lit::text(format!("{username}@example.com")),
            if rng.chance(50) {
                Lit::Null
            } else {
                Lit::text(ss_key(username))
            },
            Lit::DateTime(datetime(2018, 1, 2, 9, 0, 0)),
            EMPTY_DATE,
            Lit::Bool(*username != "prod.only"),
            Lit::Int(p.tenant[tenant]),
        ]);
    }
    tables.push(users);

    let mut groups = TableRows::new(
        c::GROUP,
        &[
            c::ID,
            c::NAME,
            "DESCRIPTION",
            c::CREATED_BY,
            c::CREATED,
            "HAS_CUSTOM_MANAGEMENT",
            c::TENANT_ID,
        ],
        true,
    );
    let mut g_ids = ids(1, 7);
    for (name, tenant, in_qa) in GROUPS.iter().filter(|g| prod || g.2) {
        let _ = in_qa;
        let id = g_ids.take(rng);
        p.group.insert((name, tenant), id);
        groups.push(vec![
            Lit::Int(id),
            Lit::text(*name),
            Lit::Null,
            Lit::Int(p.user["admin"]),
            Lit::DateTime(datetime(2018, 1, 3, 9, 0, 0)),
            Lit::Bool(false),
            Lit::Int(p.tenant[tenant]),
        ]);
    }
    tables.push(groups);

    let mut entities = TableRows::new(
        c::ENTITY,
        &[
            c::ID,
            c::PHYSICAL_TABLE_NAME,
            c::NAME,
            c::ESPACE_ID,
            c::SS_KEY,
            c::IS_ACTIVE,
            "IS_SYSTEM",
            c::PRIMARYKEY_SS_KEY,
            "DATA_KIND",
            c::EXPOSE_PROCESS_EVENTS,
            c::EVENT_TABLE_NAME,
        ],
        true,
    );
    let mut ent_ids = ids(1, 40);
    let user_entity = ent_ids.take(rng);
    entities.push(vec![
        Lit::Int(user_entity),
        Lit::text("OSSYS_USER"),
        Lit::text("User"),
        Lit::Int(p.espace["ServiceCenter"]),
        Lit::text(ss_key("entity:User")),
        Lit::Bool(true),
        Lit::Bool(true),
        Lit::text(ss_key("attr:User.Id")),
        Lit::text("entity"),
        Lit::Bool(false),
        Lit::Null,
    ]);
    p.candidate_entity = ent_ids.take(rng);
    entities.push(vec![
        Lit::Int(p.candidate_entity),
        Lit::text(CANDIDATE_TABLE),
        Lit::text("Candidate"),
        Lit::Int(p.espace["Recruitment"]),
        Lit::text(ss_key("entity:Candidate")),
        Lit::Bool(true),
        Lit::Bool(false),
        Lit::text(ss_key("attr:Candidate.Id")),
        Lit::text("entity"),
        Lit::Bool(true),
        Lit::text(CANDIDATE_EVENT_TABLE),
    ]);
    tables.push(entities);

    publish_definitions(kind, rng, &mut p, tables);
    p
}

/// The `SS_TYPE` of a variable.
fn ss_type(ty: VarType) -> String {
    match ty {
        VarType::Basic(name) => format!("rt{name}"),
        VarType::CandidateId => format!(
            "bt{}*{}",
            ss_key("espace:Recruitment"),
            ss_key("entity:Candidate")
        ),
    }
}

fn data_type(ty: VarType) -> String {
    match ty {
        VarType::Basic(name) => format!("rt{name}"),
        VarType::CandidateId => "rtEntityReference".to_owned(),
    }
}

fn publish_definitions(
    kind: EnvKind,
    rng: &mut Rng,
    p: &mut PublishedIds,
    tables: &mut Vec<TableRows>,
) {
    let prod = kind == EnvKind::Prod;
    let defs: Vec<&ProcDef> = PROCESS_DEFS.iter().filter(|d| prod || d.in_qa).collect();
    let defs: Vec<&ProcDef> = if prod {
        defs
    } else {
        defs.into_iter().rev().collect()
    };

    let mut pdefs = TableRows::new(
        c::PROCESS_DEFINITION,
        &[
            c::ID,
            c::NAME,
            c::LABEL,
            "DESCRIPTION",
            c::SS_KEY,
            c::IS_ACTIVE,
            c::ESPACE_ID,
            "IS_LOCKED",
            "LOCKED_DATE",
            "LOCKED_BY",
            "PROCESS_ENTITY_ID",
        ],
        true,
    );
    let mut pd_ids = Ids::new(if prod { 1 } else { 30 }, !prod);
    for d in &defs {
        let id = pd_ids.take(rng);
        p.process_def.insert(d.name, id);
        pdefs.push(vec![
            Lit::Int(id),
            Lit::text(d.name),
            Lit::text(d.label),
            Lit::text(format!("{} process", d.label)),
            Lit::text(ss_key(&format!("process:{}", d.name))),
            Lit::Bool(d.active),
            Lit::Int(p.espace[d.espace]),
            Lit::Bool(false),
            EMPTY_DATE,
            Lit::Null,
            Lit::Null,
        ]);
    }
    tables.push(pdefs);

    let io_columns = [
        c::ID,
        c::SS_KEY,
        c::PROCESS_DEF_ID,
        c::NAME,
        "DESCRIPTION",
        c::IS_ACTIVE,
        c::DATA_TYPE,
        "DEFAULT_VALUE",
        c::SS_TYPE,
    ];
    let mut inputs = TableRows::new(
        c::PROCESS_INPUT_DEF,
        &[
            c::ID,
            c::SS_KEY,
            c::PROCESS_DEF_ID,
            c::NAME,
            "DESCRIPTION",
            c::IS_ACTIVE,
            c::DATA_TYPE,
            "IS_MANDATORY",
            "DEFAULT_VALUE",
            c::SS_TYPE,
        ],
        true,
    );
    let mut outputs = TableRows::new(c::PROCESS_OUTPUT_DEF, &io_columns, true);
    let mut in_ids = Ids::new(if prod { 1 } else { 50 }, !prod);
    let mut out_ids = Ids::new(if prod { 1 } else { 70 }, !prod);
    for d in &defs {
        for v in d.inputs {
            let id = in_ids.take(rng);
            p.input_def.insert((d.name, v.name), id);
            let key = input_key(d.name, v.name);
            inputs.push(vec![
                Lit::Int(id),
                Lit::text(key),
                Lit::Int(p.process_def[d.name]),
                Lit::text(v.name),
                Lit::Null,
                Lit::Bool(true),
                Lit::text(data_type(v.ty)),
                Lit::Bool(true),
                Lit::Null,
                Lit::text(ss_type(v.ty)),
            ]);
        }
        for v in d.outputs {
            let id = out_ids.take(rng);
            p.output_def.insert((d.name, v.name), id);
            outputs.push(vec![
                Lit::Int(id),
                Lit::text(output_key(d.name, v.name)),
                Lit::Int(p.process_def[d.name]),
                Lit::text(v.name),
                Lit::Null,
                Lit::Bool(true),
                Lit::text(data_type(v.ty)),
                Lit::Null,
                Lit::text(ss_type(v.ty)),
            ]);
        }
    }
    tables.push(inputs);
    tables.push(outputs);

    let mut acts = TableRows::new(
        c::ACTIVITY_DEFINITION,
        &[
            c::ID,
            c::SS_KEY,
            c::NAME,
            c::LABEL,
            "DESCRIPTION",
            "INBOX_INSTRUCTIONS",
            c::KIND,
            c::PROCESS_DEF_ID,
            c::IS_ACTIVE,
            "DISPLAY_X",
            "DISPLAY_Y",
            c::INVOKED_PROCESS_DEF_ID,
            "REQUIRES_PERMISSION",
            "SKIPPABLE",
        ],
        true,
    );
    let mut act_outs = TableRows::new(
        c::ACTIVITY_OUTPUT_DEF,
        &[
            c::ID,
            c::SS_KEY,
            c::ACTIVITY_DEF_ID,
            c::NAME,
            "DESCRIPTION",
            c::IS_ACTIVE,
            c::DATA_TYPE,
            c::IS_INPUT,
            "IS_MANDATORY",
            "DEFAULT_VALUE",
            c::SS_TYPE,
        ],
        true,
    );
    let mut a_ids = Ids::new(if prod { 1 } else { 200 }, !prod);
    let mut ao_ids = Ids::new(if prod { 1 } else { 90 }, !prod);
    for d in &defs {
        for (x, a) in d.activities.iter().enumerate() {
            let id = a_ids.take(rng);
            p.activity_def.insert((d.name, a.name), id);
            let invoked = a.invokes.and_then(|name| p.process_def.get(name).copied());
            acts.push(vec![
                Lit::Int(id),
                Lit::text(ss_key(&format!("activity:{}.{}", d.name, a.name))),
                Lit::text(a.name),
                Lit::text(a.name),
                Lit::Null,
                if matches!(a.kind, Kind::Human) {
                    Lit::text("Please review")
                } else {
                    Lit::Null
                },
                Lit::Int(a.kind as i64),
                Lit::Int(p.process_def[d.name]),
                Lit::Bool(d.active),
                Lit::Int(100 * x as i64),
                Lit::Int(50),
                Lit::opt_int(invoked),
                Lit::Bool(false),
                Lit::Bool(matches!(a.kind, Kind::Human)),
            ]);
            for v in a.outputs {
                let oid = ao_ids.take(rng);
                p.activity_output_def.insert((d.name, a.name, v.name), oid);
                act_outs.push(vec![
                    Lit::Int(oid),
                    Lit::text(activity_output_key(d.name, a.name, v.name)),
                    Lit::Int(id),
                    Lit::text(v.name),
                    Lit::Null,
                    Lit::Bool(true),
                    Lit::text(data_type(v.ty)),
                    Lit::Bool(false),
                    Lit::Bool(false),
                    Lit::Null,
                    Lit::text(ss_type(v.ty)),
                ]);
            }
        }
    }
    tables.push(acts);
    tables.push(act_outs);
}

/// Candidate rows of the application table; returns their IDs.
fn candidates(
    kind: EnvKind,
    spec: &EnvSpec,
    rng: &mut Rng,
    tables: &mut Vec<TableRows>,
) -> Vec<i64> {
    let n = match kind {
        EnvKind::Prod => (spec.processes / 2).max(10),
        EnvKind::Qa => 8,
    };
    let mut rows = TableRows::new(
        CANDIDATE_TABLE,
        &[c::ID, c::TENANT_ID, c::NAME, "EMAIL", "STAGE"],
        true,
    );
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let id = i as i64 + 1;
        ids.push(id);
        rows.push(vec![
            Lit::Int(id),
            Lit::Null,
            Lit::text(format!("{} #{id}", rng.pick(AWKWARD))),
            Lit::text(format!("candidate{id}@example.com")),
            Lit::text("Applied"),
        ]);
    }
    tables.push(rows);
    ids
}

const PROCESS_COLUMNS: &[&str] = &[
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
const DECIMALS: &[i128] = &[
    9_999_999_999_999_999_999_999_999_999_999_999_999,
    -9_999_999_999_999_999_999_999_999_999_999_999_999,
    0,
    1,
    -1,
    12_345_678_901_234,
];

const ACTIVITY_COLUMNS: &[&str] = &[
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

const PROCESS_INPUT_COLUMNS: &[&str] = &[
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
const PROCESS_OUTPUT_COLUMNS: &[&str] = &[
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
const ACTIVITY_OUTPUT_COLUMNS: &[&str] = &[
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
const EVENT_COLUMNS: &[&str] = &[
    c::EVT_ESPACE_ID,
    c::EVT_TENANT_ID,
    c::EVT_ACTIVITY_ID,
    c::EVT_PROCESS_DEF_ID,
    c::EVT_IS_UPDATE,
    c::EVT_IS_LIGHT,
    c::ID,
    c::TENANT_ID,
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

struct History<'a> {
    kind: EnvKind,
    p: &'a PublishedIds,
    candidates: Vec<i64>,
    rng: &'a mut Rng,
    process_ids: Ids,
    activity_ids: Ids,
    input_ids: Ids,
    output_ids: Ids,
    act_output_ids: Ids,
    sink: &'a mut dyn Sink,
}

/// What a process instance is being created for.
struct Spawn {
    def: &'static ProcDef,
    level: usize,
    tenant: i64,
    top: Option<i64>,
    parent: Option<(i64, i64)>,
    status: i64,
    created: i64,
    candidate: i64,
}

impl<'a> History<'a> {
    fn new(
        kind: EnvKind,
        p: &'a PublishedIds,
        candidates: Vec<i64>,
        rng: &'a mut Rng,
        sink: &'a mut dyn Sink,
    ) -> Self {
        let prod = kind == EnvKind::Prod;
        Self {
            kind,
            p,
            candidates,
            rng,
            process_ids: Ids::new(if prod { 1001 } else { 1 }, prod),
            activity_ids: Ids::new(if prod { 5001 } else { 1 }, prod),
            input_ids: Ids::new(if prod { 20_001 } else { 1 }, prod),
            output_ids: Ids::new(if prod { 30_001 } else { 1 }, prod),
            act_output_ids: Ids::new(if prod { 40_001 } else { 1 }, prod),
            sink,
        }
    }

    fn generate(mut self, roots: usize) {
        // The Launch-On subscription that publishing CandidateSelection writes.
        self.sink.row(
            CANDIDATE_EVENT_TABLE,
            EVENT_COLUMNS,
            0,
            vec![
                Lit::Int(self.p.espace["Recruitment"]),
                Lit::Null,
                Lit::Null,
                Lit::Int(self.p.process_def["CandidateSelection"]),
                Lit::Bool(false),
                Lit::Bool(false),
                Lit::Null,
                Lit::Null,
            ],
        );
        let statuses = [
            PROCESS_ACTIVE,
            PROCESS_CLOSED,
            PROCESS_SUSPENDED,
            PROCESS_TERMINATED,
        ];
        let root_defs: Vec<&'static ProcDef> = PROCESS_DEFS
            .iter()
            .filter(|d| match self.kind {
                EnvKind::Prod => d.name != "BackgroundCheck",
                EnvKind::Qa => d.name == "Onboarding",
            })
            .collect();
        for i in 0..roots {
            // The first roots cover every definition and status; the rest are random,
            // weighted towards the Candidate Selection tree.
            let def = if i < root_defs.len() {
                root_defs[i]
            } else if self.rng.chance(55) {
                root_defs[0]
            } else {
                *self.rng.pick(&root_defs)
            };
            let status = if i < statuses.len() {
                statuses[i]
            } else {
                *self.rng.pick(&[
                    PROCESS_ACTIVE,
                    PROCESS_ACTIVE,
                    PROCESS_CLOSED,
                    PROCESS_CLOSED,
                    PROCESS_CLOSED,
                    PROCESS_SUSPENDED,
                    PROCESS_TERMINATED,
                ])
            };
            let tenant = match self.rng.below(10) {
                0 => "AcmeCorp",
                1 => "Globex",
                _ => "Users",
            };
            let created =
                datetime(2019, 1, 1, 8, 0, 0) + (i as i64) * 7_919 + self.rng.below(3_600) as i64;
            let candidate = *self.rng.pick(&self.candidates);
            self.spawn(&Spawn {
                def,
                level: 0,
                tenant: self.p.tenant[tenant],
                top: None,
                parent: None,
                status,
                created,
                candidate,
            });
        }
    }

    fn user(&mut self, tenant: i64) -> Option<i64> {
        let candidates: Vec<(&&str, i64)> = USERS
            .iter()
            .filter_map(|u| self.p.user.get(u.0).map(|id| (&u.2, *id)))
            .filter(|(t, _)| self.p.tenant[**t] == tenant)
            .collect();
        if candidates.is_empty() || self.rng.chance(10) {
            None
        } else {
            Some(self.rng.pick(&candidates).1)
        }
    }

    fn group(&mut self, tenant: i64) -> Option<i64> {
        let options: Vec<i64> = self
            .p
            .group
            .iter()
            .filter(|((_, t), _)| self.p.tenant[*t] == tenant)
            .map(|(_, id)| *id)
            .collect();
        if options.is_empty() {
            None
        } else {
            Some(*self.rng.pick(&options))
        }
    }

    /// The process's `PROCESS_COST`: every extreme among the first processes, then random.
    fn cost(&mut self, id: i64) -> Lit {
        let first = usize::try_from(id - 1001)
            .ok()
            .filter(|i| *i < DECIMALS.len());
        let value = match first {
            Some(i) => DECIMALS[i],
            None if self.rng.chance(20) => return Lit::Null,
            None => i128::from(self.rng.next() >> 8) * if self.rng.chance(30) { -1 } else { 1 },
        };
        Lit::Decimal { value, scale: 8 }
    }

    fn awkward_text(&mut self) -> Lit {
        match self.rng.below(12) {
            0 => Lit::Null,
            // Longer than NVARCHAR(4000): exercises MAX columns end to end.
            1 => Lit::Text(format!("{} ", self.rng.pick(AWKWARD)).repeat(400)),
            _ => Lit::text(*self.rng.pick(AWKWARD)),
        }
    }

    /// Creates a process, its activities, inputs, outputs, subscriptions and sub-processes.
    fn spawn(&mut self, s: &Spawn) -> i64 {
        let id = self.process_ids.take(self.rng);
        let top = s.top.unwrap_or(id);
        let creator = self.user(s.tenant);
        let modifier = self.user(s.tenant);
        let suspended = s.status == PROCESS_SUSPENDED;
        let last_modified = s.created + 3_600 + self.rng.below(86_400) as i64;
        let label = if s.def.name == "CandidateSelection" {
            Lit::Text(format!("{} #{}", self.rng.pick(&AWKWARD[..7]), s.candidate))
        } else if self.rng.chance(10) {
            Lit::Null
        } else {
            Lit::text(s.def.label)
        };
        let row = vec![
            Lit::Int(id),
            Lit::Int(s.tenant),
            label,
            Lit::DateTime(s.created),
            Lit::opt_int(creator),
            Lit::Int(self.p.process_def[s.def.name]),
            Lit::opt_int(s.parent.map(|p| p.0)),
            Lit::opt_int(s.parent.map(|p| p.1)),
            Lit::Int(top),
            Lit::Int(s.status),
            Lit::DateTime(last_modified),
            Lit::opt_int(modifier),
            if suspended {
                Lit::DateTime(last_modified)
            } else {
                EMPTY_DATE
            },
            if suspended {
                Lit::opt_int(modifier)
            } else {
                Lit::Null
            },
            self.cost(id),
        ];
        self.sink.row(c::PROCESS, PROCESS_COLUMNS, s.level, row);

        for v in s.def.inputs {
            let value = match v.ty {
                VarType::CandidateId => Lit::Text(s.candidate.to_string()),
                VarType::Basic("Text") => self.awkward_text(),
                VarType::Basic("Date") => Lit::text("2019-12-02"),
                VarType::Basic(_) => Lit::Text(self.rng.below(1000).to_string()),
            };
            let input_id = self.input_ids.take(self.rng);
            let key = input_key(s.def.name, v.name);
            self.sink.row(
                c::PROCESS_INPUT,
                PROCESS_INPUT_COLUMNS,
                0,
                vec![
                    Lit::Int(input_id),
                    Lit::Int(s.tenant),
                    Lit::opt_int(self.p.input_def.get(&(s.def.name, v.name)).copied()),
                    Lit::Int(id),
                    Lit::text(key),
                    Lit::text(v.name),
                    Lit::text(data_type(v.ty)),
                    value,
                    Lit::text(ss_type(v.ty)),
                ],
            );
        }

        // How far the process got: a finished one ran every activity; an open one stopped
        // at a random activity, which is still open.
        let n = s.def.activities.len();
        let finished = s.status == PROCESS_CLOSED;
        let reached = if finished {
            n
        } else {
            2 + self.rng.below((n - 1) as u64) as usize
        };
        let reached = reached.min(n);
        let mut precedent: Option<i64> = None;
        let mut clock = s.created;
        for (x, a) in s.def.activities.iter().take(reached).enumerate() {
            let open = !finished && x + 1 == reached;
            let aid = self.activity_ids.take(self.rng);
            clock += 60 + self.rng.below(7_200) as i64;
            let status = if open {
                match a.kind {
                    Kind::Human => ACTIVITY_READY,
                    Kind::Wait => ACTIVITY_LISTENING,
                    _ => ACTIVITY_RUNNING,
                }
            } else if s.status == PROCESS_TERMINATED && x + 2 == reached {
                ACTIVITY_TERMINATED
            } else {
                ACTIVITY_CLOSED
            };
            let human = matches!(a.kind, Kind::Human);
            let user = if human && !(open && self.rng.chance(40)) {
                self.user(s.tenant)
            } else {
                None
            };
            let group = if human && user.is_none() {
                self.group(s.tenant)
            } else {
                None
            };
            let running = open
                && matches!(
                    a.kind,
                    Kind::Automatic
                        | Kind::Execute
                        | Kind::Decision
                        | Kind::SendEmail
                        | Kind::Start
                        | Kind::End
                );
            let closed_at = if open {
                EMPTY_DATE
            } else {
                Lit::DateTime(clock + 30)
            };
            let detail = if human {
                self.awkward_text()
            } else {
                Lit::Null
            };
            self.sink.row(
                c::ACTIVITY,
                ACTIVITY_COLUMNS,
                s.level,
                vec![
                    Lit::Int(aid),
                    Lit::Int(s.tenant),
                    Lit::Int(self.p.activity_def[&(s.def.name, a.name)]),
                    Lit::Int(id),
                    Lit::text(a.name),
                    Lit::opt_int(user),
                    Lit::DateTime(clock),
                    Lit::DateTime(clock + 5),
                    closed_at,
                    Lit::Int(status),
                    if running {
                        Lit::DateTime(clock + 10)
                    } else {
                        Lit::Null
                    },
                    if running {
                        Lit::text("FRONTEND-01")
                    } else {
                        Lit::Null
                    },
                    if matches!(a.kind, Kind::Wait) && open {
                        Lit::DateTime(clock + 86_400)
                    } else {
                        Lit::Null
                    },
                    Lit::opt_int(precedent),
                    if precedent.is_some() && self.rng.chance(30) {
                        Lit::text("Approved")
                    } else {
                        Lit::Null
                    },
                    if human {
                        Lit::DateTime(clock + 3 * 86_400)
                    } else {
                        Lit::Null
                    },
                    detail,
                    Lit::Bool(false),
                    Lit::Bool(!open && human && self.rng.chance(5)),
                    Lit::Int(if running && self.rng.chance(30) { 2 } else { 0 }),
                    Lit::Null,
                    Lit::DateTime(clock + 40),
                    Lit::opt_int(group),
                ],
            );
            for v in a.outputs {
                let value = match v.ty {
                    VarType::CandidateId => {
                        Lit::Text((*self.rng.pick(&self.candidates)).to_string())
                    }
                    VarType::Basic("Boolean") => {
                        Lit::text(if self.rng.chance(50) { "True" } else { "False" })
                    }
                    VarType::Basic(_) => Lit::Text(format!(
                        "{}.{:02}",
                        self.rng.below(100),
                        self.rng.below(100)
                    )),
                };
                let oid = self.act_output_ids.take(self.rng);
                self.sink.row(
                    c::ACTIVITY_OUTPUT,
                    ACTIVITY_OUTPUT_COLUMNS,
                    0,
                    vec![
                        Lit::Int(oid),
                        Lit::Int(s.tenant),
                        Lit::Int(self.p.activity_output_def[&(s.def.name, a.name, v.name)]),
                        Lit::Int(aid),
                        Lit::text(activity_output_key(s.def.name, a.name, v.name)),
                        Lit::text(v.name),
                        Lit::text(data_type(v.ty)),
                        value,
                        Lit::text(ss_type(v.ty)),
                    ],
                );
            }
            // An open Human or Wait activity with "Close On" Candidate update subscribes to
            // its candidate's row.
            if open && matches!(a.kind, Kind::Wait | Kind::Human) && s.def.espace == "Recruitment" {
                self.sink.row(
                    CANDIDATE_EVENT_TABLE,
                    EVENT_COLUMNS,
                    0,
                    vec![
                        Lit::Int(self.p.espace["Recruitment"]),
                        Lit::Int(s.tenant),
                        Lit::Int(aid),
                        Lit::Null,
                        Lit::Bool(true),
                        Lit::Bool(false),
                        Lit::Int(s.candidate),
                        Lit::Null,
                    ],
                );
            }
            if let Some(sub) = a.invokes {
                let sub_def = PROCESS_DEFS.iter().find(|d| d.name == sub);
                if let Some(sub_def) = sub_def {
                    let sub_status = if open {
                        if s.status == PROCESS_SUSPENDED {
                            PROCESS_SUSPENDED
                        } else {
                            PROCESS_ACTIVE
                        }
                    } else if s.status == PROCESS_TERMINATED {
                        PROCESS_TERMINATED
                    } else {
                        PROCESS_CLOSED
                    };
                    self.spawn(&Spawn {
                        def: sub_def,
                        level: s.level + 1,
                        tenant: s.tenant,
                        top: Some(top),
                        parent: Some((id, aid)),
                        status: sub_status,
                        created: clock + 1,
                        candidate: s.candidate,
                    });
                }
            }
            precedent = Some(aid);
        }

        if finished {
            for v in s.def.outputs {
                let value = match v.ty {
                    VarType::Basic("Text") => self.awkward_text(),
                    VarType::Basic("Boolean") => Lit::text("True"),
                    _ => Lit::Text(format!("{}.5", self.rng.below(10))),
                };
                let oid = self.output_ids.take(self.rng);
                self.sink.row(
                    c::PROCESS_OUTPUT,
                    PROCESS_OUTPUT_COLUMNS,
                    0,
                    vec![
                        Lit::Int(oid),
                        Lit::Int(s.tenant),
                        Lit::opt_int(self.p.output_def.get(&(s.def.name, v.name)).copied()),
                        Lit::Int(id),
                        Lit::text(output_key(s.def.name, v.name)),
                        Lit::text(v.name),
                        Lit::text(data_type(v.ty)),
                        value,
                        Lit::text(ss_type(v.ty)),
                    ],
                );
            }
        }
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ss_keys_are_stable_guids() {
        let k = ss_key("process:CandidateSelection");
        assert_eq!(k, ss_key("process:CandidateSelection"));
        assert_eq!(k.len(), 36);
        assert!(bptmig_model::SsType::parse(&format!("bt{k}*{k}")).is_ok());
        assert_ne!(k, ss_key("process:Interview"));
    }

    #[test]
    fn generation_is_deterministic() {
        let spec = EnvSpec::default();
        let a = generate(EnvKind::Prod, &spec);
        let b = generate(EnvKind::Prod, &spec);
        assert_eq!(format!("{:?}", a.tables), format!("{:?}", b.tables));
        let other = generate(EnvKind::Prod, &EnvSpec { seed: 12, ..spec });
        assert_ne!(format!("{:?}", a.tables), format!("{:?}", other.tables));
    }

    #[test]
    fn every_root_has_top_equal_to_id_and_children_point_at_their_root() {
        let prod = generate(EnvKind::Prod, &EnvSpec::default());
        let procs = prod.rows(c::PROCESS);
        let by_id: BTreeMap<i64, &BTreeMap<&str, Lit>> = procs
            .iter()
            .map(|r| (r[c::ID].as_int().unwrap(), r))
            .collect();
        let mut subs = 0;
        for r in &procs {
            let id = r[c::ID].as_int().unwrap();
            match r[c::PARENT_PROCESS_ID].as_int() {
                None => assert_eq!(r[c::TOP_PROCESS_ID].as_int(), Some(id)),
                Some(parent) => {
                    subs += 1;
                    let top = r[c::TOP_PROCESS_ID].as_int().unwrap();
                    assert_eq!(by_id[&top][c::PARENT_PROCESS_ID], Lit::Null);
                    assert!(by_id.contains_key(&parent));
                }
            }
        }
        assert!(subs > 0);
    }
}
