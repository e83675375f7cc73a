use std::path::Path;

use bptmig_model::pipeline::UnmappedPrincipal;

use super::*;

const PATH: &str = "/srv/maps/m.csv";

fn tenant(id: i64, name: &str) -> TenantRow {
    TenantRow {
        id,
        name: name.to_owned(),
    }
}

fn user(id: i64, username: &str, tenant_id: Option<i64>) -> UserRow {
    UserRow {
        id,
        username: username.to_owned(),
        tenant_id,
    }
}

fn group(id: i64, name: &str, tenant_id: Option<i64>) -> GroupRow {
    GroupRow {
        id,
        name: name.to_owned(),
        tenant_id,
    }
}

fn parse(text: &str) -> Result<MappingFile, MappingError> {
    MappingFile::parse(text, Path::new(PATH))
}

fn problems(error: MappingError) -> Vec<(usize, String)> {
    match error {
        MappingError::Invalid { path, problems } => {
            assert_eq!(path, Path::new(PATH));
            problems.into_iter().map(|p| (p.line, p.message)).collect()
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

fn name(name: &str, tenant: Option<&str>) -> Ref {
    Ref::Name {
        name: name.to_owned(),
        tenant: tenant.map(str::to_owned),
    }
}

/// Source: tenants Users (1) and AcmeCorp (2); target: Users (101) and AcmeCorp (102).
fn environments() -> (Principals, Principals) {
    let source = Principals {
        tenants: vec![tenant(1, "Users"), tenant(2, "AcmeCorp")],
        users: vec![
            user(10, "ann", Some(1)),
            user(11, "bob", Some(1)),
            user(12, "bob", Some(2)),
            user(13, "carol", Some(2)),
        ],
        groups: vec![
            group(20, "Recruiters", Some(1)),
            group(21, "Recruiters", Some(2)),
        ],
    };
    let target = Principals {
        tenants: vec![tenant(101, "Users"), tenant(102, "AcmeCorp")],
        users: vec![
            user(110, "ann", Some(101)),
            user(111, "bob", Some(101)),
            user(113, "carol", Some(101)), // other tenant than the source carol
            user(114, "qa.lead", Some(101)),
        ],
        groups: vec![
            group(120, "Recruiters", Some(101)),
            group(121, "Recruiters", Some(102)),
        ],
    };
    (source, target)
}

fn null() -> UnmappedPrincipal {
    UnmappedPrincipal::Null
}

/// [`environments`] resolved with the mapping file `text` and the `null` policies.
fn with_file(text: &str) -> Result<Resolution, MappingError> {
    let (source, target) = environments();
    let file = parse(text).unwrap();
    resolve(&source, &target, Some(&file), &null(), &null())
}

#[test]
fn parses_ids_names_and_name_at_tenant() {
    let file = parse(
        "\u{feff} kind , source , target \n\
         \n\
         user, #7 ,qa.lead\n\
         \x20  \n\
         group,Recruiters@AcmeCorp,Recruiters@QaCorp\n\
         tenant,Acme@Corp,\"Qa, Corp\"\n\
         User,ann@example.com,#0012\n",
    )
    .unwrap();
    assert_eq!(file.path, Path::new(PATH));
    let got: Vec<_> = file
        .entries
        .iter()
        .map(|e| (e.line, e.kind, e.source.clone(), e.target.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (3, Kind::User, Ref::Id(7), name("qa.lead", None)),
            (
                5,
                Kind::Group,
                name("Recruiters", Some("AcmeCorp")),
                name("Recruiters", Some("QaCorp"))
            ),
            // Tenants are not in a tenant: `@` is part of the name.
            (
                6,
                Kind::Tenant,
                name("Acme@Corp", None),
                name("Qa, Corp", None)
            ),
            (7, Kind::User, name("ann", Some("example.com")), Ref::Id(12)),
        ]
    );
    assert_eq!(file.entries[1].source.to_string(), "Recruiters@AcmeCorp");
    assert_eq!(file.entries[0].source.to_string(), "#7");
}

#[test]
fn reports_every_parse_problem_at_once_with_its_line() {
    let error = parse(
        "kind;source;target\n\
         usr,ann,ann\n\
         user,ann\n\
         user,#x7,ann\n\
         group,,#\n\
         tenant,Users,Users,extra\n\
         user,#-3,bob\n",
    )
    .unwrap_err();
    let message = error.to_string();
    let got = problems(error);
    assert_eq!(
        got,
        vec![
            (
                1,
                "header is `kind;source;target`; expected `kind,source,target`".to_owned()
            ),
            (
                2,
                "unknown kind `usr`; expected user, group or tenant".to_owned()
            ),
            (
                3,
                "2 field(s); expected 3 (`kind,source,target`); quote a name that contains \
                 a comma"
                    .to_owned()
            ),
            (
                4,
                "bad source ID `#x7`; write `#` and the numeric ID, e.g. `#7`".to_owned()
            ),
            (5, "empty source; write a name or `#<id>`".to_owned()),
            (
                5,
                "bad target ID `#`; write `#` and the numeric ID, e.g. `#7`".to_owned()
            ),
            (
                6,
                "4 field(s); expected 3 (`kind,source,target`); quote a name that contains \
                 a comma"
                    .to_owned()
            ),
            (
                7,
                "bad source ID `#-3`; write `#` and the numeric ID, e.g. `#7`".to_owned()
            ),
        ]
    );
    assert!(
        message.starts_with(
            "mapping file `/srv/maps/m.csv` has 8 problems:\n  - line 1: header is \
             `kind;source;target`"
        ),
        "{message}"
    );
    assert!(
        message.contains(
            "\n  - line 2: unknown kind `usr`; expected user, group or tenant\n  - line 3: "
        ),
        "{message}"
    );
}

#[test]
fn missing_header_and_empty_file_are_problems() {
    let got = problems(parse("user,ann,ann\nuser,bob,#x\n").unwrap_err());
    assert_eq!(
        got,
        vec![
            (
                1,
                "missing header; the first line must be `kind,source,target`".to_owned()
            ),
            (
                2,
                "bad target ID `#x`; write `#` and the numeric ID, e.g. `#7`".to_owned()
            ),
        ]
    );
    let got = problems(parse("\u{feff}\n  \n").unwrap_err());
    assert_eq!(
        got,
        vec![(
            1,
            "the file is empty; the first line must be the header `kind,source,target`".to_owned()
        )]
    );
    // A header alone is a valid, empty mapping.
    assert!(parse("kind,source,target\n").unwrap().entries.is_empty());
}

#[test]
fn duplicate_source_names_both_lines() {
    let error = parse(
        "kind,source,target\n\
         user,ann,x\n\
         group,ann,y\n\
         user,ann,z\n",
    )
    .unwrap_err();
    assert_eq!(
        problems(error),
        vec![(
            4,
            "duplicate source: `user,ann` is also mapped on line 2; keep one of the two lines"
                .to_owned()
        )]
    );
}

#[test]
fn a_bad_kind_or_a_duplicate_source_hides_no_other_problem_of_the_file() {
    let text = "kind,source,target\n\
                usr,ann,qa.lead\n\
                user,ann,nobody\n\
                user,bob@Users,qa.lead\n\
                user,bob@Users,ann\n\
                group,Ghosts,Recruiters@Users\n";
    // Parsing alone stops at the lines it cannot read ...
    assert_eq!(
        problems(parse(text).unwrap_err()),
        vec![
            (
                2,
                "unknown kind `usr`; expected user, group or tenant".to_owned()
            ),
            (
                5,
                "duplicate source: `user,bob@Users` is also mapped on line 4; keep one of the \
                 two lines"
                    .to_owned()
            ),
        ]
    );
    // ... resolution lists those and the problems of every other line, in line order.
    let file = MappingFile::parse_with_problems(text, Path::new(PATH));
    assert_eq!(file.entries.len(), 3, "lines 3, 4 and 6 are read");
    let (source, target) = environments();
    let error = resolve(&source, &target, Some(&file), &null(), &null()).unwrap_err();
    let message = error.to_string();
    let got = problems(error);
    assert_eq!(
        got.iter().map(|(line, _)| *line).collect::<Vec<_>>(),
        [2, 3, 5, 6],
        "{got:?}"
    );
    assert!(
        got[1].1.starts_with("unknown target name `nobody`"),
        "{got:?}"
    );
    assert!(
        got[3].1.starts_with("unknown source name `Ghosts`"),
        "{got:?}"
    );
    assert!(
        message.starts_with("mapping file `/srv/maps/m.csv` has 4 problems:\n  - line 2: "),
        "{message}"
    );

    // The same through the file on disk.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.csv");
    std::fs::write(&path, text).unwrap();
    let loaded = MappingFile::load_with_problems(&path).unwrap();
    assert_eq!(loaded.problems, file.problems);
    assert_eq!(loaded.entries, file.entries);
    assert!(MappingFile::load(&path).is_err());
}

#[test]
fn name_at_tenant_picks_one_of_several_with_the_same_name() {
    let resolution = with_file(
        "kind,source,target\n\
         user,bob@AcmeCorp,qa.lead\n\
         group,Recruiters@AcmeCorp,Recruiters@Users\n",
    )
    .unwrap();
    let users = &resolution.maps.users;
    assert_eq!(users.get(12), Some(Some(114)));
    assert_eq!(users.how(12), Some(How::File));
    // The other `bob` (tenant Users) is matched automatically.
    assert_eq!(users.get(11), Some(Some(111)));
    assert_eq!(users.how(11), Some(How::Automatic));
    assert_eq!(resolution.maps.groups.get(21), Some(Some(120)));
    assert_eq!(resolution.maps.groups.get(20), Some(Some(120)));
}

#[test]
fn a_username_with_an_at_sign_matches_as_a_whole() {
    let source = Principals {
        users: vec![user(1, "ann@example.com", None)],
        ..Principals::default()
    };
    let target = Principals {
        users: vec![user(9, "ann.qa@example.com", None)],
        ..Principals::default()
    };
    let file = parse("kind,source,target\nuser,ann@example.com,ann.qa@example.com\n").unwrap();
    let resolution = resolve(
        &source,
        &target,
        Some(&file),
        &UnmappedPrincipal::Fail,
        &UnmappedPrincipal::Fail,
    )
    .unwrap();
    assert_eq!(resolution.maps.users.get(1), Some(Some(9)));
}

#[test]
fn a_bare_ambiguous_name_is_an_error_naming_the_candidates() {
    let error = with_file(
        "kind,source,target\n\
         user,ann,qa.lead\n\
         user,bob,qa.lead\n\
         group,Recruiters@Users,Recruiters\n",
    )
    .unwrap_err();
    assert_eq!(
        problems(error),
        vec![
            (
                3,
                "source name `bob` is ambiguous: the source has 2 users with that username: \
                 `bob@Users` (#11), `bob@AcmeCorp` (#12); write `name@tenant` or `#<id>` to \
                 pick one"
                    .to_owned()
            ),
            (
                4,
                "target name `Recruiters` is ambiguous: the target has 2 groups with that \
                 name: `Recruiters@Users` (#120), `Recruiters@AcmeCorp` (#121); write \
                 `name@tenant` or `#<id>` to pick one"
                    .to_owned()
            ),
        ]
    );
}

#[test]
fn the_mapping_file_beats_automatic_matching() {
    let resolution = with_file(
        "kind,source,target\n\
         user,ann,qa.lead\n\
         tenant,AcmeCorp,Users\n",
    )
    .unwrap();
    let maps = &resolution.maps;
    assert_eq!(maps.users.get(10), Some(Some(114))); // not 110, the automatic match
    assert_eq!(maps.tenants.get(2), Some(Some(101))); // not 102
    assert_eq!(maps.tenants.how(2), Some(How::File));
    assert_eq!(maps.tenants.how(1), Some(How::Automatic));
    // Users of AcmeCorp now match inside the mapped tenant Users.
    assert_eq!(maps.users.get(13), Some(Some(113)));
    assert_eq!(maps.users.get(12), Some(Some(111)));
    assert_eq!(
        resolution.how.users,
        HowCounts {
            file: 1,
            automatic: 3,
            policy: 0
        }
    );
    assert_eq!(
        resolution.how.tenants,
        HowCounts {
            file: 1,
            automatic: 1,
            policy: 0
        }
    );
}

#[test]
fn automatic_matching_needs_the_same_username_in_the_mapped_tenant() {
    let (source, target) = environments();
    let resolution = resolve(&source, &target, None, &null(), &null()).unwrap();
    let users = &resolution.maps.users;
    assert_eq!(users.get(10), Some(Some(110)));
    assert_eq!(users.get(11), Some(Some(111)));
    // `bob` of AcmeCorp: the target's only `bob` is in Users, so no match.
    assert_eq!(users.get(12), Some(None));
    assert_eq!(users.how(12), Some(How::Policy));
    // `carol` exists in the target, but in another tenant.
    assert_eq!(users.get(13), Some(None));
    let groups = &resolution.maps.groups;
    assert_eq!(groups.get(20), Some(Some(120)));
    assert_eq!(groups.get(21), Some(Some(121)));
    assert_eq!(users.len(), 4);
    assert_eq!(
        users.iter().collect::<Vec<_>>(),
        vec![(10, Some(110)), (11, Some(111)), (12, None), (13, None)]
    );
    assert_eq!(
        resolution.unmapped,
        vec![
            Unmapped {
                kind: Kind::User,
                source_id: 12,
                name: "bob".to_owned(),
                tenant: Some("AcmeCorp".to_owned()),
            },
            Unmapped {
                kind: Kind::User,
                source_id: 13,
                name: "carol".to_owned(),
                tenant: Some("AcmeCorp".to_owned()),
            },
        ]
    );
}

#[test]
fn null_tenant_users_match_null_tenant_users_only() {
    let source = Principals {
        tenants: vec![tenant(1, "Users")],
        users: vec![user(1, "svc", None), user(2, "ops", None)],
        groups: vec![group(3, "Admins", None)],
    };
    let target = Principals {
        tenants: vec![tenant(11, "Users")],
        users: vec![user(21, "svc", None), user(22, "ops", Some(11))],
        groups: vec![group(23, "Admins", None)],
    };
    let resolution = resolve(&source, &target, None, &null(), &null()).unwrap();
    assert_eq!(resolution.maps.users.get(1), Some(Some(21)));
    assert_eq!(resolution.maps.users.get(2), Some(None));
    assert_eq!(resolution.maps.groups.get(3), Some(Some(23)));
    assert_eq!(
        resolution.unmapped[0].to_string(),
        "`ops` (#2, no tenant)".to_owned()
    );
}

#[test]
fn unknown_names_and_ids_are_reported_together_with_their_lines() {
    let error = with_file(
        "kind,source,target\n\
         user,ann,nobody\n\
         user,#99,qa.lead\n\
         tenant,Users,#555\n\
         group,Recruiters@Nowhere,Recruiters@Users\n\
         user,carol,bob@AcmeCorp\n",
    )
    .unwrap_err();
    assert_eq!(
        problems(error),
        vec![
            (
                2,
                "unknown target name `nobody`: the target has no user with that username; \
                 check the spelling or create the user in the target"
                    .to_owned()
            ),
            (
                3,
                "unknown source ID `#99`: the source has no user with that ID; check the \
                 spelling"
                    .to_owned()
            ),
            (
                4,
                "unknown target ID `#555`: the target has no tenant with that ID; check the \
                 spelling or create the tenant in the target"
                    .to_owned()
            ),
            (
                5,
                "unknown source name `Recruiters@Nowhere`: the source has no group \
                 `Recruiters` in tenant `Nowhere`, nor one named `Recruiters@Nowhere`; check \
                 the spelling"
                    .to_owned()
            ),
            (
                6,
                "unknown target name `bob@AcmeCorp`: the target has no user `bob` in tenant \
                 `AcmeCorp`, nor one named `bob@AcmeCorp`; check the spelling or create the \
                 user in the target"
                    .to_owned()
            ),
        ]
    );
}

#[test]
fn two_spellings_of_one_source_are_a_duplicate() {
    let error = with_file(
        "kind,source,target\n\
         user,ann,qa.lead\n\
         user,#10,ann\n",
    )
    .unwrap_err();
    assert_eq!(
        problems(error),
        vec![(
            3,
            "duplicate source: `#10` is user `ann@Users` (#10), also mapped on line 2; keep \
             one of the two lines"
                .to_owned()
        )]
    );
}

#[test]
fn fail_policy_lists_every_unmapped_user() {
    let (source, target) = environments();
    let file = parse("kind,source,target\n").unwrap();
    let error = resolve(
        &source,
        &target,
        Some(&file),
        &UnmappedPrincipal::Fail,
        &UnmappedPrincipal::Fail,
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "2 source users have no match in the target; add them to the mapping file \
         `/srv/maps/m.csv` (`user,<username>,<target username>`) or set \
         `mapping.unmapped_user = \"null\"` or `\"user:<username>\"`:\n  \
         - `bob@AcmeCorp` (#12)\n  \
         - `carol@AcmeCorp` (#13)"
    );
    let MappingError::Unmapped { kind, items, file } = error else {
        panic!("expected Unmapped");
    };
    assert_eq!(kind, Kind::User);
    assert_eq!(
        items.iter().map(|i| i.source_id).collect::<Vec<_>>(),
        [12, 13]
    );
    assert_eq!(file.as_deref(), Some(Path::new(PATH)));
}

#[test]
fn fail_policy_for_groups_names_the_group_settings() {
    let (source, mut target) = environments();
    target.groups.clear();
    let error = resolve(&source, &target, None, &null(), &UnmappedPrincipal::Fail).unwrap_err();
    assert_eq!(
        error.to_string(),
        "2 source groups have no match in the target; add them to a mapping file (set \
         `mapping.file`) (`group,<name>,<target name>`) or set `mapping.unmapped_group = \
         \"null\"` or `\"group:<name>\"`:\n  \
         - `Recruiters@Users` (#20)\n  \
         - `Recruiters@AcmeCorp` (#21)"
    );
}

#[test]
fn to_policy_maps_to_the_named_target_principal() {
    let (source, target) = environments();
    let resolution = resolve(
        &source,
        &target,
        None,
        &UnmappedPrincipal::To("qa.lead".to_owned()),
        &UnmappedPrincipal::To("Recruiters@AcmeCorp".to_owned()),
    )
    .unwrap();
    assert_eq!(resolution.maps.users.get(12), Some(Some(114)));
    assert_eq!(resolution.maps.users.get(13), Some(Some(114)));
    assert_eq!(resolution.maps.users.get(10), Some(Some(110)));
    assert_eq!(resolution.how.users.policy, 2);
    assert_eq!(resolution.how.groups.total(), 2);
    assert_eq!(resolution.unmapped.len(), 2);
}

#[test]
fn to_policy_naming_a_missing_or_ambiguous_target_is_an_error() {
    let (source, target) = environments();
    let error = resolve(
        &source,
        &target,
        None,
        &UnmappedPrincipal::To("ghost".to_owned()),
        &null(),
    )
    .unwrap_err();
    assert!(matches!(
        &error,
        MappingError::PolicyTargetMissing { kind: Kind::User, name } if name == "ghost"
    ));
    assert_eq!(
        error.to_string(),
        "`mapping.unmapped_user` names `ghost`, which the target does not have; create that \
         user in the target or name another one"
    );
    // Checked even when no group needs the policy.
    let error = resolve(
        &source,
        &target,
        None,
        &null(),
        &UnmappedPrincipal::To("Recruiters".to_owned()),
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "`mapping.unmapped_group` names `Recruiters`, which matches 2 target groups: \
         `Recruiters@Users` (#120), `Recruiters@AcmeCorp` (#121); write `<name>@<tenant>` \
         to pick one"
    );
}

#[test]
fn unmapped_tenants_are_an_error_listing_all_of_them() {
    let (mut source, target) = environments();
    source.tenants.push(tenant(3, "Legacy"));
    source.tenants.push(tenant(4, "Archive"));
    let file = parse("kind,source,target\n").unwrap();
    let error = resolve(&source, &target, Some(&file), &null(), &null()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "2 source tenants have no unique match by name in the target; create them in the \
         target or add them to the mapping file `/srv/maps/m.csv` (`tenant,<name>,<target name>`):\
         \n  - `Legacy` (#3)\n  - `Archive` (#4)"
    );
    // Mapped through the file instead, both pass.
    let file = parse("kind,source,target\ntenant,Legacy,Users\ntenant,#4,AcmeCorp\n").unwrap();
    let resolution = resolve(&source, &target, Some(&file), &null(), &null()).unwrap();
    assert_eq!(resolution.maps.tenants.get(3), Some(Some(101)));
    assert_eq!(resolution.maps.tenants.get(4), Some(Some(102)));
}

#[test]
fn principal_map_lookups() {
    let map: PrincipalMap = [
        Mapped {
            source: 5,
            target: Some(50),
            how: How::File,
        },
        Mapped {
            source: 1,
            target: None,
            how: How::Policy,
        },
        Mapped {
            source: 5,
            target: Some(99),
            how: How::Automatic,
        },
    ]
    .into_iter()
    .collect();
    assert_eq!(map.len(), 2);
    assert_eq!(map.get(5), Some(Some(50)));
    assert_eq!(map.how(5), Some(How::File));
    assert_eq!(map.get(1), Some(None));
    assert_eq!(map.get(2), None);
    assert!(PrincipalMap::default().is_empty());
}

#[test]
fn load_reads_the_file_and_reports_unreadable_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.csv");
    std::fs::write(&path, "kind,source,target\r\nuser,ann,bob\r\n").unwrap();
    let file = MappingFile::load(&path).unwrap();
    assert_eq!(file.entries.len(), 1);
    assert_eq!(file.entries[0].line, 2);

    // Line numbers count blank lines and CRLF terminators.
    std::fs::write(
        &path,
        "kind,source,target\r\n\r\n \r\nuser,#x,a\r\n\nusr,a,b",
    )
    .unwrap();
    let error = MappingFile::load(&path).unwrap_err();
    let MappingError::Invalid { problems, .. } = error else {
        panic!("expected Invalid");
    };
    assert_eq!(problems.iter().map(|p| p.line).collect::<Vec<_>>(), [4, 6]);

    std::fs::write(&path, b"kind,source,target\nuser,J\xf6rg,bob\n").unwrap();
    let error = MappingFile::load(&path).unwrap_err();
    let MappingError::Invalid { problems, .. } = error else {
        panic!("expected Invalid");
    };
    assert_eq!(problems[0].line, 2);

    let missing = dir.path().join("absent.csv");
    let error = MappingFile::load(&missing).unwrap_err();
    assert!(matches!(error, MappingError::Read { .. }));
    assert!(error.to_string().starts_with("cannot read mapping file `"));
    assert!(std::error::Error::source(&error).is_some());
}

#[test]
fn the_demo_mapping_file_parses() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../pipelines/demo-mapping.csv");
    let file = MappingFile::load(&path).unwrap();
    assert!(!file.entries.is_empty());
}
