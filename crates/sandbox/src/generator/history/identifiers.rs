//! Platform shapes in prod's history: the trees whose variables are identifiers of system
//! entities, and the subscriptions of the user and job-offer event tables.

use bptmig_model::catalog as c;

use super::{Fixed, History, Spawn, Step};
use crate::generator::applications::{Var, PROCESS_DEFS, PROD_ONLY_DEFINITION, USERS};
use crate::generator::columns::{
    ACTIVITY_OUTPUT_COLUMNS, EVENT_COLUMNS, JOB_OFFER_EVENT_COLUMNS, PROCESS_ACTIVE,
    PROCESS_CLOSED, PROCESS_INPUT_COLUMNS, PROCESS_OUTPUT_COLUMNS,
};
use crate::generator::random::{activity_output_key, input_key, output_key};
use crate::generator::shapes::{
    ShapedValue, ValueCase, IDENTIFIER_DEFINITION, JOB_OFFER_EVENT_TABLE, NOT_AN_INTEGER,
    NOWHERE_ID, USER_EVENT_TABLE,
};
use crate::sql::{datetime, Lit};

/// The case of each identifier tree, in order: even ones close (with process outputs), odd
/// ones stay open at their `Review` activity (which subscribes a user's updates).
const CASES: &[ValueCase] = &[
    ValueCase::Matched,
    ValueCase::Matched,
    ValueCase::Outside,
    ValueCase::Zero,
    ValueCase::Empty,
    ValueCase::Nowhere,
    ValueCase::NotInteger,
    ValueCase::BrokenTree,
    ValueCase::Matched,
    ValueCase::Outside,
    ValueCase::Matched,
];

/// Users qa has under the same username and tenant.
const MATCHED_USERS: &[&str] = &[
    "maria.silva",
    "john.doe",
    "acme.manager",
    "globex.lead",
    "siobhan.obrien",
];
/// Groups qa has under the same name and tenant.
const MATCHED_GROUPS: &[(&str, &str)] = &[
    ("Recruiters", "Users"),
    ("Managers", "Users"),
    ("Recruiters", "AcmeCorp"),
    ("HR", "Globex"),
];
const MATCHED_TENANTS: &[&str] = &["Users", "AcmeCorp", "Globex"];
/// Root definitions whose trees move whole (every definition of theirs is in qa).
const MOVED_ROOTS: &[&str] = &["CandidateSelection", "Onboarding"];

