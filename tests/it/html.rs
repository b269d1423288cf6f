//! Issue 21: the HTML page (`--format html`, `-o html=FILE`) on `scan` and `diff`, over the
//! hostile-name fixture and the web server incident, in a real browser: headless Chromium
//! (Debian's chromium and chromium-driver, driven by tests/scripts/browser.py with selenium)
//! opens each page from a file:// URL with JavaScript on; the test checks the rendered DOM (the
//! counts, a finding's text, a graph node, sorting and filtering a table), that hostile names
//! are text (no element, attribute or script from them), that the page requests nothing
//! but itself, and that with JavaScript off the graph and every table are still there.
//!
//! `SOCKWARDEN_SCREENSHOT=PATH` also saves a screenshot of the incident page (docs/report-html.png
//! is made that way).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::{BIN, expect_exit};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Runs sockwarden with `args` in the repository root and returns its output, checking the
/// exit status.
fn run(args: &[&str], status: i32) -> std::process::Output {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(ROOT)
        .env_remove("COLUMNS")
        .output()
        .unwrap();
    expect_exit(&out, status);
    out
}

/// The web server after the incident, its backdoor (pid 4444) in a docker container with its
/// own network namespace: findings, drift against baselines/web-golden.yaml, and a graph with
/// a group.
fn incident(dir: &Path) -> PathBuf {
    const OTHER: u64 = 4026532999;
    const ID: &str = "31d7c134c569561af6a4949f583adb34b6569f2300ad206debd0036901a5c1de";
    let path = format!("{FIXTURES}/snapshots/web-after.json");
    let mut snap: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let host = snap["meta"]["netns"].as_u64().unwrap();
    for s in snap["sockets"].as_array_mut().unwrap() {
        let alone = s["owners"][0]["pid"] == 4444 && s["owners"].as_array().unwrap().len() == 1;
        s["netns"] = (if alone { OTHER } else { host }).into();
    }
    for p in snap["processes"].as_array_mut().unwrap() {
        if p["pid"] == 4444 {
            p["container"] = serde_json::json!({"runtime": "docker", "id": ID});
            p["netns"] = OTHER.into();
        }
    }
    snap["namespaces"] = serde_json::json!([
        {"inode": host, "current": true, "pids": [1, 1000, 1001, 2000]},
        {"inode": OTHER, "pids": [4444], "containers": [format!("docker:{ID}")]},
    ]);
    let file = dir.join("incident.json");
    std::fs::write(&file, serde_json::to_vec(&snap).unwrap()).unwrap();
    file
}

#[test]
fn scan_and_diff_write_html_pages_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = format!("{FIXTURES}/snapshots/hostile-html.json");
    let page = |name: &str| dir.path().join(name);
    for name in ["a.html", "b.html"] {
        let spec = format!("html={}", page(name).display());
        let out = run(
            &[
                "scan",
                "--from",
                &hostile,
                "--rules",
                "tests/fixtures/rules",
                "-o",
                &spec,
            ],
            1,
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("CRITICAL"),
            "the table still goes to stdout"
        );
    }
    let a = std::fs::read(page("a.html")).unwrap();
    assert_eq!(
        a,
        std::fs::read(page("b.html")).unwrap(),
        "same input, same bytes"
    );
    let stdout = run(
        &[
            "scan",
            "--from",
            &hostile,
            "--rules",
            "tests/fixtures/rules",
            "--format",
            "html",
        ],
        1,
    )
    .stdout;
    assert_eq!(stdout, a, "--format html on stdout is the same page");
    assert!(a.starts_with(b"<!DOCTYPE html>"));

    let before = format!("{FIXTURES}/snapshots/web-before.json");
    let after = format!("{FIXTURES}/snapshots/web-after.json");
    let spec = format!("html={}", page("diff.html").display());
    let out = run(&["diff", &before, &after, "-o", &spec], 1);
    assert!(String::from_utf8_lossy(&out.stdout).contains("+ listeners: tcp 0.0.0.0:4444"));
    let d1 = std::fs::read(page("diff.html")).unwrap();
    let d2 = run(&["diff", &before, &after, "--format", "html"], 1).stdout;
    assert_eq!(d1, d2);
    let text = String::from_utf8(d1).unwrap();
    assert!(
        text.contains("<g class=\"node listen mark-changed\""),
        "the new listener is marked"
    );
    // A format diff does not have is refused, naming the ones it has.
    let out = run(&["diff", &before, &after, "-o", "sarif=x.sarif"], 2);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("one of table, json, html"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Whether Chromium, its driver and selenium are here: under CI=true their absence fails the
/// test (ci/deps.sh installs them), locally it skips.
fn have_browser() -> bool {
    let ok = Path::new("/usr/bin/chromium").exists()
        && Path::new("/usr/bin/chromedriver").exists()
        && Command::new("python3")
            .args(["-c", "import selenium"])
            .output()
            .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "chromium, chromium-driver or selenium (PyPI) is missing; ci/deps.sh installs them"
            );
        }
        eprintln!("skipping the browser test: no chromium, chromium-driver or selenium");
    }
    ok
}

