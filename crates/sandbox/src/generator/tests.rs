use std::collections::BTreeMap;

use bptmig_model::catalog as c;

use super::*;
use crate::sql::Lit;

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

#[test]
fn history_tables_are_the_instance_tables_then_the_subscriptions() {
    let instance: Vec<&str> = c::INSTANCE_TABLES.iter().map(|t| t.name).collect();
    assert_eq!(HISTORY_TABLES[..instance.len()], instance[..]);
    assert_eq!(HISTORY_TABLES[instance.len()..], [CANDIDATE_EVENT_TABLE]);
}
