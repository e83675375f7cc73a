//! `${VAR}` references, literal passwords and masking.

use super::*;

#[test]
fn missing_environment_variable_names_key_variable_and_file() {
    let text = MINIMAL.replace("${PROD_PW}\"\n[target]", "${NOPE_PW}\"\n[target]");
    let problem = single_problem(&text);
    assert_eq!(problem.key, "source.connection");
    assert!(problem
        .message
        .contains("environment variable `NOPE_PW` is not set"));
    assert!(problem.message.contains("set it in the environment"));
    let message = parse(&text).unwrap_err().to_string();
    assert!(message.contains(FILE), "{message}");
    assert!(message.contains("`source.connection`"), "{message}");
}

#[test]
fn an_empty_password_variable_is_named_instead_of_failing_the_login() {
    let empty = |name: &str| match name {
        "EMPTY_PW" => Some(String::new()),
        other => env(other),
    };
    for reference in ["password=${EMPTY_PW}", "PWD='${EMPTY_PW}'"] {
        let text = MINIMAL.replace(
            "password=${PROD_PW}\"\n[target]",
            &format!("{reference}\"\n[target]"),
        );
        let error = PipelineConfig::parse(&text, Path::new(FILE), &empty).unwrap_err();
        let ConfigError::Invalid { problems, .. } = &error else {
            panic!("{error:?}");
        };
        assert_eq!(problems.len(), 1, "{problems:#?}");
        assert_eq!(problems[0].key, "source.connection");
        assert!(
            problems[0]
                .message
                .starts_with("environment variable `EMPTY_PW` is set but empty"),
            "{}",
            problems[0]
        );
    }
    // An empty variable elsewhere in the string is the user's business.
    let text = MINIMAL.replace("server=tcp:prod,1433", "server=tcp:prod${EMPTY_PW},1433");
    PipelineConfig::parse(&text, Path::new(FILE), &empty).unwrap();
}

#[test]
fn malformed_references_are_reported() {
    for connection in [
        "server=${HOST;password=${PROD_PW}",
        "server=${1X};password=${PROD_PW}",
    ] {
        let text = MINIMAL.replace(
            "server=tcp:prod,1433;user=sa;password=${PROD_PW}",
            connection,
        );
        let problem = single_problem(&text);
        assert_eq!(problem.key, "source.connection");
        assert!(problem.message.contains("`${"), "{problem}");
    }
}

#[test]
fn literal_password_is_rejected_without_echoing_it() {
    for literal in [
        "password=hunter2",
        "Pwd = 'hunter2'",
        "PASSWORD={hunter2}",
        "password=x${PROD_PW}",
    ] {
        let text = MINIMAL.replace(
            "password=${PROD_PW}\"\n[target]",
            &format!("{literal}\"\n[target]"),
        );
        let problem = single_problem(&text);
        assert_eq!(problem.key, "source.connection", "{literal}");
        assert!(
            problem
                .message
                .starts_with("secrets only through environment variables: write `"),
            "{problem}"
        );
        assert!(problem.message.contains("=${SOME_VAR}`"), "{problem}");
        let message = parse(&text).unwrap_err().to_string();
        assert!(!message.contains("hunter2"), "{message}");
    }
    // A quoted reference and a password-free string are fine.
    for ok in [
        "password=\\\"${PROD_PW}\\\"",
        "PWD={${PROD_PW}}",
        "Integrated Security=true",
    ] {
        let text = MINIMAL.replace(
            "password=${PROD_PW}\"\n[target]",
            &format!("{ok}\"\n[target]"),
        );
        parse(&text).unwrap();
    }
}

#[test]
fn connection_strings_are_masked_in_display_and_debug() {
    let config = parse(MINIMAL).unwrap();
    let connection = &config.source.connection;
    assert_eq!(
        connection.expose(),
        "server=tcp:prod,1433;user=sa;password=prod-secret"
    );
    assert_eq!(
        connection.to_string(),
        "server=tcp:prod,1433;user=sa;password=***"
    );
    assert_eq!(connection.masked(), connection.to_string());
    assert_eq!(
        format!("{connection:?}"),
        "ConnectionString(\"server=tcp:prod,1433;user=sa;password=***\")"
    );
    let debug = format!("{config:?} {config:#?}");
    assert!(!debug.contains("prod-secret"), "{debug}");
    assert!(debug.contains("password=***"), "{debug}");
}

#[test]
fn expanded_password_with_separators_is_quoted_and_fully_masked() {
    let text = MINIMAL.replace(
        "qa,1433;user=sa;password=${PROD_PW}",
        "qa;password=${QA_PW};user=sa",
    );
    let config = parse(&text).unwrap();
    assert_eq!(
        config.target.connection.expose(),
        "server=tcp:qa;password=\"qa;secret\";user=sa"
    );
    assert_eq!(
        config.target.connection.to_string(),
        "server=tcp:qa;password=***;user=sa"
    );
}

#[test]
fn password_inside_an_expanded_variable_is_masked() {
    let text = MINIMAL.replace(
        "server=tcp:prod,1433;user=sa;password=${PROD_PW}",
        "${WHOLE}",
    );
    let config = parse(&text).unwrap();
    assert_eq!(
        config.source.connection.expose(),
        "server=tcp:x,1;user=u;Password=whole-secret"
    );
    assert_eq!(
        config.source.connection.to_string(),
        "server=tcp:x,1;user=u;Password=***"
    );
}

#[test]
fn mask_secrets_handles_case_quotes_and_free_text() {
    let cases = [
        (
            "server=a;password=abc;user=b",
            "server=a;password=***;user=b",
        ),
        (
            "Server=a;PassWord = abc ;User=b",
            "Server=a;PassWord = ***;User=b",
        ),
        ("PWD=abc", "PWD=***"),
        ("pwd='a;b''c';x=1", "pwd=***;x=1"),
        ("Password=\"a;b\"\"c\";x=1", "Password=***;x=1"),
        ("password={a;b}}c};x=1", "password=***;x=1"),
        ("password='unclosed;x=1", "password=***"),
        ("password=;x=1", "password=;x=1"),
        (
            "login failed: Password=s3cr3t; pwd=other",
            "login failed: Password=***; pwd=***",
        ),
        ("the password is wrong", "the password is wrong"),
        ("user=pwdman;é password=ü", "user=pwdman;é password=***"),
        ("", ""),
    ];
    for (input, expected) in cases {
        assert_eq!(mask_secrets(input), expected, "{input}");
    }
    assert_eq!(
        ConnectionString::new("a=1;Pwd='x;y'").to_string(),
        "a=1;Pwd=***"
    );
}
