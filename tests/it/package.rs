//! The Debian package (issue 13), as packaging/deb/build.sh builds it (ci/test.sh runs the script
//! before the tests): every asset is in it and nothing else, lintian finds nothing that is not
//! overridden with a reason, and a real `dpkg -i`, upgrade, `dpkg -r` and `dpkg --purge` on this
//! machine work and leave nothing behind. The package is purged even when an assertion fails.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::{BIN, Netns, expect_exit, require_root};

const PKG: &str = "sockwarden";

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// The .deb packaging/deb/build.sh wrote (`<target dir>/debian/`, the target dir this test binary
/// was built in). Missing: a failure under CI=true, else a skip that says how to build it.
fn deb(test: &str) -> Option<PathBuf> {
    let target = Path::new(BIN).parent().unwrap().parent().unwrap();
    let name = format!("{PKG}_{}-1_amd64.deb", env!("CARGO_PKG_VERSION"));
    let path = target.join("debian").join(name);
    if path.is_file() {
        return Some(path);
    }
    if ci() {
        panic!(
            "{test}: {} is missing and CI=true forbids skipping: ci/test.sh runs \
             packaging/deb/build.sh before the tests",
            path.display()
        );
    }
    eprintln!(
        "skipping {test}: no {}; build it with packaging/deb/build.sh",
        path.display()
    );
    None
}

fn run(cmd: &str, args: &[&str]) -> Output {
    Command::new(cmd)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{cmd} {args:?}: {e}"))
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn ok(cmd: &str, args: &[&str]) -> String {
    let out = run(cmd, args);
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}{}",
        stdout(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout(&out)
}

/// `dpkg ARGS`, waiting (up to 5 minutes) while another process holds dpkg's lock: the machine
/// may be installing packages for someone else.
fn dpkg(args: &[&str]) -> Output {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let out = Command::new("dpkg")
            .args(args)
            .stdin(Stdio::null())
            .env("DEBIAN_FRONTEND", "noninteractive")
            .output()
            .expect("dpkg");
        let err = String::from_utf8_lossy(&out.stderr);
        if out.status.success() || !err.contains("lock") || Instant::now() > deadline {
            return out;
        }
        std::thread::sleep(Duration::from_secs(2));
    }
}

fn dpkg_ok(args: &[&str]) {
    let out = dpkg(args);
    assert!(
        out.status.success(),
        "dpkg {args:?}: {}{}",
        stdout(&out),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The package's status in dpkg's database, `None` when dpkg does not know it (never installed,
/// or purged).
fn status() -> Option<String> {
    let out = run("dpkg-query", &["-W", "-f=${Status}", PKG]);
    let s = stdout(&out);
    (out.status.success() && !s.ends_with("not-installed")).then_some(s)
}

/// The regular files and symlinks of the .deb (`dpkg-deb -c`), as absolute paths with their
/// mode strings; directories separately.
fn contents(deb: &Path) -> (BTreeMap<String, String>, BTreeSet<String>) {
    let text = ok("dpkg-deb", &["-c", deb.to_str().unwrap()]);
    let mut files = BTreeMap::new();
    let mut dirs = BTreeSet::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let path = f[5].strip_prefix('.').unwrap().trim_end_matches('/');
        if f[0].starts_with('d') {
            dirs.insert(path.to_string());
        } else {
            files.insert(path.to_string(), f[0].to_string());
        }
    }
    (files, dirs)
}

/// Every YAML file of the built-in pack, relative to rules/.
fn rule_files() -> Vec<String> {
    let root = repo("rules");
    let mut v: Vec<String> = walkdir::WalkDir::new(&root)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "yaml"))
        .map(|e| {
            let rel = e.path().strip_prefix(&root).unwrap();
            rel.to_string_lossy().into_owned()
        })
        .collect();
    v.sort();
    v
}