impl History<'_> {
    /// One tree of [`IDENTIFIER_DEFINITION`] per case.
    pub(super) fn identifier_trees(&mut self) {
        let Some(def) = PROCESS_DEFS
            .iter()
            .find(|d| d.name == IDENTIFIER_DEFINITION)
        else {
            return;
        };
        for (k, case) in CASES.iter().enumerate() {
            let open = k % 2 == 1;
            self.spawn(&Spawn {
                def,
                root: def.name,
                level: 0,
                tenant: self.p.tenant["Users"],
                top: None,
                parent: None,
                status: if open { PROCESS_ACTIVE } else { PROCESS_CLOSED },
                created: datetime(2019, 6, 3, 9, 0, 0) + k as i64 * 3_600,
                candidate: self.candidates[0],
                fixed: Fixed {
                    reach: open.then_some(2),
                    case: Some((*case, k)),
                    ..Fixed::default()
                },
            });
        }
    }

    /// The value of an identifier of `entity` in variable `var` of `s`, and its case.
    fn identifier(&self, s: &Spawn, var: &str, entity: &str) -> (String, ValueCase) {
        let (case, k) = s.fixed.case.unwrap_or((ValueCase::Matched, 0));
        let nowhere = (NOWHERE_ID.to_string(), ValueCase::Nowhere);
        match (case, entity) {
            (ValueCase::NotInteger, _) if var == "Reviewer" => {
                (NOT_AN_INTEGER.to_owned(), ValueCase::NotInteger)
            }
            (ValueCase::Zero, _) => ("0".to_owned(), ValueCase::Zero),
            (ValueCase::Empty, _) => (String::new(), ValueCase::Empty),
            (ValueCase::Nowhere, _) | (ValueCase::Outside, "Tenant") => nowhere,
            (ValueCase::Outside, "User") => (self.p.user["prod.only"].to_string(), case),
            (ValueCase::Outside, "Group") => {
                (self.p.group[&("Interviewers", "Users")].to_string(), case)
            }
            (ValueCase::Outside | ValueCase::BrokenTree, "Process" | "Activity") => {
                let wanted = |root: &str, broken: bool| match case {
                    ValueCase::Outside => root == PROD_ONLY_DEFINITION && !broken,
                    _ => broken,
                };
                self.instance(entity, k, wanted)
                    .map_or(nowhere, |id| (id.to_string(), case))
            }
            _ => self.matched(entity, k),
        }
    }

    /// A value that qa has under the same natural key, or that moves.
    fn matched(&self, entity: &str, k: usize) -> (String, ValueCase) {
        let id = match entity {
            "User" => Some(self.p.user[MATCHED_USERS[k % MATCHED_USERS.len()]]),
            "Group" => Some(self.p.group[&MATCHED_GROUPS[k % MATCHED_GROUPS.len()]]),
            "Tenant" => Some(self.p.tenant[MATCHED_TENANTS[k % MATCHED_TENANTS.len()]]),
            _ => self.instance(entity, k, |root, broken| {
                !broken && MOVED_ROOTS.contains(&root)
            }),
        };
        match id {
            Some(id) => (id.to_string(), ValueCase::Matched),
            None => (NOWHERE_ID.to_string(), ValueCase::Nowhere),
        }
    }

    /// The `k`-th-ish process or activity generated so far whose tree is `wanted`.
    fn instance(&self, entity: &str, k: usize, wanted: impl Fn(&str, bool) -> bool) -> Option<i64> {
        let ids: Vec<i64> = if entity == "Process" {
            let p = self.seen.processes.iter();
            p.filter(|(_, root, b)| wanted(root, *b))
                .map(|p| p.0)
                .collect()
        } else {
            let a = self.seen.activities.iter();
            a.filter(|(_, _, root, b)| wanted(root, *b))
                .map(|a| a.0)
                .collect()
        };
        (!ids.is_empty()).then(|| ids[(k * 7 + 3) % ids.len()])
    }

    fn shaped(
        &mut self,
        table: &'static str,
        row_id: i64,
        var: &Var,
        entity: &'static str,
        value: (String, ValueCase),
    ) -> Lit {
        let (value, case) = value;
        self.record.values.push(ShapedValue {
            table,
            row_id,
            variable: var.name,
            entity,
            value: value.clone(),
            case,
        });
        Lit::Text(value)
    }

    pub(super) fn identifier_input(
        &mut self,
        s: &Spawn,
        process: i64,
        v: &Var,
        entity: &'static str,
    ) {
        let value = self.identifier(s, v.name, entity);
        let id = self.input_ids.take(self.rng);
        let value = self.shaped(c::PROCESS_INPUT, id, v, entity, value);
        let def = Lit::opt_int(self.p.input_def.get(&(s.def.name, v.name)).copied());
        let key = input_key(s.def.name, v.name);
        let row = super::variable_row([id, s.tenant], def, process, key, v, value);
        self.sink
            .row(c::PROCESS_INPUT, PROCESS_INPUT_COLUMNS, 0, row);
    }

    pub(super) fn identifier_output(
        &mut self,
        s: &Spawn,
        process: i64,
        v: &Var,
        entity: &'static str,
    ) {
        let value = self.identifier(s, v.name, entity);
        let id = self.output_ids.take(self.rng);
        let value = self.shaped(c::PROCESS_OUTPUT, id, v, entity, value);
        let def = Lit::opt_int(self.p.output_def.get(&(s.def.name, v.name)).copied());
        let key = output_key(s.def.name, v.name);
        let row = super::variable_row([id, s.tenant], def, process, key, v, value);
        self.sink
            .row(c::PROCESS_OUTPUT, PROCESS_OUTPUT_COLUMNS, 0, row);
    }

    pub(super) fn identifier_activity_output(
        &mut self,
        s: &Spawn,
        step: &Step,
        v: &Var,
        entity: &'static str,
    ) {
        let value = self.identifier(s, v.name, entity);
        let id = self.act_output_ids.take(self.rng);
        let value = self.shaped(c::ACTIVITY_OUTPUT, id, v, entity, value);
        let a = step.def;
        let def = Lit::Int(self.p.activity_output_def[&(s.def.name, a.name, v.name)]);
        let key = activity_output_key(s.def.name, a.name, v.name);
        let row = super::variable_row([id, s.tenant], def, step.id, key, v, value);
        self.sink
            .row(c::ACTIVITY_OUTPUT, ACTIVITY_OUTPUT_COLUMNS, 0, row);
    }

    /// The open `Review` activity `activity` subscribing updates of a user: the reviewer
    /// (a prod-only one in the `Outside` trees), in the users' tenant.
    pub(super) fn user_subscription(&mut self, s: &Spawn, activity: i64) {
        let (case, k) = s.fixed.case.unwrap_or((ValueCase::Matched, 0));
        let user = if case == ValueCase::Outside {
            self.p.user["prod.only"]
        } else {
            self.p.user[MATCHED_USERS[k % MATCHED_USERS.len()]]
        };
        let mut row = fixed_event_columns(self.p.espace["HRPortal"], s.tenant, activity);
        row.extend([Lit::Int(user), Lit::Int(self.p.tenant["Users"])]);
        self.sink.row(USER_EVENT_TABLE, EVENT_COLUMNS, 0, row);
    }

    /// The open Recruitment activity `activity` subscribing updates of its candidate's job
    /// offer (the offer's ID is the candidate's), with the offer's tenant, candidate and
    /// recruiter (a user of the tenant, some of them prod-only) as filters.
    pub(super) fn job_offer_subscription(&mut self, s: &Spawn, activity: i64) {
        let users: Vec<i64> = USERS
            .iter()
            .filter_map(|u| self.p.user.get(u.0).map(|id| (u.2, *id)))
            .filter(|(t, _)| self.p.tenant[*t] == s.tenant)
            .map(|(_, id)| id)
            .collect();
        let recruiter = if users.is_empty() {
            Lit::Null
        } else {
            Lit::Int(users[(activity as usize) % users.len()])
        };
        let mut row = fixed_event_columns(self.p.espace["Recruitment"], s.tenant, activity);
        row.extend([
            Lit::Int(s.candidate),
            Lit::Int(s.tenant),
            Lit::Int(s.candidate),
            recruiter,
        ]);
        self.sink
            .row(JOB_OFFER_EVENT_TABLE, JOB_OFFER_EVENT_COLUMNS, 0, row);
    }
}

/// The six fixed columns of an update subscription of `activity`.
fn fixed_event_columns(espace: i64, tenant: i64, activity: i64) -> Vec<Lit> {
    vec![
        Lit::Int(espace),
        Lit::Int(tenant),
        Lit::Int(activity),
        Lit::Null,
        Lit::Bool(true),
        Lit::Bool(false),
    ]
}
