//! Cross-checking the parts of an imported collection (issue 17): the vendored UAC run over a
//! live namespace whose `ss` is hooked (tests/scripts/hide.c preloaded into it, as a trojaned
//! `ss` would be) to hide one listener. The imported scan reports the listener as hidden from
//! netlink and names `ss_-anp.txt` as the part that lies; a listener closed before `ss` ran and
//! one opened after it (churn between two commands) give no finding.

use std::path::Path;

use serde_json::Value;
use sockwarden::model::{Snapshot, View};

use crate::common::{self, BIN, Netns, expect_exit};

/// The hidden listener, the one closed before `ss` runs, the one opened after it.
const HIDDEN: u16 = 31337;
const CLOSED: u16 = 31338;
const OPENED: u16 = 31339;

/// A listener on 127.0.0.1:PORT that prints READY and waits.
const LISTEN: &str = "import socket,sys,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)
s.bind(('127.0.0.1',int(sys.argv[1]))); s.listen(8); print('READY',flush=True); time.sleep(600)";

fn with_port(snap: &Snapshot, port: u16) -> Vec<&sockwarden::model::Socket> {
    snap.sockets
        .iter()
        .filter(|s| {
            s.local.is_some_and(|l| l.port == port) && s.remote.is_some_and(|r| r.port == 0)
        })
        .collect()
}

