use super::*;

fn live(name: &str, ty: &str, len: Option<i64>, nullable: bool) -> Live {
    Live {
        name: name.into(),
        data_type: ty.into(),
        len,
        nullable,
        defaulted: false,
        identity: false,
    }
}

fn lengths() -> Lengths {
    Lengths {
        run_id: 16,
        table: 25,
        chunk: 14,
        fingerprint: 64,
        host: 10,
        workdir: 40,
    }
}

/// The pairs table as an OutSystems developer would make it: an `ID` identity, names in
/// another case, long enough texts.
fn entity_pairs() -> Vec<Live> {
    vec![
        Live {
            identity: true,
            ..live("ID", "bigint", None, false)
        },
        live("Run_Id", "nvarchar", Some(50), true),
        live("table_name", "nvarchar", Some(50), true),
        live("CHUNK", "nvarchar", Some(50), true),
        live("OLD_ID", "int", None, true),
        live("NEW_ID", "bigint", None, true),
    ]
}

#[test]
fn an_entity_with_an_identity_and_names_in_any_case_fits() {
    let [.., (key, needed)] = needed(&lengths());
    assert_eq!(key, "pairs");
    assert_eq!(
        compare("OSUSR_X_PAIRS", key, &needed, &entity_pairs()),
        Vec::<String>::new()
    );
}

#[test]
fn every_problem_is_named_with_its_table_and_what_to_do() {
    let [(key, needed), ..] = needed(&lengths());
    let columns = vec![
        live("RUN_ID", "nvarchar", Some(10), false),
        live("TABLE_NAME", "nvarchar", None, false),
        live("CHUNK", "int", None, false),
        live("ROWS_LOADED", "bigint", None, false),
        live("DIGEST", "nvarchar", Some(64), false),
        live("MIN_ID", "int", None, false),
        live("LOADED_AT", "datetime2", None, false),
        live("NOTE", "nvarchar", Some(50), false),
        Live {
            defaulted: true,
            ..live("CREATED", "datetime", None, false)
        },
    ];
    let problems = compare("L", key, &needed, &columns);
    assert_eq!(
        problems,
        vec![
            "`L` (`[load.tables].ledger`) column `RUN_ID` is nvarchar(10); it must be text of \
             at least 16 characters"
                .to_owned(),
            "`L` (`[load.tables].ledger`) column `CHUNK` is int; it must be text of at least \
             14 characters"
                .to_owned(),
            "`L` (`[load.tables].ledger`) column `MIN_ID` must allow NULL (bptmig leaves it \
             empty where it has no value)"
                .to_owned(),
            "`L` (`[load.tables].ledger`) lacks column `MAX_ID` (an integer, nullable)".to_owned(),
            "`L` (`[load.tables].ledger`) column `NOTE` is not bptmig's and is NOT NULL without \
             a default: bptmig cannot fill it; make it nullable, give it a default, or drop it"
                .to_owned(),
        ]
    );
    assert_eq!(
        compare("Z", "lock", &needed, &[]),
        vec!["`Z` (`[load.tables].lock`) does not exist in the target; create it first".to_owned()]
    );
}

#[test]
fn a_unique_index_on_the_key_or_fewer_of_its_columns_holds_it_one_on_the_entity_id_does_not() {
    let set = |cols: &[&str]| cols.iter().map(|c| (*c).to_owned()).collect::<HashSet<_>>();
    let (_, key) = UNIQUE_KEYS[3];
    assert_eq!(key, ["RUN_ID", "TABLE_NAME", "OLD_ID"]);
    let exact = [set(&["OLD_ID", "RUN_ID", "TABLE_NAME"])];
    assert_eq!(
        missing_unique("OSUSR_BPT_PAIRS", "pairs", key, &exact),
        None
    );
    // Fewer columns are unique, so the key is too.
    let lock = [set(&["LOCK_NAME"])];
    assert_eq!(missing_unique("L", "lock", UNIQUE_KEYS[2].1, &lock), None);
    // An entity's primary key on `ID`, or an index with a column outside the key, is not.
    let entity = [set(&["ID"]), set(&["RUN_ID", "TABLE_NAME", "CHUNK", "ID"])];
    let why = missing_unique("OSUSR_BPT_LEDGER", "ledger", UNIQUE_KEYS[0].1, &entity).unwrap();
    assert!(
        why.starts_with(
            "`OSUSR_BPT_LEDGER` (`[load.tables].ledger`) has no unique index on `RUN_ID` + \
             `TABLE_NAME` + `CHUNK`"
        ),
        "{why}"
    );
    assert!(why.contains("CREATE UNIQUE INDEX … ON OSUSR_BPT_LEDGER (RUN_ID, TABLE_NAME, CHUNK)"));
    assert!(missing_unique("T", "trees", UNIQUE_KEYS[1].1, &[]).is_some());
}