/// The rows of a column as the browser shows them, sorted ascending or descending.
fn assert_sorted(rows: &Value, numeric: bool, descending: bool) {
    let rows: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(rows.len() > 1, "{rows:?}");
    let mut want = rows.clone();
    if numeric {
        want.sort_by_key(|v| v.parse::<i64>().unwrap());
    } else {
        want.sort_by_key(|v| v.to_lowercase());
    }
    if descending {
        want.reverse();
    }
    assert_eq!(rows, want);
}

#[test]
fn chromium_renders_the_pages_and_nothing_leaves_them() {
    if !have_browser() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let incident = incident(dir.path());
    let web = dir.path().join("incident.html");
    let spec = format!("html={}", web.display());
    let out = run(
        &[
            "scan",
            "--from",
            incident.to_str().unwrap(),
            "--baseline",
            "baselines/web-golden.yaml",
            "-o",
            &spec,
            "--format",
            "json",
        ],
        1,
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let hostile = dir.path().join("hostile.html");
    let spec = format!("html={}", hostile.display());
    let hostile_fixture = format!("{FIXTURES}/snapshots/hostile-html.json");
    run(
        &[
            "scan",
            "--from",
            &hostile_fixture,
            "--rules",
            "tests/fixtures/rules",
            "-o",
            &spec,
        ],
        1,
    );
    let diff = dir.path().join("diff.html");
    let spec = format!("html={}", diff.display());
    run(
        &[
            "diff",
            &format!("{FIXTURES}/snapshots/web-before.json"),
            &format!("{FIXTURES}/snapshots/web-after.json"),
            "-o",
            &spec,
        ],
        1,
    );

    // A browser that hangs fails the test after two minutes instead of holding CI.
    let mut cmd = Command::new("timeout");
    cmd.args(["120", "python3"]);
    cmd.arg(format!("{ROOT}/tests/scripts/browser.py"));
    if let Some(shot) = std::env::var_os("SOCKWARDEN_SCREENSHOT") {
        cmd.arg("--screenshot").arg(shot);
    }
    let t0 = std::time::Instant::now();
    let out = cmd.args([&web, &hostile, &diff]).output().unwrap();
    assert!(
        out.status.success(),
        "browser.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("browser: {:?}", t0.elapsed());
    let mut dom: Value = serde_json::from_slice(&out.stdout).unwrap();

    // With JavaScript off, the page is all there: the graph, every table and its rows; only
    // the sorting and the filter boxes are missing.
    let nojs = dom.as_object_mut().unwrap().remove("nojs").unwrap();
    assert_eq!(nojs["js_tables"], 0, "{nojs}");
    assert_eq!(nojs["filters"], 0, "{nojs}");
    assert!(nojs["tables"].as_u64().unwrap() >= 5, "{nojs}");
    assert!(nojs["rows"].as_u64().unwrap() >= 20, "{nojs}");
    assert_eq!(
        nojs["nodes"], 10,
        "{nojs}: 4 processes, 3 listeners, 3 peers"
    );
    assert!(nojs["edges"].as_u64().unwrap() >= 7, "{nojs}");
    assert_eq!(
        nojs["critical"],
        report["summary"]["by_severity"]["critical"].to_string()
    );

    // Every page: the script ran and the style applied (both allowed by the policy's hashes,
    // nothing blocked), and the page requested nothing but itself.
    for (name, page) in dom.as_object().unwrap() {
        assert_eq!(page["js_tables"], page["tables"], "{name}: the script ran");
        assert_eq!(
            page["filters"], page["tables"],
            "{name}: a filter per table"
        );
        assert_eq!(
            page["header_bg"], "rgb(244, 246, 249)",
            "{name}: the style applied"
        );
        let console = page["console"].as_array().unwrap();
        assert!(
            console.is_empty(),
            "{name}: console messages (a CSP violation?): {console:?}"
        );
        let requests: Vec<&str> = page["requests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        assert_eq!(
            requests,
            vec![page["url"].as_str().unwrap()],
            "{name}: requests"
        );
        assert_eq!(page["imgs"], 0, "{name}");
        assert_eq!(page["scripts"], 1, "{name}: only the page's own script");
        assert_eq!(page["svgs"], 1, "{name}: only the graph");
        assert_eq!(
            page["on_attrs"],
            serde_json::json!([]),
            "{name}: no event handler attribute"
        );
        assert_eq!(page["pwned"], "undefined", "{name}");
    }

    // The incident: the counts of the report, a finding's rule text, drift, the graph.
    let web = &dom["incident.html"];
    for (sev, n) in report["summary"]["by_severity"].as_object().unwrap() {
        assert_eq!(web["counts"][sev], *n, "{sev}");
    }
    let findings = web["findings"].as_str().unwrap();
    assert!(
        findings.contains(
            "Network listener owned by an executable in /tmp, /var/tmp, /dev/shm or another volatile directory"
        ),
        "{findings}"
    );
    assert!(
        findings.contains("Respond capture the binary"),
        "{findings}"
    );
    assert!(findings.contains("kworkerd [4444]"), "{findings}");
    let drift = web["drift"].as_str().unwrap();
    assert!(
        drift.contains("New listener not in the baseline"),
        "{drift}"
    );
    let node = &web["nodes"]["4444"];
    assert_eq!(node["text"], "kworkerd [4444]");
    assert!(
        node["cls"].as_str().unwrap().contains("mark-critical"),
        "{node}"
    );
    assert!(
        node["title"]
            .as_str()
            .unwrap()
            .contains("exe /tmp/.x/kworkerd")
    );
    assert_eq!(web["nodes"]["2000"]["text"], "nginx [2000]");
    assert!(
        web["body_text"]
            .as_str()
            .unwrap()
            .contains("container docker 31d7c134c569")
    );
    assert!(
        web["peers"]
            .as_array()
            .unwrap()
            .contains(&Value::from("203.0.113.66"))
    );
    // Sorting: by a number, up then down; by a name.
    let s = &web["sort_talkers_sockets"];
    assert_eq!(s["asc_state"], "ascending");
    assert_sorted(&s["asc"], true, false);
    assert_sorted(&s["desc"], true, true);
    assert_eq!(s["desc_state"], "descending");
    assert_sorted(&web["sort_talkers_process"]["asc"], false, false);
    let filtered = web["filter_talkers"].as_array().unwrap();
    assert!(
        !filtered.is_empty()
            && filtered
                .iter()
                .all(|r| r.as_str().unwrap().starts_with("sshd")),
        "{filtered:?}"
    );

    // The hostile names: shown, as text.
    let h = &dom["hostile.html"];
    let body = h["body_text"].as_str().unwrap();
    for shown in [
        r"evil\n\x1b[31m<script>window.__pwned=1</script> [4444]",
        r#""><img src=x onerror=window.__pwned=1>"#,
        "</script><script>window.__pwned=1</script>",
        r"/tmp/.x/ctl\n[OK]</script><svg onload=window.__pwned=1>",
        r"\u{202e}txt.exe",
        r"ro\x07ot<i>",
    ] {
        assert!(body.contains(shown), "{shown} not shown as text:\n{body}");
    }
    assert_eq!(h["host"], r"web01\u{202e}<b>bold</b>");
    assert_eq!(h["b_in_title"], 0, "the hostname's <b> is text");
    assert!(h["title"].as_str().unwrap().contains("<b>bold</b>"));

    // The diff: what changed, and the new listener's holder in the graph.
    let d = &dom["diff.html"];
    assert!(d["changes"].as_str().unwrap().contains("tcp 0.0.0.0:4444"));
    assert_eq!(d["nodes"]["4444"]["text"], "kworkerd [4444]");
    assert!(
        d["nodes"]["4444"]["cls"]
            .as_str()
            .unwrap()
            .contains("mark-changed")
    );
}
