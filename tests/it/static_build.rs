//! The static musl build (ci/build-static.sh, issue 13): no dynamic linking at all, the same live
//! scan as the glibc build, and nothing injected through LD_PRELOAD.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use sockwarden::model::Snapshot;

use crate::common::{BIN, Netns, expect_exit, require_root, static_bin};

/// What the ELF file asks of a dynamic loader: a program interpreter (PT_INTERP) and the shared
/// libraries its dynamic section names (DT_NEEDED count). Reads ELF64 little-endian only.
fn dynamic_needs(path: &Path) -> (bool, usize) {
    let b = std::fs::read(path).unwrap();
    assert_eq!(&b[..4], b"\x7fELF", "{} is not ELF", path.display());
    assert_eq!((b[4], b[5]), (2, 1), "ELF64 little-endian");
    let u16_at = |o: usize| u16::from_le_bytes(b[o..o + 2].try_into().unwrap()) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap()) as usize;
    let (phoff, phentsize, phnum) = (u64_at(0x20), u16_at(0x36), u16_at(0x38));
    let mut interp = false;
    let mut needed = 0;
    for i in 0..phnum {
        let ph = phoff + i * phentsize;
        let p_type = u32::from_le_bytes(b[ph..ph + 4].try_into().unwrap());
        match p_type {
            3 => interp = true, // PT_INTERP
            2 => {
                // PT_DYNAMIC: (d_tag, d_val) pairs up to DT_NULL; DT_NEEDED is 1.
                let (off, size) = (u64_at(ph + 8), u64_at(ph + 32));
                for e in (off..off + size).step_by(16) {
                    match u64_at(e) {
                        0 => break,
                        1 => needed += 1,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    (interp, needed)
}

#[test]
fn the_static_build_needs_no_loader_and_no_library() {
    // The parser itself, on the glibc build: an interpreter and libc at least.
    let (interp, needed) = dynamic_needs(Path::new(BIN));
    assert!(interp && needed >= 1, "glibc build: {interp} {needed}");
    let Some(bin) = static_bin("the_static_build_needs_no_loader_and_no_library") else {
        return;
    };
    assert_eq!(dynamic_needs(&bin), (false, 0), "{}", bin.display());
    // Built from the same commit as this test build (a stale static binary would test old code).
    let commit = |b: &Path| -> String {
        let out = Command::new(b).arg("--version").output().unwrap();
        expect_exit(&out, 0);
        let v = String::from_utf8(out.stdout).unwrap();
        let inner = v.split_once('(').map(|x| x.1).unwrap_or_default();
        inner.split(' ').next().unwrap_or_default().to_string()
    };
    assert_eq!(commit(&bin), commit(Path::new(BIN)));
}

/// Socket and holder identity as a scan reports it: (inode, protocol, state, local, remote,
/// holders (pid, fd)).
type Seen = BTreeSet<(u64, String, String, String, String, Vec<(u32, u32)>)>;

fn seen(s: &Snapshot) -> Seen {
    s.sockets
        .iter()
        .map(|x| {
            (
                x.inode,
                x.protocol.name().to_string(),
                x.state.name().to_string(),
                format!("{:?}", x.local),
                format!("{:?}", x.remote),
                x.owners.iter().map(|o| (o.pid, o.fd)).collect(),
            )
        })
        .collect()
}

/// In a private namespace holding the socket lab still, the static build's snapshot (owners from
/// the BPF iterator and from /proc) and its scan's findings are the glibc build's.
#[test]
fn the_static_build_scans_like_the_glibc_build() {
    if !require_root("the_static_build_scans_like_the_glibc_build") {
        return;
    }
    let Some(stat) = static_bin("the_static_build_scans_like_the_glibc_build") else {
        return;
    };
    let stat = stat.display().to_string();
    let mut ns = Netns::new();
    let truth = ns.start_lab(3);
    let lab: BTreeSet<u64> = truth
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["inode"].as_u64())
        .collect();
    assert!(lab.len() > 10, "{truth}");
    for owners in ["bpf", "procfs"] {
        let snap = |bin: &str| -> Snapshot {
            let out = ns.run(&[bin, "snapshot", "--owners-from", owners]);
            expect_exit(&out, 0);
            serde_json::from_slice(&out.stdout).unwrap()
        };
        let (g, s) = (snap(BIN), snap(&stat));
        assert!(s.gaps.is_empty() && s.meta.privileged, "{:?}", s.gaps);
        assert_eq!(s.meta.sources, g.meta.sources, "{owners}");
        let (gs, ss) = (seen(&g), seen(&s));
        assert!(
            lab.iter().all(|i| ss.iter().any(|x| x.0 == *i)),
            "{owners}: lab sockets missing"
        );
        assert_eq!(
            ss, gs,
            "{owners}: the static build sees other sockets or holders"
        );
    }
    let findings = |bin: &str| -> BTreeSet<(String, u64)> {
        let out = ns.run(&[bin, "scan", "--format", "json"]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["rule_id"].as_str().unwrap_or_default().to_string(),
                    f["socket"]["inode"].as_u64().unwrap_or(0),
                )
            })
            .collect()
    };
    let g = findings(BIN);
    assert!(!g.is_empty(), "the lab trips rules");
    assert_eq!(findings(&stat), g);
}

/// LD_PRELOAD injects code into a dynamically linked sockwarden, never into the static one: a
/// library whose constructor writes a marker file is preloaded into both.
#[test]
fn the_static_build_ignores_ld_preload() {
    let Some(stat) = static_bin("the_static_build_ignores_ld_preload") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("inject.c");
    std::fs::write(
        &src,
        "#include <stdio.h>\n#include <stdlib.h>\n\
         __attribute__((constructor)) static void inject(void) {\n\
           const char *m = getenv(\"SW_PRELOAD_MARKER\");\n\
           FILE *f = m ? fopen(m, \"w\") : NULL;\n\
           if (f) { fputs(\"injected\\n\", f); fclose(f); }\n\
         }\n",
    )
    .unwrap();
    let so = dir.path().join("inject.so");
    let out = Command::new("gcc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&so)
        .arg(&src)
        .output()
        .expect("gcc (build-essential) builds the preload library");
    expect_exit(&out, 0);
    let run = |bin: &Path, marker: &Path| -> bool {
        let out = Command::new(bin)
            .arg("--version")
            .env("LD_PRELOAD", &so)
            .env("SW_PRELOAD_MARKER", marker)
            .output()
            .unwrap();
        expect_exit(&out, 0);
        marker.exists()
    };
    assert!(
        run(Path::new(BIN), &dir.path().join("glibc")),
        "the library is loaded into the glibc build"
    );
    assert!(
        !run(&stat, &dir.path().join("static")),
        "LD_PRELOAD reached the static build"
    );
}
