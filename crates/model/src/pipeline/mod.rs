//! The pipeline file: a TOML document that defines one migration, and the validated
//! [`PipelineConfig`] it yields.
//!
//! The file is read by hand from a [`toml::Table`] rather than through serde, because serde
//! stops at the first error and the user should see every problem at once: unknown keys,
//! missing keys, wrong types and bad values are all collected, each with its dotted key path,
//! into one [`ConfigError::Invalid`] that names the file.
//!
//! Secrets never live in the file. Connection strings may hold `${VAR}` references, expanded
//! from the environment, and a `password`/`pwd` attribute must be exactly such a reference.
//! A [`ConnectionString`] prints (through `Display` and `Debug`) with its password masked;
//! only [`ConnectionString::expose`] gives the real text, for the driver.
//!
//! ```
//! use std::path::Path;
//! use bptmig_model::PipelineConfig;
//!
//! let text = r#"
//!     workdir = "work"
//!     [source]
//!     connection = "server=tcp:prod,1433;user=bptmig;password=${PROD_PW}"
//!     [target]
//!     connection = "server=tcp:qa,1433;user=bptmig;password=${QA_PW}"
//! "#;
//! let env = |name: &str| Some(format!("secret-of-{name}"));
//! let config = PipelineConfig::parse(text, Path::new("/etc/bptmig/p.toml"), &env)?;
//! assert_eq!(config.workdir, Path::new("/etc/bptmig/work"));
//! assert!(config.source.connection.expose().ends_with("password=secret-of-PROD_PW"));
//! assert!(config.source.connection.to_string().ends_with("password=***"));
//! # Ok::<(), bptmig_model::ConfigError>(())
//! ```

pub use anonymize::{AnonKey, AnonMethod, AnonRule, Anonymize, FakeKind};
pub use config::{
    AlreadyMoved, BrokenTree, CommandTimeout, Endpoint, ExtractSettings, IdStrategy, LoadSettings,
    LoadStrategy, Mapping, OwnTables, PipelineConfig, Selection, SettingOrigin, TransformSettings,
    UnmappedDefinition, UnmappedPrincipal, UnmovedReference,
};
pub use connection::{mask_secrets, ConnectionString};
pub use error::{render_file_problems, ConfigError, Problem};
pub use keys::{
    ADO_COMMAND_TIMEOUT_KEYS, DEFAULT_BATCH_ROWS, DEFAULT_CHUNK_ROWS, DEFAULT_COMMAND_TIMEOUT_SECS,
    DEFAULT_CONNECT_TIMEOUT_SECS, DEFAULT_LEDGER_TABLE, DEFAULT_PART_ROWS, DEFAULT_RETRIES,
    DEFAULT_RETRY_DELAY_SECS, DEFAULT_ROW_GROUP_ROWS, ENDPOINT_KEYS, EXTRACT_KEYS, IDS_KEYS,
    LOAD_KEYS, LOAD_TABLES_KEYS, MAPPING_KEYS, MAX_BATCH_ROWS, MAX_COMMAND_TIMEOUT_SECS,
    MAX_CONNECT_TIMEOUT_SECS, MAX_RETRIES, MAX_RETRY_DELAY_SECS, RETRY_DELAY_CAP_SECS, ROOT_KEYS,
    SELECTION_KEYS, TRANSFORM_KEYS,
};

mod anonymize;
mod config;
mod connection;
mod error;
mod keys;
mod parse;
mod section;
mod timestamp;

#[cfg(test)]
mod tests;
