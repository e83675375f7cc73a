//! The pipelines shipped under `pipelines/` parse.

use super::*;

fn shipped(name: &str) -> (PathBuf, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../pipelines")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    (path, text)
}

#[test]
fn demo_pipeline_parses() {
    let (path, text) = shipped("demo.toml");
    let config = PipelineConfig::parse(&text, &path, &env).unwrap();
    let dir = path.parent().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .parent()
        .unwrap();
    assert_eq!(config.workdir, root.join("work/demo"));
    assert_eq!(
        config.source.connection.expose(),
        "server=tcp:127.0.0.1,14331;user=sa;password=demo-secret;encrypt=DANGER_PLAINTEXT;TrustServerCertificate=true"
    );
    assert_eq!(
        config.target.connection.to_string(),
        "server=tcp:127.0.0.1,14332;user=sa;password=***;encrypt=DANGER_PLAINTEXT;TrustServerCertificate=true"
    );
    assert_eq!(
        config.mapping.file,
        Some(root.join("pipelines/demo-mapping.csv"))
    );
    assert!(dir.join("demo-mapping.csv").is_file());
    assert_eq!(config.mapping.unmapped_user, UnmappedPrincipal::Null);
    assert_eq!(config.mapping.unmapped_group, UnmappedPrincipal::Null);
    assert_eq!(
        config.mapping.unmapped_definition,
        UnmappedDefinition::SkipTree
    );
    assert_eq!(
        config.selection,
        Selection {
            broken_tree: BrokenTree::Skip,
            ..Selection::default()
        }
    );
    assert_eq!(config.mapping.unmoved_reference, UnmovedReference::Null);
    assert_eq!(config.load, LoadSettings::default());
    // Without the variable, the demo says what to set.
    let error = PipelineConfig::parse(&text, &path, &|_| None)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("`BPTMIG_DEMO_PASSWORD` is not set"),
        "{error}"
    );
}

#[test]
fn example_pipeline_parses_and_sets_every_key() {
    let (path, text) = shipped("example.toml");
    let config = PipelineConfig::parse(&text, &path, &env).unwrap();
    assert!(config
        .source
        .connection
        .expose()
        .contains("password=example-prod-secret;"));
    assert!(config
        .target
        .connection
        .expose()
        .contains("password=example-qa-secret;"));
    assert!(!format!("{config:?}").contains("example-"));
    // The example documents every key: each one appears set in it.
    let table: Table = text.parse().unwrap();
    let sections: [(&str, &[&str]); 9] = [
        ("source", ENDPOINT_KEYS),
        ("target", ENDPOINT_KEYS),
        ("selection", SELECTION_KEYS),
        ("mapping", MAPPING_KEYS),
        ("ids", IDS_KEYS),
        ("extract", EXTRACT_KEYS),
        ("transform", TRANSFORM_KEYS),
        ("load", LOAD_KEYS),
        ("anonymize", &["key", "rules"]),
    ];
    for key in ROOT_KEYS {
        assert!(table.contains_key(*key), "example.toml lacks `{key}`");
    }
    let tables = table["load"]["tables"].as_table().unwrap();
    for key in LOAD_TABLES_KEYS {
        assert!(
            tables.contains_key(*key),
            "example.toml lacks `load.tables.{key}`"
        );
        assert!(
            text.contains(&format!("# {key} (")),
            "`load.tables.{key}` undocumented"
        );
    }
    assert!(config.anonymize.is_some() && config.load.tables.is_some());
    for (section, keys) in sections {
        let section_table = table[section].as_table().unwrap();
        for key in keys {
            assert!(
                section_table.contains_key(*key),
                "example.toml lacks `{section}.{key}`"
            );
            let documented = text.contains(&format!("# {key} ("))
                || text.contains(&format!("# [{section}.{key}] ("));
            assert!(
                documented,
                "example.toml does not document `{section}.{key}`"
            );
        }
    }
}
