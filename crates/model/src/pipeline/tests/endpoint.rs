//! `[source]`/`[target]` timeouts and retries, and the connection string's `Command Timeout`.

use super::*;

/// `MINIMAL` with the source's connection string ending in `tail` and `keys` in `[source]`.
fn source_with(tail: &str, keys: &str) -> String {
    MINIMAL.replace(
        "password=${PROD_PW}\"\n[target]",
        &format!("password=${{PROD_PW}}{tail}\"\n{keys}\n[target]"),
    )
}

#[test]
fn command_timeout_comes_from_the_key_else_the_connection_string_else_the_default() {
    let timeout = |text: &str| parse(text).unwrap().source.command_timeout;
    let secs = |n| Some(Duration::from_secs(n));

    let from_key = timeout(&source_with("", "command_timeout_secs = 90"));
    assert_eq!(from_key.limit, secs(90));
    assert_eq!(from_key.origin, SettingOrigin::Pipeline);
    assert_eq!(
        from_key.setting("source"),
        "`source.command_timeout_secs = 90`"
    );

    for spelling in [
        ";Command Timeout=60",
        "; command timeout = 60 ",
        ";CommandTimeout='60'",
    ] {
        let from_ado = timeout(&source_with(spelling, ""));
        assert_eq!(from_ado.limit, secs(60), "{spelling}");
        assert_eq!(from_ado.origin, SettingOrigin::ConnectionString);
        assert_eq!(
            from_ado.setting("source"),
            "`Command Timeout=60` in `source.connection`"
        );
    }

    // The pipeline key wins over the connection string.
    let both = timeout(&source_with(
        ";Command Timeout=60",
        "command_timeout_secs = 5",
    ));
    assert_eq!(both.limit, secs(5));
    assert_eq!(both.origin, SettingOrigin::Pipeline);

    // 0 is no limit, from either place.
    assert_eq!(
        timeout(&source_with("", "command_timeout_secs = 0")).limit,
        None
    );
    let ado_zero = timeout(&source_with(";Command Timeout=0", ""));
    assert_eq!((ado_zero.limit, ado_zero.secs()), (None, 0));

    let default = timeout(MINIMAL);
    assert_eq!(default.limit, secs(30));
    assert_eq!(
        default.setting("target"),
        "`target.command_timeout_secs = 30`, the default"
    );
}

#[test]
fn a_bad_command_timeout_in_the_connection_string_is_reported_unless_the_key_overrides_it() {
    for bad in ["soon", "-5", "86401", ""] {
        let text = source_with(&format!(";Command Timeout={bad}"), "");
        let problem = single_problem(&text);
        assert_eq!(problem.key, "source.connection", "{bad}");
        assert!(
            problem.message.contains("`Command Timeout`")
                && problem.message.contains("from 0 (no limit) to 86400")
                && problem.message.contains("`source.command_timeout_secs`"),
            "{problem}"
        );
    }
    let text = source_with(";Command Timeout=soon", "command_timeout_secs = 10");
    assert_eq!(
        parse(&text).unwrap().source.command_timeout.limit,
        Some(Duration::from_secs(10))
    );
}

#[test]
fn retries_and_their_delay_are_read_per_side() {
    let text = format!(
        "{}retries = 9\nretry_delay_secs = 0\n",
        source_with("", "retries = 0")
    );
    let config = parse(&text).unwrap();
    assert_eq!(config.source.retries, 0);
    assert_eq!(config.source.retry_delay, Duration::from_secs(2));
    assert_eq!(config.target.retries, 9);
    assert_eq!(config.target.retry_delay, Duration::ZERO);
}