/// UAC collects the process listings (fd listings first), then `lsof`, `ss`, `netstat` and the
/// /proc/net copies. `ss` is a wrapper bind-mounted over the real one in the test's private mount
/// namespace: it closes the CLOSED listener, then runs the real `ss` with the hook; `netstat`'s
/// wrapper opens the OPENED listener first. The collection proves the HIDDEN listener existed
/// while `ss` ran (`lsof` and the fd listing before it, the /proc/net copies after it list its
/// inode);
/// the other two are each seen on one side of `ss` only.
#[test]
fn import_of_a_uac_collection_names_the_part_that_hides_a_listener() {
    if !common::require_root("import_of_a_uac_collection_names_the_part_that_hides_a_listener") {
        return;
    }
    let ns = Netns::new();
    let lib = crate::crossview::build_hider(&ns);
    let work = ns.workdir();
    let uac = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vendor/uac");
    let (out_dir, tmp) = (work.join("uac-out"), work.join("uac-tmp"));
    std::fs::create_dir_all(&out_dir).unwrap();
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::write(work.join("listen.py"), LISTEN).unwrap();
    let artifacts = [
        "live_response/process/procfs_information.yaml",
        "live_response/process/ps.yaml",
        "live_response/network/lsof.yaml",
        "live_response/network/ss.yaml",
        "live_response/network/netstat.yaml",
        "live_response/network/procfs_information.yaml",
    ]
    .join(",");
    let w = work.display().to_string();
    // `ready F`: wait for a listener's READY line.
    let script = format!(
        r#"set -e
ready() {{ for i in $(seq 200); do grep -q READY "$1" && return 0; sleep 0.05; done; exit 5; }}
python3 {w}/listen.py {HIDDEN} > {w}/hidden.out 2>&1 < /dev/null &
python3 {w}/listen.py {CLOSED} > {w}/closed.out 2>&1 < /dev/null &
echo $! > {w}/closed.pid
ready {w}/hidden.out; ready {w}/closed.out
SS=$(command -v ss); NETSTAT=$(command -v netstat)
cp "$SS" {w}/ss.real; cp "$NETSTAT" {w}/netstat.real
cat > {w}/ss <<EOF
#!/bin/sh
if kill \$(cat {w}/closed.pid) 2>/dev/null; then
  while ls /proc/\$(cat {w}/closed.pid)/fd 2>/dev/null | grep -q .; do sleep 0.01; done
fi
LD_PRELOAD={lib} HIDE_NETLINK_PORT={HIDDEN} exec {w}/ss.real "\$@"
EOF
cat > {w}/netstat <<EOF
#!/bin/sh
if [ ! -e {w}/opened.out ]; then
  python3 {w}/listen.py {OPENED} > {w}/opened.out 2>&1 < /dev/null &
  for i in \$(seq 200); do grep -q READY {w}/opened.out && break; sleep 0.05; done
fi
exec {w}/netstat.real "\$@"
EOF
chmod +x {w}/ss {w}/netstat
mount --bind {w}/ss "$SS"; mount --bind {w}/netstat "$NETSTAT"
cd '{uac}' && ./uac -a '{artifacts}' -o uac-views --temp-dir '{tmp}' '{out}' > {w}/uac.out 2>&1 || exit 4"#,
        lib = lib.display(),
        uac = uac.display(),
        tmp = tmp.display(),
        out = out_dir.display(),
    );
    let out = ns.run_script_in_own_pids(&script);
    assert!(
        out.status.success(),
        "{:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(work.join("uac.out")).unwrap_or_default()
    );
    let archive = out_dir.join("uac-views.tar.gz");
    let archive = archive.to_str().unwrap();
    let imported = std::process::Command::new(BIN)
        .args(["import", archive])
        .output()
        .unwrap();
    expect_exit(&imported, 0);
    let snap: Snapshot = serde_json::from_slice(&imported.stdout).unwrap();

    // The hooked ss did hide it: no ss part lists the port.
    let hidden = with_port(&snap, HIDDEN);
    assert_eq!(hidden.len(), 1, "{hidden:?}");
    let h = hidden[0];
    assert!(!h.views.has(View::Netlink), "{:?}", h.views);
    assert!(
        h.views.has(View::Procnet) && h.views.has(View::Fdwalk),
        "{:?}",
        h.views
    );
    assert!(h.hidden.has(View::Netlink), "{:?}", h.hidden);
    assert!(!h.hidden.has(View::Procnet));
    let ev = snap.meta.evidence.as_ref().unwrap();
    let liars: Vec<&str> = ev
        .parts
        .iter()
        .filter(|p| p.omitted.contains(&h.inode))
        .map(|p| p.file.rsplit('/').next().unwrap())
        .collect();
    assert!(liars.contains(&"ss_-anp.txt"), "{liars:?}");
    assert!(liars.iter().all(|l| l.starts_with("ss_")), "{liars:?}");
    // The order came from uac.log.
    assert!(
        ev.parts
            .iter()
            .filter(|p| p.format != "uac")
            .all(|p| p.taken.is_some())
    );

    // Churn: each of the other two listeners is seen on one side of ss only.
    let closed = with_port(&snap, CLOSED);
    assert_eq!(closed.len(), 1, "lsof saw the closed listener");
    assert_eq!(closed[0].views.iter().collect::<Vec<_>>(), [View::Fdwalk]);
    let opened = with_port(&snap, OPENED);
    assert_eq!(
        opened.len(),
        1,
        "netstat and /proc/net saw the opened listener"
    );
    assert!(!opened[0].views.has(View::Netlink) && !opened[0].views.has(View::Fdwalk));
    for s in closed.iter().chain(&opened) {
        assert!(s.hidden.is_empty(), "churn is not hiding: {s:?}");
    }
    let views = snap.meta.views.as_ref().unwrap();
    assert!(views.churn >= 2, "{views:?}");
    assert!(
        !ev.unknown.contains_key("socket.hidden.netlink"),
        "{:?}",
        ev.unknown
    );

    // The scan reports NET-HID-002 for the hidden listener only, and its warning names the part.
    let scan = std::process::Command::new(BIN)
        .args([
            "scan",
            "--no-config",
            "--allow-partial",
            "--format",
            "json",
            "--from",
            archive,
        ])
        .output()
        .unwrap();
    expect_exit(&scan, 1);
    let rep: Value = serde_json::from_slice(&scan.stdout).unwrap();
    let hid: Vec<(String, u64)> = rep["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["rule_id"]
                .as_str()
                .is_some_and(|r| r.starts_with("NET-HID"))
        })
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["socket"]["local"]["port"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        hid,
        [("NET-HID-002".to_string(), u64::from(HIDDEN))],
        "{rep:#}"
    );
    let warnings = rep.to_string();
    assert!(
        warnings.contains("evidence_view_hides") && warnings.contains("ss_-anp.txt (netlink view"),
        "{warnings}"
    );
}
