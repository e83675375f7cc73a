//! `[anonymize]`: the key from the environment, the rules, and the rules refused when the
//! pipeline is read.

use std::path::Path;

use super::{with, MINIMAL};
use crate::pipeline::{AnonMethod, AnonRule, ConfigError, FakeKind, PipelineConfig, Problem};

const KEY_VAR: &str = "BPTMIG_ANON_KEY";
const SECRET: &str = "an-anonymisation-secret-0123";

fn env(name: &str) -> Option<String> {
    match name {
        KEY_VAR => Some(SECRET.to_owned()),
        "EMPTY_KEY" => Some(String::new()),
        "SHORT_KEY" => Some("x".repeat(15)),
        _ => super::env(name),
    }
}

fn parse(text: &str) -> Result<PipelineConfig, ConfigError> {
    PipelineConfig::parse(text, Path::new("/srv/p.toml"), &env)
}

fn problems(text: &str) -> Vec<Problem> {
    match parse(text) {
        Err(ConfigError::Invalid { problems, .. }) => problems,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

/// `[anonymize]` with the key and one rule of `rule`'s keys.
fn one_rule(rule: &str) -> String {
    with(&format!(
        "[anonymize]\nkey = \"${{{KEY_VAR}}}\"\n[[anonymize.rules]]\n{rule}\n"
    ))
}

/// The one problem of a single rule, which must be refused.
fn refused(rule: &str) -> Problem {
    let mut p = problems(&one_rule(rule));
    assert_eq!(p.len(), 1, "{p:#?}");
    p.remove(0)
}

#[test]
fn the_issue_example_parses_with_the_key_masked() {
    let text = with(&format!(
        r#"[anonymize]
key = "${{{KEY_VAR}}}"
[[anonymize.rules]]
column = "OSSYS_BPM_PROCESS.LABEL"
method = "fake"
kind = "person"
[[anonymize.rules]]
column = "OSSYS_BPM_PROCESS_INPUT.INPUT_VALUE"
name = "CandidateEmail"
method = "hash"
[[anonymize.rules]]
column = "ossys_bpm_activity.inbox_detail"
method = "keep-format"
[[anonymize.rules]]
column = "OSSYS_BPM_ACTIVITY_OUTPUT.OUTPUT_VALUE"
definition = "CandidateSelection"
data_type = "rtText"
method = "clear"
"#
    ));
    let config = parse(&text).unwrap();
    let a = config.anonymize.unwrap();
    assert_eq!(a.key.expose(), SECRET.as_bytes());
    assert_eq!(a.key.var, KEY_VAR);
    for shown in [format!("{:?}", a.key), a.key.to_string(), format!("{a:?}")] {
        assert!(!shown.contains(SECRET), "{shown}");
    }
    let methods: Vec<String> = a.rules.iter().map(AnonRule::method_name).collect();
    assert_eq!(methods, ["fake:person", "hash", "keep-format", "clear"]);
    assert_eq!(a.rules[0].method, AnonMethod::Fake(FakeKind::Person));
    assert_eq!(a.rules[1].name.as_deref(), Some("CandidateEmail"));
    assert_eq!(a.rules[2].key(), "anonymize.rules[3]");
    assert_eq!(a.rules[3].definition.as_deref(), Some("CandidateSelection"));
    assert_eq!(a.rules[3].data_type.as_deref(), Some("rtText"));
}

#[test]
fn without_the_section_there_is_nothing_to_anonymise() {
    assert_eq!(parse(MINIMAL).unwrap().anonymize, None);
}

#[test]
fn a_missing_or_empty_key_variable_is_named() {
    for var in ["NOT_SET_ANYWHERE", "EMPTY_KEY"] {
        let text = with(&format!(
            "[anonymize]\nkey = \"${{{var}}}\"\n[[anonymize.rules]]\n\
             column = \"OSSYS_BPM_PROCESS.LABEL\"\nmethod = \"clear\"\n"
        ));
        let p = problems(&text);
        assert_eq!(p.len(), 1, "{p:#?}");
        assert_eq!(p[0].key, "anonymize.key");
        assert!(
            p[0].message.contains(&format!("`{var}`")),
            "{}",
            p[0].message
        );
        assert!(
            p[0].message.contains("not set or empty"),
            "{}",
            p[0].message
        );
    }
}

#[test]
fn a_key_shorter_than_16_bytes_is_refused_without_echoing_it() {
    let p = problems(&with("[anonymize]\nkey = \"${SHORT_KEY}\""));
    assert_eq!(p.len(), 1, "{p:#?}");
    assert_eq!(p[0].key, "anonymize.key");
    assert!(p[0].message.contains("15 byte(s)"), "{}", p[0].message);
    assert!(
        !p[0].message.contains("xxxxxxxxxxxxxxx"),
        "{}",
        p[0].message
    );
}

#[test]
fn a_literal_key_is_refused_without_echoing_it() {
    let text = with(
        "[anonymize]\nkey = \"literal-secret-value\"\n[[anonymize.rules]]\n\
         column = \"OSSYS_BPM_PROCESS.LABEL\"\nmethod = \"clear\"\n",
    );
    let p = problems(&text);
    assert_eq!(p[0].key, "anonymize.key");
    assert!(!p[0].message.contains("literal-secret-value"));
    let text = with("[anonymize]\n[[anonymize.rules]]\ncolumn = \"OSSYS_BPM_PROCESS.LABEL\"\nmethod = \"clear\"\n");
    assert!(problems(&text)[0].message.contains("missing required key"));
}

#[test]
fn keys_foreign_keys_and_definition_columns_are_refused_naming_the_rule() {
    let cases = [
        ("OSSYS_BPM_PROCESS.ID", "is the table's key"),
        (
            "OSSYS_BPM_PROCESS.CREATED_BY",
            "foreign key to `OSSYS_USER`",
        ),
        (
            "OSSYS_BPM_ACTIVITY.PROCESS_ID",
            "foreign key to `OSSYS_BPM_PROCESS`",
        ),
        ("OSSYS_BPM_PROCESS.PROCESS_DEF_ID", "foreign key"),
        (
            "OSSYS_BPM_PROCESS.STATUS_ID",
            "foreign key to `OSSYS_BPM_PROCESS_STATUS`",
        ),
        (
            "OSSYS_BPM_PROCESS.TENANT_ID",
            "foreign key to `OSSYS_TENANT`",
        ),
        ("OSSYS_BPM_PROCESS_INPUT.SS_KEY", "is `SS_KEY`"),
        ("OSSYS_BPM_PROCESS_INPUT.SS_TYPE", "is `SS_TYPE`"),
        ("OSSYS_BPM_PROCESS_INPUT.NAME", "definition column"),
        ("OSSYS_BPM_ACTIVITY_OUTPUT.DATA_TYPE", "definition column"),
        ("OSSYS_BPM_ACTIVITY.NAME", "definition column"),
        ("OSSYS_BPM_ACTIVITY.IS_RUNNING_AT", "scheduler state"),
        ("OSSYS_BPM_ACTIVITY.DUE_DATE", "not free text"),
        ("OSSYS_BPM_ACTIVITY.LAST_ERROR_ID", "error log"),
    ];
    for (column, why) in cases {
        let p = refused(&format!("column = \"{column}\"\nmethod = \"hash\""));
        assert_eq!(p.key, "anonymize.rules[1].column", "{column}");
        assert!(p.message.contains(why), "{column}: {}", p.message);
        assert!(
            p.message.contains("can never be anonymised"),
            "{}",
            p.message
        );
    }
}

#[test]
fn tables_bptmig_does_not_move_are_refused() {
    for (table, why) in [
        ("OSEVT_CANDIDATE", "event subscription table"),
        ("OSSYS_BPM_PROCESS_DEFINITION", "not an instance table"),
        ("OSSYS_USER", "not an instance table"),
        ("OSUSR_ABC_CANDIDATE", "not an instance table"),
    ] {
        let p = refused(&format!("column = \"{table}.NAME\"\nmethod = \"clear\""));
        assert_eq!(p.key, "anonymize.rules[1].column");
        assert!(p.message.contains(why), "{table}: {}", p.message);
        assert!(p.message.contains(&format!("`{table}`")), "{}", p.message);
    }
}

#[test]
fn value_filters_only_on_value_columns_and_never_an_entity_type() {
    let p = refused("column = \"OSSYS_BPM_PROCESS.LABEL\"\nname = \"X\"\nmethod = \"hash\"");
    assert_eq!(p.key, "anonymize.rules[1].name");
    assert!(
        p.message
            .contains("only to `INPUT_VALUE` or `OUTPUT_VALUE`"),
        "{}",
        p.message
    );
    let p = refused(
        "column = \"OSSYS_BPM_ACTIVITY.INBOX_DETAIL\"\ndefinition = \"X\"\nmethod = \"hash\"",
    );
    assert_eq!(p.key, "anonymize.rules[1].definition");
    for t in ["bt4a1f*9c2e", "rtEntityReference"] {
        let p = refused(&format!(
            "column = \"OSSYS_BPM_PROCESS_INPUT.INPUT_VALUE\"\ndata_type = \"{t}\"\nmethod = \"hash\""
        ));
        assert_eq!(p.key, "anonymize.rules[1].data_type");
        assert!(p.message.contains("entity-reference type"), "{}", p.message);
    }
}

#[test]
fn free_text_value_and_unknown_carried_columns_are_allowed() {
    for rule in [
        "column = \"OSSYS_BPM_PROCESS.LABEL\"\nmethod = \"fake\"\nkind = \"email\"",
        "column = \"OSSYS_BPM_PROCESS_OUTPUT.OUTPUT_VALUE\"\ndata_type = \"rtEmail\"\nmethod = \"hash\"",
        // Not in the catalog: the transform checks it against the extracted columns.
        "column = \"OSSYS_BPM_ACTIVITY.CUSTOM_NOTE\"\nmethod = \"keep-format\"",
    ] {
        let config = parse(&one_rule(rule)).unwrap();
        assert_eq!(config.anonymize.unwrap().rules.len(), 1, "{rule}");
    }
}

#[test]
fn several_bad_rules_are_each_named() {
    let text = with(&format!(
        "[anonymize]\nkey = \"${{{KEY_VAR}}}\"\n\
         [[anonymize.rules]]\ncolumn = \"OSSYS_BPM_PROCESS.LABEL\"\nmethod = \"clear\"\n\
         [[anonymize.rules]]\ncolumn = \"OSSYS_BPM_PROCESS.ID\"\nmethod = \"clear\"\n\
         [[anonymize.rules]]\ncolumn = \"OSSYS_BPM_PROCESS.LABEL\"\nmethod = \"scramble\"\n"
    ));
    let keys: Vec<String> = problems(&text).into_iter().map(|p| p.key).collect();
    assert_eq!(
        keys,
        ["anonymize.rules[2].column", "anonymize.rules[3].method"]
    );
}
