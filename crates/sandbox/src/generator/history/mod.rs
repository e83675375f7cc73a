//! The history of one environment: process trees with their activities, inputs, outputs
//! and event subscriptions.

use bptmig_model::catalog as c;

use super::applications::{
    ActDef, Kind, ProcDef, Var, VarType, AWKWARD, CANDIDATE_EVENT_TABLE, PROCESS_DEFS, USERS,
};
use super::columns::{
    ACTIVITY_CLOSED, ACTIVITY_COLUMNS, ACTIVITY_LISTENING, ACTIVITY_OUTPUT_COLUMNS, ACTIVITY_READY,
    ACTIVITY_RUNNING, ACTIVITY_TERMINATED, DECIMALS, EVENT_COLUMNS, PROCESS_ACTIVE, PROCESS_CLOSED,
    PROCESS_COLUMNS, PROCESS_INPUT_COLUMNS, PROCESS_OUTPUT_COLUMNS, PROCESS_SUSPENDED,
    PROCESS_TERMINATED,
};
use super::ids::Ids;
use super::publish::{data_type, ss_type};
use super::published::{PublishedIds, EMPTY_DATE};
use super::random::{activity_output_key, input_key, output_key, Rng};
use super::shapes::{Shapes, ValueCase};
use super::sink::Sink;
use super::EnvKind;
use crate::sql::{datetime, Lit};

mod broken;
mod identifiers;

/// Where a reseeded prod's identities of processes and activities start again.
pub const RESEEDED_TO: i64 = i32::MIN as i64;

pub(super) struct History<'a> {
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
    /// Platform shapes on: identifier trees and subscriptions of the shaped event tables.
    shapes: bool,
    /// Broken trees too (not in a generated work directory: an extract never hands them on).
    broken: bool,
    /// A reseeded prod ([`EnvSpec::reseeded`](super::EnvSpec::reseeded)).
    reseeded: bool,
    /// The reseed happens after the next activity: the middle root's first.
    reseed_pending: bool,
    /// Processes and activities generated so far, for identifier values to point at.
    seen: Seen,
    /// What was generated of the platform shapes.
    pub(super) record: Shapes,
}

/// Processes and activities generated so far, with their tree's root definition and
/// whether the tree is broken.
#[derive(Default)]
struct Seen {
    processes: Vec<(i64, &'static str, bool)>,
    /// (activity, its process, root definition, broken).
    activities: Vec<(i64, i64, &'static str, bool)>,
    generating_broken: bool,
}

/// Explicit process links, for broken trees: `top` None is the process itself.
#[derive(Clone, Copy)]
struct Links {
    parent: Option<i64>,
    parent_activity: Option<i64>,
    top: Option<i64>,
}

/// An activity of a process being created.
struct Step {
    def: &'static ActDef,
    id: i64,
    /// The activity the process stopped at, still open.
    open: bool,
    status: i64,
    /// When the activity was created.
    clock: i64,
    /// The activity before it in the process.
    precedent: Option<i64>,
}

/// What a process instance is being created for.
struct Spawn {
    def: &'static ProcDef,
    /// The definition of the tree's root.
    root: &'static str,
    level: usize,
    tenant: i64,
    top: Option<i64>,
    parent: Option<(i64, i64)>,
    status: i64,
    created: i64,
    candidate: i64,
    /// Shapes only: the process's ID, links and how many activities it reached, when chosen
    /// rather than generated; what its identifier values point at.
    fixed: Fixed,
}

#[derive(Default, Clone, Copy)]
struct Fixed {
    id: Option<i64>,
    links: Option<Links>,
    reach: Option<usize>,
    /// The case of the identifier values, and the instance's number.
    case: Option<(ValueCase, usize)>,
}

impl<'a> History<'a> {
    pub(super) fn new(
        (kind, shapes, broken, reseeded): (EnvKind, bool, bool, bool),
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
            shapes: shapes && prod,
            broken: broken && shapes && prod,
            reseeded: reseeded && prod,
            reseed_pending: false,
            seen: Seen::default(),
            record: Shapes::default(),
        }
    }

    /// Generates `roots` trees, then the shapes; returns what was generated of the shapes.
    pub(super) fn generate(mut self, roots: usize) -> Shapes {
        self.trees(roots);
        if self.broken {
            self.broken_trees();
        }
        if self.shapes {
            self.identifier_trees();
        }
        self.record
    }

    fn trees(&mut self, roots: usize) {
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
                EnvKind::Prod => d.name != "BackgroundCheck" && !d.platform_shape,
                EnvKind::Qa => d.name == "Onboarding",
            })
            .collect();
        for i in 0..roots {
            // The reseed happens while this root runs: after its first activity.
            self.reseed_pending = self.reseeded && i == roots / 2;
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
                root: def.name,
                level: 0,
                tenant: self.p.tenant[tenant],
                top: None,
                parent: None,
                status,
                created,
                candidate,
                fixed: Fixed::default(),
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
        let id = match s.fixed.id {
            Some(id) => id,
            None => self.process_ids.take(self.rng),
        };
        let top = match s.fixed.links {
            Some(l) => l.top.unwrap_or(id),
            None => s.top.unwrap_or(id),
        };
        let broken = self.seen.generating_broken;
        self.seen.processes.push((id, s.root, broken));
        self.process(s, id, top);
        self.inputs(s, id);
        self.activities(s, id, top);
        if s.status == PROCESS_CLOSED {
            self.outputs(s, id);
        }
        id
    }

