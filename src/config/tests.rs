use super::*;

fn env(pairs: &[(&str, &str)]) -> impl Iterator<Item = (String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect::<Vec<_>>()
        .into_iter()
}

fn file(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("config.yaml");
    std::fs::write(&p, text).unwrap();
    p
}

fn resolve(flags: Flags, vars: &[(&str, &str)], cfg: &Path) -> Settings {
    Settings::resolve(flags, env(vars), &ConfigChoice::Given(cfg.to_path_buf())).unwrap()
}

#[test]
fn flags_beat_environment_beat_file_beat_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = file(
        dir.path(),
        "fail_on: high\nformat: json\nowners_from: procfs\ndisable: [A-1]\nprocnet_udp_max: 100\n",
    );
    let vars = [
        ("SOCKWARDEN_FORMAT", "sarif"),
        ("SOCKWARDEN_FAIL_ON", "medium"),
    ];
    let flags = Flags {
        fail_on: Some(Severity::Critical),
        ..Flags::default()
    };
    let s = resolve(flags, &vars, &cfg);
    assert_eq!(s.fail_on.value, Severity::Critical);
    assert_eq!(s.fail_on.origin, Origin::Flag);
    assert_eq!(s.format.value, Format::Sarif);
    assert_eq!(s.format.origin, Origin::Env(Key::Format));
    assert_eq!(s.owners_from.value, OwnersFrom::Procfs);
    assert_eq!(
        s.owners_from.origin,
        Origin::File {
            file: cfg.display().to_string(),
            line: 3,
            col: 14
        }
    );
    assert_eq!(s.disable.value, ["A-1"]);
    assert_eq!(s.netns.value, Select::Current);
    assert_eq!(s.netns.origin, Origin::Default);
    assert!(s.default_rules.value);
    assert_eq!(s.procnet_udp_max.value, Cap(Some(100)));
    let none = Settings::resolve(Flags::default(), env(&[]), &ConfigChoice::None).unwrap();
    assert_eq!(none.procnet_udp_max.value, Cap(Some(16384)));
    assert_eq!(
        Cap::parse("lots").unwrap_err(),
        "`lots` is not a number of sockets or `none`"
    );
}

#[test]
fn every_problem_of_the_file_at_once_located_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = file(
        dir.path(),
        "fail_on: hihg\nformat: json\nbaselin: /x\nallow_partial: maybe\noutputs: report.json\n",
    );
    let err = Settings::resolve(
        Flags::default(),
        env(&[]),
        &ConfigChoice::Given(cfg.clone()),
    )
    .unwrap_err();
    let ConfigError::Invalid(diags) = err else {
        panic!("expected located problems, got {err}");
    };
    let text: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
    let name = cfg.display().to_string();
    assert_eq!(
        text,
        [
            format!("{name}:1:10: fail_on: `hihg` is not one of info, low, medium, high, critical"),
            format!("{name}:3:1: unknown setting `baselin`; did you mean `baseline`?"),
            format!("{name}:4:16: allow_partial: `maybe` is not true or false"),
            format!("{name}:5:10: outputs: expected a list of strings, got a string"),
        ]
    );
}

#[test]
fn a_file_that_is_not_a_mapping_or_not_yaml_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for text in ["- a\n- b\n", "fail_on: [\n"] {
        let cfg = file(dir.path(), text);
        let err =
            Settings::resolve(Flags::default(), env(&[]), &ConfigChoice::Given(cfg)).unwrap_err();
        assert!(matches!(err, ConfigError::Invalid(_)), "{text:?}: {err}");
    }
}

#[test]
fn the_shipped_file_sets_nothing() {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/etc/config.yaml");
    let s = resolve(Flags::default(), &[], &shipped);
    let defaults = Settings::resolve(Flags::default(), env(&[]), &ConfigChoice::None).unwrap();
    assert_eq!(s.show_json()["settings"], defaults.show_json()["settings"]);
    // Every key the shipped file documents (commented out) is a real key, and every key is there.
    let text = std::fs::read_to_string(&shipped).unwrap();
    for k in Key::NAMES {
        assert!(text.contains(&format!("\n#{k}:")), "{k} is not documented");
    }
}

