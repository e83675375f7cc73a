//! `ids.strategy = "generated"|"auto"` and `[load.tables]`.

use super::*;

#[test]
fn the_generated_and_auto_strategies_are_read() {
    for (text, want) in [
        ("generated", IdStrategy::Generated),
        ("auto", IdStrategy::Auto),
        ("renumber", IdStrategy::Renumber),
    ] {
        let config = parse(&with(&format!("[ids]\nstrategy = \"{text}\""))).unwrap();
        assert_eq!(config.ids, want);
        assert_eq!(config.ids.as_str(), text);
    }
    let p = single_problem(&with("[ids]\nstrategy = \"identity\""));
    assert_eq!(p.key, "ids.strategy");
}

#[test]
fn load_tables_names_all_four_existing_tables() {
    let config = parse(&with(
        "[load.tables]\nledger = \"OSUSR_ABC_LEDGER\"\ntrees = \"OSUSR_ABC_TREE\"\n\
         lock = \"OSUSR_ABC_LOCK\"\npairs = \"OSUSR_ABC_PAIR\"",
    ))
    .unwrap();
    assert_eq!(
        config.load.tables,
        Some(OwnTables {
            ledger: "OSUSR_ABC_LEDGER".into(),
            trees: "OSUSR_ABC_TREE".into(),
            lock: "OSUSR_ABC_LOCK".into(),
            pairs: "OSUSR_ABC_PAIR".into(),
        })
    );
    assert_eq!(parse(MINIMAL).unwrap().load.tables, None);
}

#[test]
fn load_tables_refuses_a_missing_a_bad_and_an_unknown_name_at_once() {
    let problems = problems(&with(
        "[load.tables]\nledger = \"OSUSR_ABC_LEDGER\"\ntrees = \"dbo.TREE\"\n\
         lock = \"OSUSR_ABC_LOCK\"\nchunks = \"X\"",
    ));
    let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
    assert!(keys.contains(&"load.tables.trees"), "{problems:#?}");
    assert!(keys.contains(&"load.tables.pairs"), "{problems:#?}");
    assert!(keys.contains(&"load.tables.chunks"), "{problems:#?}");
    let missing = problems
        .iter()
        .find(|p| p.key == "load.tables.pairs")
        .unwrap();
    assert!(missing.message.contains("all four"), "{}", missing.message);
}