/// What the package must hold, exactly: (path in the package, file in the tree to compare with,
/// if any).
fn expected_files() -> BTreeMap<String, Option<PathBuf>> {
    let mut want: BTreeMap<String, Option<PathBuf>> = BTreeMap::new();
    let mut add = |dest: String, src: Option<PathBuf>| {
        want.insert(dest, src);
    };
    add("/usr/bin/sockwarden".into(), None);
    // One page per command, as the binary writes them (here from the debug build).
    let man = tempfile::tempdir().unwrap();
    expect_exit(
        &Command::new(BIN)
            .arg("man")
            .arg(man.path())
            .output()
            .unwrap(),
        0,
    );
    for e in std::fs::read_dir(man.path()).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        add(format!("/usr/share/man/man1/{name}.gz"), None);
    }
    for p in [
        "/usr/share/bash-completion/completions/sockwarden",
        "/usr/share/zsh/vendor-completions/_sockwarden",
        "/usr/share/fish/vendor_completions.d/sockwarden.fish",
        "/usr/share/doc/sockwarden/changelog.gz",
        "/usr/share/doc/sockwarden/changelog.Debian.gz",
    ] {
        add(p.into(), None);
    }
    let tree = [
        ("/etc/sockwarden/config.yaml", "packaging/etc/config.yaml"),
        (
            "/usr/lib/systemd/system/sockwarden-scan.service",
            "packaging/systemd/sockwarden-scan.service",
        ),
        (
            "/usr/lib/systemd/system/sockwarden-scan.timer",
            "packaging/systemd/sockwarden-scan.timer",
        ),
        (
            "/usr/lib/systemd/system/sockwarden-watch.service",
            "packaging/systemd/sockwarden-watch.service",
        ),
        (
            "/usr/share/sockwarden/prometheus/sockwarden-alerts.yml",
            "packaging/prometheus/sockwarden-alerts.yml",
        ),
        (
            "/usr/share/sockwarden/prometheus/sockwarden-alerts.test.yml",
            "packaging/prometheus/sockwarden-alerts.test.yml",
        ),
        ("/usr/share/doc/sockwarden/README.md", "README.md"),
        (
            "/usr/share/doc/sockwarden/copyright",
            "packaging/deb/copyright",
        ),
        (
            "/usr/share/doc/sockwarden/examples/web-golden.yaml",
            "baselines/web-golden.yaml",
        ),
        (
            "/usr/share/lintian/overrides/sockwarden",
            "packaging/deb/lintian-overrides",
        ),
    ];
    for (dest, src) in tree {
        add(dest.into(), Some(repo(src)));
    }
    for rel in rule_files() {
        add(
            format!("/usr/share/sockwarden/rules/{rel}"),
            Some(repo("rules").join(&rel)),
        );
    }
    for e in walkdir::WalkDir::new(repo("docs/schema")) {
        let e = e.unwrap();
        if e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "json") {
            let rel = e.path().strip_prefix(repo("docs/schema")).unwrap();
            add(
                format!("/usr/share/sockwarden/schema/{}", rel.display()),
                Some(e.path().to_path_buf()),
            );
        }
    }
    for e in walkdir::WalkDir::new(repo("docs")) {
        let e = e.unwrap();
        // Markdown pages, and the pictures they show (docs/report-html.png).
        let page_or_picture = |x: &std::ffi::OsStr| x == "md" || x == "png";
        if e.file_type().is_file() && e.path().extension().is_some_and(page_or_picture) {
            let rel = e.path().strip_prefix(repo("docs")).unwrap();
            add(
                format!("/usr/share/doc/sockwarden/docs/{}", rel.display()),
                Some(e.path().to_path_buf()),
            );
        }
    }
    want
}