#[test]
fn environment_lists_are_comma_separated_and_bad_values_name_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = file(dir.path(), "");
    let s = resolve(
        Flags::default(),
        &[
            ("SOCKWARDEN_DISABLE", "A-1, B-2,"),
            ("SOCKWARDEN_ALLOW_PARTIAL", "yes"),
            ("SOCKWARDEN_NETNS", "all"),
            ("SOCKWARDEN_MAX_INPUT_SIZE", "16M"),
            ("SOCKWARDEN_PROCNET_UDP_MAX", "none"),
        ],
        &cfg,
    );
    assert_eq!(s.procnet_udp_max.value, Cap(None));
    assert_eq!(s.disable.value, ["A-1", "B-2"]);
    assert!(s.allow_partial.value);
    assert_eq!(s.netns.value, Select::All);
    assert_eq!(s.max_input_size.value, MaxSize(Some(16 << 20)));
    let err = Settings::resolve(
        Flags::default(),
        env(&[("SOCKWARDEN_FAIL_ON", "loud")]),
        &ConfigChoice::Given(cfg),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "SOCKWARDEN_FAIL_ON: `loud` is not one of info, low, medium, high, critical"
    );
}

#[test]
fn relative_paths_are_taken_from_the_file_and_beside_dirs_are_found() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("rules.d")).unwrap();
    std::fs::create_dir(dir.path().join("lists.d")).unwrap();
    for f in ["b.yaml", "a.yml", "notes.txt"] {
        std::fs::write(dir.path().join("lists.d").join(f), "").unwrap();
    }
    let cfg = file(
        dir.path(),
        "rules: [extra]\nbaseline: base.yaml\nlists: [/abs/l.yaml]\n",
    );
    let s = resolve(Flags::default(), &[], &cfg);
    let d = dir.path();
    assert_eq!(s.rule_paths(), [d.join("rules.d"), d.join("extra")]);
    assert_eq!(
        s.list_paths(),
        [
            d.join("lists.d/a.yml"),
            d.join("lists.d/b.yaml"),
            PathBuf::from("/abs/l.yaml")
        ]
    );
    assert_eq!(s.baseline.value, Some(d.join("base.yaml")));
    // --no-config: neither the file nor the directories beside it.
    let none = Settings::resolve(Flags::default(), env(&[]), &ConfigChoice::None).unwrap();
    assert!(none.rule_paths().is_empty() && none.list_paths().is_empty());
    assert_eq!(none.file, None);
}

#[test]
fn show_fed_back_as_a_file_gives_the_same_settings() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = file(
        dir.path(),
        "fail_on: medium\noutputs: [\"json=/var/lib/x y.json\", 'prometheus=/p.prom']\n\
         netns: blue\nmax_input_size: 1G\nbaseline: /b.yaml\nbaseline_sha256: abc\n",
    );
    let first = resolve(Flags::default(), &[], &cfg);
    let again = dir.path().join("again.yaml");
    std::fs::write(&again, first.show()).unwrap();
    let second = resolve(Flags::default(), &[], &again);
    assert_eq!(
        first.show_json()["settings"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v["value"].clone()))
            .collect::<Vec<_>>(),
        second.show_json()["settings"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v["value"].clone()))
            .collect::<Vec<_>>()
    );
    assert_eq!(second.netns.value, Select::One("blue".into()));
}

#[test]
fn a_pin_without_a_baseline_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = file(dir.path(), "baseline_sha256: abc\n");
    let err = Settings::resolve(Flags::default(), env(&[]), &ConfigChoice::Given(cfg)).unwrap_err();
    assert!(matches!(err, ConfigError::PinWithoutBaseline(_)), "{err}");
}

#[test]
fn a_given_file_must_exist_the_default_may_not() {
    let err = Settings::resolve(
        Flags::default(),
        env(&[]),
        &ConfigChoice::Given(PathBuf::from("/nonexistent/sockwarden.yaml")),
    )
    .unwrap_err();
    assert!(matches!(err, ConfigError::Input(_)), "{err}");
}

#[test]
fn every_key_is_shown_and_has_one_environment_variable() {
    let defaults = Settings::resolve(Flags::default(), env(&[]), &ConfigChoice::None).unwrap();
    let shown = defaults.show_json();
    let keys: Vec<&String> = shown["settings"].as_object().unwrap().keys().collect();
    let mut want: Vec<&str> = Key::NAMES.to_vec();
    want.sort_unstable();
    assert_eq!(keys, want, "config show lists every key once");
    let vars: Vec<String> = Key::ALL.iter().map(|k| k.env()).collect();
    assert!(vars.contains(&"SOCKWARDEN_FAIL_ON".to_string()));
    assert!(vars.contains(&"SOCKWARDEN_BASELINE_SHA256".to_string()));
    for v in &vars {
        let name = v.strip_prefix("SOCKWARDEN_").unwrap().to_ascii_lowercase();
        assert!(Key::parse(&name).is_some(), "{v}");
    }
}
