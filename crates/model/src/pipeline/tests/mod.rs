use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Table;

use super::*;

const FILE: &str = "/srv/pipelines/prod-to-qa.toml";

fn env(name: &str) -> Option<String> {
    match name {
        "PROD_PW" => Some("prod-secret".to_owned()),
        "QA_PW" => Some("qa;secret".to_owned()),
        "PROD_DB_PASSWORD" => Some("example-prod-secret".to_owned()),
        "QA_DB_PASSWORD" => Some("example-qa-secret".to_owned()),
        "BPTMIG_DEMO_PASSWORD" => Some("demo-secret".to_owned()),
        "PROD_HOST" => Some("sql-prod".to_owned()),
        "BPTMIG_ANON_KEY" => Some("example-anonymisation-secret".to_owned()),
        "WHOLE" => Some("server=tcp:x,1;user=u;Password=whole-secret".to_owned()),
        _ => None,
    }
}

fn parse(text: &str) -> Result<PipelineConfig, ConfigError> {
    PipelineConfig::parse(text, Path::new(FILE), &env)
}

/// The problems of a file that must be rejected.
fn problems(text: &str) -> Vec<Problem> {
    match parse(text) {
        Err(ConfigError::Invalid { path, problems }) => {
            assert_eq!(path, Path::new(FILE));
            assert!(!problems.is_empty());
            problems
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

/// The one problem of a file that must be rejected for exactly one reason.
fn single_problem(text: &str) -> Problem {
    let mut problems = problems(text);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    problems.remove(0)
}

const MINIMAL: &str = r#"
workdir = "work"
[source]
connection = "server=tcp:prod,1433;user=sa;password=${PROD_PW}"
[target]
connection = "server=tcp:qa,1433;user=sa;password=${PROD_PW}"
"#;

/// `MINIMAL` plus tables (or keys of `[target]`) at the end.
fn with(extra: &str) -> String {
    format!("{MINIMAL}\n{extra}\n")
}

/// `MINIMAL` plus top-level keys.
fn with_top(extra: &str) -> String {
    format!("{extra}\n{MINIMAL}")
}

const FULL: &str = r#"
workdir = "/var/lib/bptmig/run-1"

[source]
connection = "server=tcp:${PROD_HOST},1433;user=reader;password=${PROD_PW};Encrypt=true"
connect_timeout_secs = 30
command_timeout_secs = 0
retries = 0
retry_delay_secs = 7

[target]
connection = "server=tcp:qa,1433;user=writer;PWD='${PROD_PW}'"
connect_timeout_secs = 600

[selection]
statuses = ["Closed", "Terminated"]
created_from = "2023-01-01"
created_to = "2024-01-01T06:30:00"
tenants = ["Users", "Partners"]
process_definitions = ["Candidate Selection"]
espaces = ["HRPortal"]
include_inactive_definitions = false
already_moved = "fail"
broken_tree = "skip"

[mapping]
file = "maps/users.csv"
unmapped_user = "user:placeholder"
unmapped_group = "group:Everyone"
unmapped_definition = "skip-tree"
unmoved_reference = "keep"

[mapping.entity_maps]
OSUSR_3AR_CANDIDATE = "maps/candidate.csv"
OSUSR_3AR_EMPLOYEE = "/data/employee.PARQUET"

[ids]
strategy = "keep"

[extract]
part_rows = 50000
row_group_rows = 5000

[transform]
clear_scheduler_locks = false

[load]
strategy = "insert"
batch_rows = 1000
chunk_rows = 20000
ledger_table = "MY_LEDGER_2"
"#;

#[test]
fn full_file_parses_to_the_expected_config() {
    let config = parse(FULL).unwrap();
    let expected = PipelineConfig {
        path: PathBuf::from(FILE),
        workdir: PathBuf::from("/var/lib/bptmig/run-1"),
        source: Endpoint {
            connection: ConnectionString::new(
                "server=tcp:sql-prod,1433;user=reader;password=prod-secret;Encrypt=true",
            ),
            connect_timeout: Duration::from_secs(30),
            command_timeout: CommandTimeout {
                limit: None,
                origin: SettingOrigin::Pipeline,
            },
            retries: 0,
            retry_delay: Duration::from_secs(7),
        },
        target: Endpoint {
            connect_timeout: Duration::from_mins(10),
            ..Endpoint::new(ConnectionString::new(
                "server=tcp:qa,1433;user=writer;PWD='prod-secret'",
            ))
        },
        selection: Selection {
            statuses: vec!["Closed".into(), "Terminated".into()],
            created_from: Some("2023-01-01".into()),
            created_to: Some("2024-01-01T06:30:00".into()),
            tenants: vec!["Users".into(), "Partners".into()],
            process_definitions: vec!["Candidate Selection".into()],
            espaces: vec!["HRPortal".into()],
            include_inactive_definitions: false,
            already_moved: AlreadyMoved::Fail,
            broken_tree: BrokenTree::Skip,
        },
        mapping: Mapping {
            file: Some(PathBuf::from("/srv/pipelines/maps/users.csv")),
            unmapped_user: UnmappedPrincipal::To("placeholder".into()),
            unmapped_group: UnmappedPrincipal::To("Everyone".into()),
            unmapped_definition: UnmappedDefinition::SkipTree,
            unmoved_reference: UnmovedReference::Keep,
            entity_maps: BTreeMap::from([
                (
                    "OSUSR_3AR_CANDIDATE".to_owned(),
                    PathBuf::from("/srv/pipelines/maps/candidate.csv"),
                ),
                (
                    "OSUSR_3AR_EMPLOYEE".to_owned(),
                    PathBuf::from("/data/employee.PARQUET"),
                ),
            ]),
        },
        ids: IdStrategy::Keep,
        extract: ExtractSettings {
            part_rows: 50_000,
            row_group_rows: 5000,
        },
        transform: TransformSettings {
            clear_scheduler_locks: false,
        },
        load: LoadSettings {
            strategy: LoadStrategy::Insert,
            batch_rows: 1000,
            chunk_rows: 20_000,
            ledger_table: "MY_LEDGER_2".into(),
            tables: None,
        },
        anonymize: None,
    };
    assert_eq!(config, expected);
    assert_eq!(
        config.target.connection.masked(),
        "server=tcp:qa,1433;user=writer;PWD=***"
    );
}

#[test]
fn absent_optional_keys_take_their_defaults() {
    let config = parse(MINIMAL).unwrap();
    assert_eq!(config.workdir, Path::new("/srv/pipelines/work"));
    for endpoint in [&config.source, &config.target] {
        assert_eq!(endpoint.connect_timeout, Duration::from_secs(15));
        assert_eq!(
            endpoint.command_timeout,
            CommandTimeout {
                limit: Some(Duration::from_secs(30)),
                origin: SettingOrigin::Default
            }
        );
        assert_eq!(endpoint.retries, 5);
        assert_eq!(endpoint.retry_delay, Duration::from_secs(2));
        assert_eq!(*endpoint, Endpoint::new(endpoint.connection.clone()));
    }
    assert_eq!(config.selection, Selection::default());
    assert!(config.selection.include_inactive_definitions);
    assert!(config.selection.statuses.is_empty());
    assert_eq!(config.mapping, Mapping::default());
    assert_eq!(config.mapping.unmapped_user, UnmappedPrincipal::Fail);
    assert_eq!(config.mapping.unmapped_definition, UnmappedDefinition::Fail);
    assert_eq!(config.ids, IdStrategy::Renumber);
    assert_eq!(
        config.extract,
        ExtractSettings {
            part_rows: 100_000,
            row_group_rows: 10_000
        }
    );
    assert!(config.transform.clear_scheduler_locks);
    assert_eq!(
        config.load,
        LoadSettings {
            strategy: LoadStrategy::Auto,
            batch_rows: 200,
            chunk_rows: 5000,
            ledger_table: "BPTMIG_LEDGER".into(),
            tables: None,
        }
    );
    // Empty tables behave like absent ones.
    let config = parse(&with(
        "[selection]\n[mapping]\n[ids]\n[extract]\n[transform]\n[load]\n",
    ))
    .unwrap();
    assert_eq!(config, parse(MINIMAL).unwrap());
}

#[test]
fn dependent_defaults_shrink_to_fit() {
    let config = parse(&with("[extract]\npart_rows = 500\n[load]\nchunk_rows = 50")).unwrap();
    assert_eq!(config.extract.row_group_rows, 500);
    assert_eq!(config.load.batch_rows, 50);
}

#[test]
fn unknown_top_level_key_is_named_with_the_file() {
    let problem = single_problem(&with_top("workdirr = \"x\""));
    assert_eq!(problem.key, "workdirr");
    assert!(
        problem.message.contains("unknown key `workdirr`"),
        "{problem}"
    );
    assert!(
        problem.message.contains("workdir, source, target"),
        "{problem}"
    );
    let message = parse(&with_top("workdirr = \"x\""))
        .unwrap_err()
        .to_string();
    assert!(
        message.starts_with(&format!("pipeline file `{FILE}` has 1 problem:")),
        "{message}"
    );
    assert!(
        message.contains("\n  - `workdirr`: unknown key"),
        "{message}"
    );
}

#[test]
fn unknown_nested_key_is_named_with_its_path() {
    let problem = single_problem(&with("[selection]\nstatuse = [\"Closed\"]"));
    assert_eq!(problem.key, "selection.statuse");
    assert!(
        problem.message.starts_with(
            "unknown key `selection.statuse`; expected one of: statuses, created_from"
        ),
        "{problem}"
    );
    let problem = single_problem(&with("[mapping.entity_maps]\n[load]\nbatch = 5"));
    assert_eq!(problem.key, "load.batch");
    let problem = single_problem(&with("[source.extra]\n"));
    assert_eq!(problem.key, "source.extra");
}

#[test]
fn missing_required_keys_are_reported() {
    let problems = problems("");
    let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["workdir", "source", "target"]);
    assert!(problems[1]
        .message
        .contains("missing required table `[source]`"));

    let problem = single_problem(&MINIMAL.replace(
        "connection = \"server=tcp:qa,1433;user=sa;password=${PROD_PW}\"",
        "connect_timeout_secs = 5",
    ));
    assert_eq!(problem.key, "target.connection");
    assert!(
        problem.message.starts_with("missing required key"),
        "{problem}"
    );
    assert!(problem
        .to_string()
        .starts_with("`target.connection`: missing required key"));
}

#[test]
fn wrong_types_say_what_was_expected_and_found() {
    let problem = single_problem(&with("[load]\nbatch_rows = \"many\""));
    assert_eq!(problem.key, "load.batch_rows");
    assert_eq!(
        problem.message,
        "expected an integer from 1 to 1000, found string \"many\""
    );
    let problem = single_problem(&with("[load]\nbatch_rows = 1001"));
    assert_eq!(
        problem.message,
        "expected an integer from 1 to 1000, found integer 1001"
    );
    let problem = single_problem(&with("[extract]\npart_rows = 0"));
    assert_eq!(
        problem.message,
        "expected an integer of at least 1, found integer 0"
    );
    let problem = single_problem(&with("[transform]\nclear_scheduler_locks = \"yes\""));
    assert_eq!(problem.key, "transform.clear_scheduler_locks");
    assert!(problem.message.contains("`true` or `false`"), "{problem}");
    let problem = single_problem(&with_top("selection = 3"));
    assert_eq!(problem.key, "selection");
    assert!(
        problem.message.contains("a table `[selection]`"),
        "{problem}"
    );
    let problem = single_problem(&with("[ids]\nstrategy = \"Keep\""));
    assert_eq!(
        problem.message,
        "expected one of \"renumber\", \"keep\", \"generated\", \"auto\", found string \"Keep\""
    );
    let problem = single_problem(&with("[selection]\ntenants = [\"Users\", 3]"));
    assert_eq!(problem.key, "selection.tenants[1]");
    let problem = single_problem(&MINIMAL.replace("workdir = \"work\"", "workdir = 7"));
    assert_eq!(problem.key, "workdir");
    assert!(problem.message.ends_with("found integer 7"), "{problem}");
    let problem = single_problem(&with("[source.connect_timeout_secs]"));
    assert_eq!(problem.key, "source.connect_timeout_secs");
    assert!(problem.message.ends_with("found a table"), "{problem}");
}

#[test]
fn bad_values_are_reported() {
    let cases = [
        (
            "[mapping]\nunmapped_user = \"group:x\"",
            "mapping.unmapped_user",
        ),
        (
            "[mapping]\nunmapped_user = \"user:\"",
            "mapping.unmapped_user",
        ),
        (
            "[mapping]\nunmapped_group = \"delete\"",
            "mapping.unmapped_group",
        ),
        (
            "[mapping]\nunmapped_definition = \"skip\"",
            "mapping.unmapped_definition",
        ),
        (
            "[mapping.entity_maps]\nOSUSR_X = \"ids.txt\"",
            "mapping.entity_maps.OSUSR_X",
        ),
        (
            "[mapping.entity_maps]\n\"dbo.T\" = 1",
            "mapping.entity_maps.\"dbo.T\"",
        ),
        ("[load]\nledger_table = \"dbo.LEDGER\"", "load.ledger_table"),
        ("[load]\nledger_table = \"1LEDGER\"", "load.ledger_table"),
        ("[load]\nstrategy = \"fast\"", "load.strategy"),
        ("[selection]\nstatuses = [\"\"]", "selection.statuses[0]"),
        ("[selection]\nespaces = [\" HR\"]", "selection.espaces[0]"),
        (
            "[extract]\npart_rows = 10\nrow_group_rows = 11",
            "extract.row_group_rows",
        ),
        (
            "[load]\nchunk_rows = 10\nbatch_rows = 11",
            "load.batch_rows",
        ),
        (
            "[source]\nconnect_timeout_secs = 601",
            "source.connect_timeout_secs",
        ),
        (
            "[source]\ncommand_timeout_secs = 86401",
            "source.command_timeout_secs",
        ),
        (
            "[source]\ncommand_timeout_secs = -1",
            "source.command_timeout_secs",
        ),
        ("[source]\nretries = 101", "source.retries"),
        ("[source]\nretries = -1", "source.retries"),
        (
            "[source]\nretry_delay_secs = 601",
            "source.retry_delay_secs",
        ),
        (
            "[source]\nretry_delay_secs = 1.5",
            "source.retry_delay_secs",
        ),
    ];
    for (extra, key) in cases {
        let text = if extra.starts_with("[source]") {
            MINIMAL.replace("[source]", extra)
        } else {
            with(extra)
        };
        let problem = single_problem(&text);
        assert_eq!(problem.key, key, "{extra}: {problem}");
    }
    let problem = single_problem(&with("[mapping]\nunmapped_user = \"group:x\""));
    assert_eq!(
        problem.message,
        "expected \"fail\", \"null\" or \"user:<username>\", found string \"group:x\""
    );
}

#[test]
fn selection_dates_are_checked() {
    let ok = parse(&with(
        "[selection]\ncreated_from = 2024-02-29\ncreated_to = 2024-03-01T12:00:00",
    ))
    .unwrap();
    assert_eq!(ok.selection.created_from.as_deref(), Some("2024-02-29"));
    assert_eq!(
        ok.selection.created_to.as_deref(),
        Some("2024-03-01T12:00:00")
    );

    let problem = single_problem(&with("[selection]\ncreated_from = \"2024/01/01\""));
    assert_eq!(problem.key, "selection.created_from");
    assert!(problem.message.contains("\"YYYY-MM-DD\""), "{problem}");
    for bad in [
        "2023-02-29",
        "2024-13-01",
        "2024-04-31",
        "2024-01-01T24:00:00",
        "1700-01-01",
    ] {
        let problem = single_problem(&with(&format!("[selection]\ncreated_to = \"{bad}\"")));
        assert_eq!(problem.key, "selection.created_to");
        assert!(
            problem.message.contains("is not a valid date"),
            "{bad}: {problem}"
        );
    }
    let problem = single_problem(&with("[selection]\ncreated_from = 2024-01-01T00:00:00Z"));
    assert!(problem.message.contains("found datetime"), "{problem}");

    let problem = single_problem(&with(
        "[selection]\ncreated_from = \"2024-01-01\"\ncreated_to = \"2024-01-01T00:00:00\"",
    ));
    assert_eq!(problem.key, "selection.created_to");
    assert!(problem.message.contains("must be later than"), "{problem}");
    parse(&with(
        "[selection]\ncreated_from = \"2024-01-01\"\ncreated_to = \"2024-01-01T00:00:01\"",
    ))
    .unwrap();
}

#[test]
fn several_problems_are_reported_together() {
    let text = r#"
workdir = ""
colour = "blue"
[source]
connection = "server=a;password=literal"
[target]
connection = "server=b;password=${MISSING_ONE}"
[selection]
statuse = []
created_from = "yesterday"
[load]
batch_rows = "many"
strategy = "turbo"
"#;
    let problems = problems(text);
    let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "colour",
            "workdir",
            "source.connection",
            "target.connection",
            "selection.statuse",
            "selection.created_from",
            "load.strategy",
            "load.batch_rows",
        ]
    );
    let message = parse(text).unwrap_err().to_string();
    assert!(message.contains("has 8 problems:"), "{message}");
    assert_eq!(message.matches("\n  - `").count(), 8, "{message}");
    assert!(!message.contains("literal"), "{message}");
}