/// The package holds every asset (binary, man pages, completions, conffile, units, rules,
/// JSON Schemas, alerting rules, docs, copyright, changelogs, lintian overrides) and nothing
/// else, with Debian's modes; the only conffile is /etc/sockwarden/config.yaml; lintian reports
/// no tag that packaging/deb/lintian-overrides does not override (unused overrides are tags too).
#[test]
fn the_debian_package_holds_every_asset_and_passes_lintian() {
    let Some(deb) = deb("the_debian_package_holds_every_asset_and_passes_lintian") else {
        return;
    };
    let (files, _) = contents(&deb);
    let want = expected_files();
    let got: BTreeSet<&String> = files.keys().collect();
    let need: BTreeSet<&String> = want.keys().collect();
    assert_eq!(
        got.difference(&need).collect::<Vec<_>>(),
        Vec::<&&String>::new(),
        "files the package should not hold"
    );
    assert_eq!(
        need.difference(&got).collect::<Vec<_>>(),
        Vec::<&&String>::new(),
        "files missing from the package"
    );
    for (path, mode) in &files {
        let expect = if path == "/usr/bin/sockwarden" {
            "-rwxr-xr-x"
        } else {
            "-rw-r--r--"
        };
        assert_eq!(mode, expect, "{path}");
    }
    let d = deb.to_str().unwrap();
    assert_eq!(
        ok("dpkg-deb", &["-I", d, "conffiles"]).trim(),
        "/etc/sockwarden/config.yaml"
    );
    let field = |f: &str| ok("dpkg-deb", &["-f", d, f]).trim().to_string();
    assert_eq!(field("Package"), PKG);
    assert_eq!(field("Version"), format!("{}-1", env!("CARGO_PKG_VERSION")));
    assert_eq!(field("Architecture"), "amd64");
    assert_eq!(field("Depends"), "", "a static binary depends on nothing");

    let out = run(
        "lintian",
        &[
            "--pedantic",
            "--display-info",
            "--display-experimental",
            "--tag-display-limit",
            "0",
            d,
        ],
    );
    let text = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    // Tags of every level (error, warning, info, pedantic, experimental). The one tolerated: the
    // wildcard override for spelling "errors" lintian finds in machine code, unused on a build
    // whose bytes happen to spell nothing (packaging/deb/lintian-overrides says why).
    let tolerated =
        "I: sockwarden: unused-override spelling-error-in-binary * [usr/bin/sockwarden]";
    let tags: Vec<&str> = text
        .lines()
        .filter(|l| {
            ["E: ", "W: ", "I: ", "P: ", "X: "]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .filter(|l| !l.starts_with(tolerated))
        .collect();
    assert!(
        out.status.success() && tags.is_empty(),
        "lintian (ci/deps.sh installs it): every tag is fixed or overridden with a reason in \
         packaging/deb/lintian-overrides:\n{text}"
    );
}

/// Paths whose name mentions the package under the places a package and its maintainer scripts
/// write to (units, enablement links, deb-systemd-helper's state, dpkg's info files, state
/// directories).
fn traces() -> BTreeSet<PathBuf> {
    let roots = [
        "/etc",
        "/usr/bin",
        "/usr/lib/systemd",
        "/usr/share",
        "/var/lib/systemd",
        "/var/lib/dpkg/info",
        "/var/lib/sockwarden",
        "/var/lib/private",
    ];
    let mut found = BTreeSet::new();
    for root in roots {
        for e in walkdir::WalkDir::new(root).into_iter().flatten() {
            if e.file_name().to_string_lossy().contains(PKG) {
                found.insert(e.path().to_path_buf());
            }
        }
    }
    found
}

/// Purges the package when dropped, so a failed assertion leaves the machine as it was.
struct PurgeOnDrop;

impl Drop for PurgeOnDrop {
    fn drop(&mut self) {
        if status().is_some() {
            let out = dpkg(&["--purge", PKG]);
            if !out.status.success() {
                eprintln!(
                    "could not purge {PKG}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
    }
}

/// The installed package runs: the static binary from this commit scans (a JSON report of the
/// documented shape, with the finding a planted listener must raise), `man` finds its pages, the bash completion loads, the shipped rule
/// copies check, and the timer is enabled.
fn check_installed(deb_files: &BTreeMap<String, String>) {
    for path in deb_files.keys() {
        assert!(Path::new(path).exists(), "{path} not installed");
    }
    for d in ["/etc/sockwarden/rules.d", "/etc/sockwarden/lists.d"] {
        assert!(Path::new(d).is_dir(), "{d}");
    }
    // The md5sums build.sh adds: every installed file matches the package.
    assert_eq!(ok("dpkg", &["--verify", PKG]), "", "dpkg --verify");
    let ldd = run("ldd", &["/usr/bin/sockwarden"]);
    let text = format!("{}{}", stdout(&ldd), String::from_utf8_lossy(&ldd.stderr));
    assert!(
        text.contains("statically linked") || text.contains("not a dynamic executable"),
        "the packaged binary is the static musl build: {text}"
    );
    // Built from this commit: the same commit as the build under test, in release.
    let mine = ok(BIN, &["--version"]);
    let commit = mine
        .split_whitespace()
        .nth(2)
        .unwrap()
        .trim_start_matches('(');
    assert_eq!(
        ok("/usr/bin/sockwarden", &["--version"]).trim(),
        format!(
            "sockwarden {} ({commit} release)",
            env!("CARGO_PKG_VERSION")
        ),
        "the package is stale: rebuild it with packaging/deb/build.sh"
    );

    // A live scan by the installed binary, in a namespace holding a C2 team-server listener.
    let mut ns = Netns::new();
    let pid = ns.service(&["listen", "0.0.0.0", "50050"]);
    let out = ns.run(&["/usr/bin/sockwarden", "scan", "--format", "json"]);
    expect_exit(&out, 1);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["tool"]["name"], PKG);
    assert_eq!(report["tool"]["version"], env!("CARGO_PKG_VERSION"));
    let summary = &report["summary"];
    let rules = rule_files()
        .iter()
        .filter(|r| !r.starts_with("lists/"))
        .count();
    assert_eq!(
        summary["rules"].as_u64(),
        Some(rules as u64),
        "the built-in pack"
    );
    assert!(summary["sockets"].as_u64().unwrap() >= 1, "{summary}");
    assert!(summary["processes"].as_u64().unwrap() >= 1, "{summary}");
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(summary["findings"].as_u64(), Some(findings.len() as u64));
    let by_sev: u64 = summary["by_severity"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(by_sev, findings.len() as u64);
    let c2 = findings
        .iter()
        .find(|f| f["rule_id"] == "NET-C2-003")
        .unwrap_or_else(|| panic!("no NET-C2-003 finding: {report}"));
    assert_eq!(c2["severity"], "high");
    assert_eq!(c2["socket"]["local"]["port"], 50050);
    assert_eq!(c2["processes"][0]["pid"], pid, "{c2}");
    assert_eq!(report["coverage"]["complete"], true);

    ok(
        "/usr/bin/sockwarden",
        &["rules", "check", "/usr/share/sockwarden/rules"],
    );

    assert_eq!(
        ok("man", &["-w", "sockwarden"]).trim(),
        "/usr/share/man/man1/sockwarden.1.gz"
    );
    let out = Command::new("man")
        .args(["--warnings", "sockwarden-scan"])
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout(&out).contains("SYNOPSIS"));

    let text = ok(
        "bash",
        &[
            "-c",
            "source /usr/share/bash-completion/completions/sockwarden && complete -p sockwarden",
        ],
    );
    assert!(text.contains("-F _sockwarden sockwarden"), "{text}");

    // Enabled as deb-systemd-helper does it (also without systemd running); the service is static.
    let link = Path::new("/etc/systemd/system/timers.target.wants/sockwarden-scan.timer");
    let target = std::fs::read_link(link).expect("the timer is enabled");
    assert!(
        target.ends_with("systemd/system/sockwarden-scan.timer"),
        "{target:?}"
    );
    // The watch service (issue 18) is installed, passes systemd's own check against the
    // installed binary and man pages, and is not enabled: it loads BPF programs, an
    // administrator turns it on.
    let watch = "/usr/lib/systemd/system/sockwarden-watch.service";
    let out = run("systemd-analyze", &["verify", watch]);
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "systemd-analyze verify {watch}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !Path::new("/etc/systemd/system/multi-user.target.wants/sockwarden-watch.service").exists(),
        "the watch service is installed disabled"
    );
}

/// A newer version of the same package: the .deb unpacked, its version raised, packed again.
fn newer_package(deb: &Path, dir: &Path) -> (PathBuf, String) {
    let root = dir.join("root");
    ok(
        "dpkg-deb",
        &["-R", deb.to_str().unwrap(), root.to_str().unwrap()],
    );
    let control = root.join("DEBIAN/control");
    let old = format!("Version: {}-1\n", env!("CARGO_PKG_VERSION"));
    let version = format!("{}-1+test1", env!("CARGO_PKG_VERSION"));
    let text = std::fs::read_to_string(&control).unwrap();
    assert!(text.contains(&old), "{text}");
    std::fs::write(
        &control,
        text.replace(&old, &format!("Version: {version}\n")),
    )
    .unwrap();
    let newer = dir.join("newer.deb");
    ok(
        "dpkg-deb",
        &[
            "--root-owner-group",
            "-Zgzip",
            "-b",
            root.to_str().unwrap(),
            newer.to_str().unwrap(),
        ],
    );
    (newer, version)
}

/// Install, upgrade, remove and purge on this machine, as root: `dpkg -i` installs every file and
/// the installed binary scans; an upgrade keeps a modified conffile without asking; `dpkg -r`
/// removes all but the conffile; `dpkg --purge` removes everything the package and its scripts
/// made: every path `dpkg -L` listed that did not exist before is gone, and no path naming the
/// package is left anywhere it could write.
#[test]
fn the_debian_package_installs_upgrades_and_purges_cleanly() {
    let test = "the_debian_package_installs_upgrades_and_purges_cleanly";
    if !require_root(test) {
        return;
    }
    let Some(deb) = deb(test) else {
        return;
    };
    let (files, dirs) = contents(&deb);
    // Never touch an installation that is not ours: a package or a manual install (README's
    // "Run it unattended") would be replaced, then purged.
    assert_eq!(
        status(),
        None,
        "{PKG} is already known to dpkg here; the test installs and purges it"
    );
    let existing: Vec<&String> = files.keys().filter(|p| Path::new(p).exists()).collect();
    assert!(
        existing.is_empty() && !Path::new("/etc/sockwarden").exists(),
        "sockwarden is installed by hand here ({existing:?}, /etc/sockwarden); the test would \
         overwrite and then remove it"
    );
    let before = traces();
    let existed: BTreeSet<String> = dirs
        .iter()
        .filter(|d| Path::new(d).exists())
        .cloned()
        .collect();

    let _guard = PurgeOnDrop;
    dpkg_ok(&["-i", deb.to_str().unwrap()]);
    assert_eq!(status().as_deref(), Some("install ok installed"));
    let listed: Vec<String> = ok("dpkg", &["-L", PKG])
        .lines()
        .filter(|l| l.starts_with('/') && *l != "/.")
        .map(String::from)
        .collect();
    for f in files.keys() {
        assert!(listed.contains(f), "dpkg -L lacks {f}");
    }
    check_installed(&files);

    // Upgrade with a modified conffile: kept, and no question asked (stdin is /dev/null).
    let conf = Path::new("/etc/sockwarden/config.yaml");
    let mut text = std::fs::read_to_string(conf).unwrap();
    text.push_str("# edited on this host (the package test)\n");
    std::fs::write(conf, &text).unwrap();
    let work = tempfile::tempdir().unwrap();
    let (newer, version) = newer_package(&deb, work.path());
    dpkg_ok(&["-i", newer.to_str().unwrap()]);
    let v = ok("dpkg-query", &["-W", "-f=${Version}", PKG]);
    assert_eq!(v, version);
    assert_eq!(
        std::fs::read_to_string(conf).unwrap(),
        text,
        "conffile kept"
    );

    // Remove: everything but the configuration goes.
    dpkg_ok(&["-r", PKG]);
    assert_eq!(status().as_deref(), Some("deinstall ok config-files"));
    for f in files.keys() {
        let gone = !Path::new(f).exists();
        assert_eq!(
            gone,
            f != "/etc/sockwarden/config.yaml",
            "{f} after dpkg -r"
        );
    }
    assert_eq!(std::fs::read_to_string(conf).unwrap(), text);

    // Purge: nothing left that was not there before.
    dpkg_ok(&["--purge", PKG]);
    assert_eq!(status(), None);
    for p in &listed {
        let was = existed.contains(p);
        let is = std::fs::symlink_metadata(p).is_ok();
        assert_eq!(
            is, was,
            "{p}: existed before install {was}, exists after purge {is}"
        );
    }
    assert!(!Path::new("/etc/sockwarden").exists());
    let after = traces();
    assert_eq!(
        after.difference(&before).collect::<Vec<_>>(),
        Vec::<&PathBuf>::new(),
        "left behind by the package"
    );
}
