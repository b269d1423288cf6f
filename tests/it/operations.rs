//! Operating sockwarden as its peers are operated (issue 13): the systemd units pass systemd's
//! own checks, and the capability set they grant gives a complete scan, the same as root's.

use std::path::{Path, PathBuf};
use std::process::Command;

use sockwarden::model::Snapshot;

use crate::common::{BIN, Netns, expect_exit, require_root};

fn unit(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("packaging/systemd")
        .join(name)
}

/// The capabilities the scan unit grants (its `AmbientCapabilities=` line), as setpriv names them.
fn unit_caps() -> Vec<String> {
    let text = std::fs::read_to_string(unit("sockwarden-scan.service")).unwrap();
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("AmbientCapabilities="))
        .expect("the unit grants ambient capabilities");
    let bounding = text
        .lines()
        .find_map(|l| l.strip_prefix("CapabilityBoundingSet="))
        .expect("the unit has a bounding set");
    assert_eq!(
        line, bounding,
        "ambient and bounding sets must be the same set"
    );
    line.split_whitespace()
        .map(|c| c.strip_prefix("CAP_").unwrap().to_ascii_lowercase())
        .collect()
}

/// The units with ExecStart pointing at this build (verify checks that the binary exists).
fn units_for_this_build(dir: &Path) -> (PathBuf, PathBuf) {
    let service = dir.join("sockwarden-scan.service");
    let timer = dir.join("sockwarden-scan.timer");
    let text = std::fs::read_to_string(unit("sockwarden-scan.service")).unwrap();
    std::fs::write(&service, text.replace("/usr/bin/sockwarden", BIN)).unwrap();
    std::fs::copy(unit("sockwarden-scan.timer"), &timer).unwrap();
    (service, timer)
}

#[test]
fn systemd_units_verify_and_the_service_is_well_sandboxed() {
    if std::env::var("CI").is_err()
        && Command::new("systemd-analyze")
            .arg("--version")
            .output()
            .is_err()
    {
        eprintln!("skipping: no systemd-analyze");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (service, timer) = units_for_this_build(dir.path());
    // --man=no: the man pages the units name are not installed in a build tree.
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&service)
        .arg(&timer)
        .output()
        .expect("systemd-analyze (ci/deps.sh installs systemd)");
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "verify: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--no-pager"])
        .arg(&service)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("Overall exposure level"))
        .unwrap_or_else(|| panic!("no exposure level: {text}"));
    let score: f64 = line
        .split(':')
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    // docs/operations.md records the score; "OK" is systemd's band up to 4.9.
    assert!(score <= 3.0, "exposure {score}: {line}");
}

/// The unit's capability set, as user nobody with nothing else, sees what root sees: the same
/// sockets with the same owners, privileged, no gap, owners from the BPF iterator.
#[test]
fn the_units_capability_set_gives_the_same_scan_as_root() {
    if !require_root("the_units_capability_set_gives_the_same_scan_as_root") {
        return;
    }
    let mut ns = Netns::new();
    let truth = ns.start_lab(0);
    let truth = truth.as_array().expect("the lab lists its sockets").clone();
    assert!(!truth.is_empty());
    // A copy user nobody may execute wherever the build tree lives.
    let bin = std::env::temp_dir().join(format!("sockwarden-caps-{}", std::process::id()));
    std::fs::copy(BIN, &bin).unwrap();
    std::fs::set_permissions(&bin, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let caps: Vec<String> = unit_caps().iter().map(|c| format!("+{c}")).collect();
    let caps = caps.join(",");
    let snap = |limited: bool| -> Snapshot {
        let mut args: Vec<String> = Vec::new();
        if limited {
            args.extend(
                [
                    "setpriv",
                    "--reuid=65534",
                    "--regid=65534",
                    "--clear-groups",
                    &format!("--inh-caps=-all,{caps}"),
                    &format!("--ambient-caps=-all,{caps}"),
                    &format!("--bounding-set=-all,{caps}"),
                    "--no-new-privs",
                ]
                .map(String::from),
            );
        }
        args.push(bin.display().to_string());
        args.extend(["snapshot", "--owners-from", "bpf"].map(String::from));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = ns.run(&refs);
        expect_exit(&out, 0);
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let root = snap(false);
    let limited = snap(true);
    std::fs::remove_file(&bin).unwrap();
    assert!(limited.meta.privileged, "the set counts as privileged");
    assert!(limited.gaps.is_empty(), "{:?}", limited.gaps);
    assert_eq!(limited.meta.sources["owners"], "bpf_iter");
    // The lab's sockets: same sockets, same owners (churn-free: the lab holds still).
    let lab = |s: &Snapshot| -> Vec<(u64, Vec<(u32, u32)>)> {
        let mut v: Vec<_> = s
            .sockets
            .iter()
            .filter(|x| truth.iter().any(|t| t["inode"].as_u64() == Some(x.inode)))
            .map(|x| (x.inode, x.owners.iter().map(|o| (o.pid, o.fd)).collect()))
            .collect();
        v.sort();
        v
    };
    assert!(!lab(&root).is_empty());
    assert_eq!(lab(&limited), lab(&root));
    let exes = |s: &Snapshot| -> Vec<(u32, Option<String>)> {
        s.processes
            .iter()
            .map(|p| (p.pid, p.exe.as_ref().map(|e| e.to_str_lossy().into_owned())))
            .filter(|(pid, _)| {
                root.sockets
                    .iter()
                    .any(|x| x.owners.iter().any(|o| o.pid == *pid))
            })
            .collect()
    };
    assert_eq!(
        exes(&limited),
        exes(&root),
        "exe links readable with the set"
    );
}