#[test]
fn toml_syntax_errors_give_line_and_column_without_secrets() {
    let text = "workdir = \"w\"\n[source]\nconnection = \"server=x;password=hunter2\n";
    let problems = problems(text);
    assert!(problems.iter().all(|p| p.key.is_empty()));
    assert!(
        problems[0]
            .message
            .starts_with("TOML syntax error at line 3, column"),
        "{problems:?}"
    );
    let message = parse(text).unwrap_err().to_string();
    assert!(!message.contains("hunter2"), "{message}");

    let problems = self::problems("a = = 1\nb = [\nc = 2\n");
    assert!(!problems.is_empty());
    assert!(
        problems[0].message.contains("line 1, column 5"),
        "{problems:?}"
    );

    let problem = single_problem("workdir = \"a\"\nworkdir = \"b\"\n");
    assert!(problem.message.contains("line 2"), "{problem}");
}

#[test]
fn relative_paths_are_resolved_against_the_file_directory() {
    let text = format!(
        "{}\n[mapping]\nfile = \"../maps/m.csv\"\n[mapping.entity_maps]\nT = \"ids.parquet\"\n",
        MINIMAL.replace("workdir = \"work\"", "workdir = \"../work/run\"")
    );
    let config = PipelineConfig::parse(&text, Path::new("conf/p.toml"), &env).unwrap();
    assert_eq!(config.workdir, Path::new("work/run"));
    assert_eq!(
        config.mapping.file.as_deref(),
        Some(Path::new("maps/m.csv"))
    );
    assert_eq!(
        config.mapping.entity_maps["T"],
        Path::new("conf/ids.parquet")
    );
    // A file named without a directory: paths stay relative to the current directory.
    let config = PipelineConfig::parse(&text, Path::new("p.toml"), &env).unwrap();
    assert_eq!(config.workdir, Path::new("../work/run"));
    // Absolute paths are kept.
    let config = parse(&MINIMAL.replace("\"work\"", "\"/abs/work\"")).unwrap();
    assert_eq!(config.workdir, Path::new("/abs/work"));
}

#[test]
fn load_reports_an_unreadable_file() {
    let path = Path::new("/nonexistent/bptmig/pipeline.toml");
    let error = PipelineConfig::load(path).unwrap_err();
    assert!(matches!(&error, ConfigError::Read { path: p, .. } if p == path));
    let message = error.to_string();
    assert!(
        message.contains("`/nonexistent/bptmig/pipeline.toml`"),
        "{message}"
    );
    assert!(std::error::Error::source(&error).is_some());
}

mod anonymize;
mod endpoint;
mod secrets;
mod shipped;
mod tables;
