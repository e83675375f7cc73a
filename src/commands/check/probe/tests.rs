use super::*;

/// What the sandbox server answers: bulk copy and fractional date/times fail, the identity
/// stays where it was.
fn sandbox() -> Probe {
    Probe {
        ids_explicit: Outcome::Works("explicit".into()),
        ids_generated: Outcome::Works("generated".into()),
        load_insert: Outcome::Works("insert".into()),
        load_bulk: Outcome::Fails("no bulk".into()),
        date_times: Outcome::Fails("whole seconds only".into()),
        long_texts: Outcome::Works("long".into()),
        identity_after_explicit: Outcome::Works("does not move past them".into()),
        identity_follows: Some(false),
    }
}

fn verdicts(lines: &[Line]) -> Vec<(&str, &str)> {
    lines
        .iter()
        .map(|l| (l.check.as_str(), l.verdict.as_str()))
        .collect()
}

#[test]
fn a_failing_path_blocks_only_when_the_pipeline_chose_it() {
    let found = sandbox();
    let l = lines(IdStrategy::Renumber, LoadStrategy::Auto, &found, None);
    assert_eq!(
        verdicts(&l),
        vec![
            ("probe: ids renumber (IDENTITY_INSERT)", "ok"),
            ("probe: ids generated (SCOPE_IDENTITY)", "ok"),
            ("probe: load insert", "ok"),
            ("probe: load bulk", "note"),
            ("probe: date/times", "note"),
            ("probe: long texts", "ok"),
            ("probe: identity after explicit IDs", "note"),
            ("probe: auto", "ok"),
        ]
    );
    assert_eq!(l[3].detail, "fails: no bulk");
    assert!(
        l[7].detail.contains("`ids.strategy = \"renumber\"`"),
        "{}",
        l[7].detail
    );
    assert!(
        l[7].detail.contains("`load.strategy = \"insert\"` (")
            && l[7].detail.contains("bulk copy fails")
    );

    let l = lines(IdStrategy::Renumber, LoadStrategy::Bulk, &found, None);
    assert_eq!(l[3].verdict, Verdict::Block);

    // A path the server would not let the probe try is "could not tell", never ok.
    let mut untried = sandbox();
    untried.ids_explicit = Outcome::Untried("no IDENTITY_INSERT on #tables".into());
    let l = lines(IdStrategy::Renumber, LoadStrategy::Insert, &untried, None);
    assert_eq!(l[0].verdict, Verdict::Unknown);
    assert!(
        l[0].detail
            .starts_with("could not tell: no IDENTITY_INSERT"),
        "{}",
        l[0].detail
    );
    assert!(l[7].detail.contains("\"renumber\""), "{}", l[7].detail);
    // … and a note where the pipeline does not use the path.
    let l = lines(IdStrategy::Generated, LoadStrategy::Insert, &untried, None);
    assert_eq!(l[0].verdict, Verdict::Note);
}

#[test]
fn without_identity_insert_auto_uses_generated_and_never_bulk() {
    let mut found = sandbox();
    found.load_bulk = Outcome::Works("bulk".into());
    let refused = Some("`ossys_BPM_Process`: no ALTER");
    let l = lines(IdStrategy::Auto, LoadStrategy::Auto, &found, refused);
    let auto = &l[7];
    assert_eq!(auto.verdict, Verdict::Ok);
    assert!(
        auto.detail.contains("\"generated\"") && auto.detail.contains("\"insert\""),
        "{}",
        auto.detail
    );
    assert!(auto.detail.contains("no ALTER"), "{}", auto.detail);

    let l = lines(IdStrategy::Renumber, LoadStrategy::Auto, &found, None);
    assert!(l[7].detail.contains("\"renumber\"") && l[7].detail.contains("\"bulk\""));
}

#[test]
fn nothing_that_works_blocks_auto() {
    let mut found = sandbox();
    found.ids_explicit = Outcome::Fails("x".into());
    found.ids_generated = Outcome::Fails("y".into());
    let l = lines(IdStrategy::Auto, LoadStrategy::Insert, &found, None);
    assert_eq!(l[1].verdict, Verdict::Note);
    assert_eq!(l[7].verdict, Verdict::Block);
    assert!(
        l[7].detail.contains("give the moved rows IDs"),
        "{}",
        l[7].detail
    );
    let l = lines(IdStrategy::Generated, LoadStrategy::Insert, &found, None);
    assert_eq!(l[1].verdict, Verdict::Block);
    assert_eq!(l[7].verdict, Verdict::Note);
}