    /// The process row of `s`, with ID `id` in the tree of `top`.
    fn process(&mut self, s: &Spawn, id: i64, top: i64) {
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
        let (parent, parent_activity) = match s.fixed.links {
            Some(l) => (l.parent, l.parent_activity),
            None => (s.parent.map(|p| p.0), s.parent.map(|p| p.1)),
        };
        let row = vec![
            Lit::Int(id),
            Lit::Int(s.tenant),
            label,
            Lit::DateTime(s.created),
            Lit::opt_int(creator),
            Lit::Int(self.p.process_def[s.def.name]),
            Lit::opt_int(parent),
            Lit::opt_int(parent_activity),
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
    }

    /// The input rows of process `id`.
    fn inputs(&mut self, s: &Spawn, id: i64) {
        for v in s.def.inputs {
            let value = match v.ty {
                VarType::Identifier(entity) => {
                    self.identifier_input(s, id, v, entity);
                    continue;
                }
                VarType::CandidateId => Lit::Text(s.candidate.to_string()),
                VarType::Basic("Text") => self.awkward_text(),
                VarType::Basic("Date") => Lit::text("2019-12-02"),
                VarType::Basic(_) => Lit::Text(self.rng.below(1000).to_string()),
            };
            let input_id = self.input_ids.take(self.rng);
            let key = input_key(s.def.name, v.name);
            let def = Lit::opt_int(self.p.input_def.get(&(s.def.name, v.name)).copied());
            let row = variable_row([input_id, s.tenant], def, id, key, v, value);
            self.sink
                .row(c::PROCESS_INPUT, PROCESS_INPUT_COLUMNS, 0, row);
        }
    }

    /// The activities process `id` reached, each with its outputs, its subscription and the
    /// sub-process it started.
    fn activities(&mut self, s: &Spawn, id: i64, top: i64) {
        // How far the process got: a finished one ran every activity; an open one stopped
        // at a random activity, which is still open.
        let n = s.def.activities.len();
        let finished = s.status == PROCESS_CLOSED;
        let reached = if finished {
            n
        } else {
            2 + self.rng.below((n - 1) as u64) as usize
        };
        let reached = s.fixed.reach.unwrap_or(reached).min(n);
        let mut precedent: Option<i64> = None;
        let mut clock = s.created;
        for (x, a) in s.def.activities.iter().take(reached).enumerate() {
            let open = !finished && x + 1 == reached;
            let aid = self.activity_ids.take(self.rng);
            clock += 60 + self.rng.below(7_200) as i64;
            let terminated = s.status == PROCESS_TERMINATED && x + 2 == reached;
            let step = Step {
                def: a,
                id: aid,
                open,
                status: activity_status(a.kind, open, terminated),
                clock,
                precedent,
            };
            self.activity(s, id, &step);
            let broken = self.seen.generating_broken;
            self.seen.activities.push((aid, id, s.root, broken));
            self.activity_outputs(s, &step);
            // An open Human or Wait activity with "Close On" Candidate update subscribes to
            // its candidate's row.
            if open && matches!(a.kind, Kind::Wait | Kind::Human) && s.def.espace == "Recruitment" {
                self.subscription(s, aid);
                if self.shapes {
                    self.job_offer_subscription(s, aid);
                }
            }
            if open && self.shapes && s.fixed.case.is_some() && matches!(a.kind, Kind::Human) {
                self.user_subscription(s, aid);
            }
            if let Some(sub) = a.invokes {
                self.sub_process(s, sub, &step, id, top);
            }
            precedent = Some(aid);
            if self.reseed_pending {
                // `DBCC CHECKIDENT (…, RESEED, -2147483648)` on processes and activities:
                // whatever is created from now on is newer and numbered from there.
                self.reseed_pending = false;
                self.process_ids = Ids::new(RESEEDED_TO, true);
                self.activity_ids = Ids::new(RESEEDED_TO, true);
            }
        }
    }

    /// The activity row of `step` in process `process`.
    fn activity(&mut self, s: &Spawn, process: i64, step: &Step) {
        let (a, open, clock, precedent) = (step.def, step.open, step.clock, step.precedent);
        let human = matches!(a.kind, Kind::Human);
        let (user, group) = self.assignee(s.tenant, human, open);
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
        let row = vec![
            Lit::Int(step.id),
            Lit::Int(s.tenant),
            Lit::Int(self.p.activity_def[&(s.def.name, a.name)]),
            Lit::Int(process),
            Lit::text(a.name),
            Lit::opt_int(user),
            Lit::DateTime(clock),
            Lit::DateTime(clock + 5),
            closed_at,
            Lit::Int(step.status),
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
            self.next_run(a.kind, open, clock),
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
        ];
        self.sink.row(c::ACTIVITY, ACTIVITY_COLUMNS, s.level, row);
    }

    /// An activity's `NEXT_RUN`: a day after an open Wait started (its timeout); with platform
    /// shapes on, a minute after an open Automatic activity started (due, so in the past when
    /// it moves: the target's scheduler runs it at once); NULL otherwise.
    fn next_run(&self, kind: Kind, open: bool, clock: i64) -> Lit {
        match kind {
            Kind::Wait if open => Lit::DateTime(clock + 86_400),
            Kind::Automatic if open && self.shapes => Lit::DateTime(clock + 60),
            _ => Lit::Null,
        }
    }

    /// Who an activity is assigned to: a user of `tenant`, or else a group, for a human
    /// activity (an open one is often still unassigned to a user); nobody otherwise.
    fn assignee(&mut self, tenant: i64, human: bool, open: bool) -> (Option<i64>, Option<i64>) {
        let user = if human && !(open && self.rng.chance(40)) {
            self.user(tenant)
        } else {
            None
        };
        let group = if human && user.is_none() {
            self.group(tenant)
        } else {
            None
        };
        (user, group)
    }

    /// The output rows of the activity of `step`.
    fn activity_outputs(&mut self, s: &Spawn, step: &Step) {
        let a = step.def;
        for v in a.outputs {
            let value = match v.ty {
                VarType::Identifier(entity) => {
                    self.identifier_activity_output(s, step, v, entity);
                    continue;
                }
                VarType::CandidateId => Lit::Text((*self.rng.pick(&self.candidates)).to_string()),
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
            let def = Lit::Int(self.p.activity_output_def[&(s.def.name, a.name, v.name)]);
            let key = activity_output_key(s.def.name, a.name, v.name);
            let row = variable_row([oid, s.tenant], def, step.id, key, v, value);
            self.sink
                .row(c::ACTIVITY_OUTPUT, ACTIVITY_OUTPUT_COLUMNS, 0, row);
        }
    }

    /// The subscription of open activity `activity` to its candidate's row.
    fn subscription(&mut self, s: &Spawn, activity: i64) {
        self.sink.row(
            CANDIDATE_EVENT_TABLE,
            EVENT_COLUMNS,
            0,
            vec![
                Lit::Int(self.p.espace["Recruitment"]),
                Lit::Int(s.tenant),
                Lit::Int(activity),
                Lit::Null,
                Lit::Bool(true),
                Lit::Bool(false),
                Lit::Int(s.candidate),
                Lit::Null,
            ],
        );
    }

    /// The sub-process of definition `sub` that the activity of `step` started, one level
    /// below process `parent` in the tree of `top`: still running while that activity is open.
    fn sub_process(&mut self, s: &Spawn, sub: &str, step: &Step, parent: i64, top: i64) {
        let Some(sub_def) = PROCESS_DEFS.iter().find(|d| d.name == sub) else {
            return;
        };
        let status = if step.open {
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
            root: s.root,
            level: s.level + 1,
            tenant: s.tenant,
            top: Some(top),
            parent: Some((parent, step.id)),
            status,
            created: step.clock + 1,
            candidate: s.candidate,
            fixed: Fixed::default(),
        });
    }

    /// The output rows of finished process `id`.
    fn outputs(&mut self, s: &Spawn, id: i64) {
        for v in s.def.outputs {
            let value = match v.ty {
                VarType::Identifier(entity) => {
                    self.identifier_output(s, id, v, entity);
                    continue;
                }
                VarType::Basic("Text") => self.awkward_text(),
                VarType::Basic("Boolean") => Lit::text("True"),
                _ => Lit::Text(format!("{}.5", self.rng.below(10))),
            };
            let oid = self.output_ids.take(self.rng);
            let def = Lit::opt_int(self.p.output_def.get(&(s.def.name, v.name)).copied());
            let key = output_key(s.def.name, v.name);
            let row = variable_row([oid, s.tenant], def, id, key, v, value);
            self.sink
                .row(c::PROCESS_OUTPUT, PROCESS_OUTPUT_COLUMNS, 0, row);
        }
    }
}

/// The status of an activity: the one a process stopped at is open (Ready for a human,
/// Listening for a wait, Running otherwise); the one before the end of a terminated
/// process was terminated; every other one closed.
fn activity_status(kind: Kind, open: bool, terminated: bool) -> i64 {
    if open {
        match kind {
            Kind::Human => ACTIVITY_READY,
            Kind::Wait => ACTIVITY_LISTENING,
            _ => ACTIVITY_RUNNING,
        }
    } else if terminated {
        ACTIVITY_TERMINATED
    } else {
        ACTIVITY_CLOSED
    }
}

/// A row of an input or output table ([`PROCESS_INPUT_COLUMNS`] and the output columns
/// alike): the `value` of variable `v`, with its `[ID, TENANT_ID]`, the ID of its
/// definition, the ID of the process or activity that owns it and its SS_KEY.
fn variable_row(ids: [i64; 2], def: Lit, owner: i64, key: String, v: &Var, value: Lit) -> Vec<Lit> {
    let [id, tenant] = ids;
    vec![
        Lit::Int(id),
        Lit::Int(tenant),
        def,
        Lit::Int(owner),
        Lit::Text(key),
        Lit::text(v.name),
        Lit::text(data_type(v.ty)),
        value,
        Lit::text(ss_type(v.ty)),
    ]
}
