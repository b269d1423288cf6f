//! The page over built snapshots: escaping of hostile names (no markup from them at all), the
//! policy's hashes against the inline blocks, identical bytes on every run, the graph's marks,
//! and the size at 100k sockets.

use std::collections::BTreeSet;
use std::net::IpAddr;

use crate::model::*;
use crate::report::{self, ScanReport};
use crate::rules::{self, RuleSet, Source};

/// The only elements the page itself writes; a hostile name that became markup would add one.
const TAGS: &[&str] = &[
    "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "h4", "p", "b",
    "i", "nav", "a", "main", "section", "div", "span", "dl", "dt", "dd", "article", "code",
    "table", "thead", "tbody", "tr", "th", "td", "br", "svg", "g", "rect", "text", "path",
    "footer", "script",
];

fn process(pid: u32, comm: &[u8], exe: &[u8], cmdline: &[&[u8]]) -> Process {
    Process {
        pid,
        ppid: 1,
        comm: ByteString::from(comm),
        exe: Some(ByteString::from(exe)),
        exe_deleted: false,
        exe_memfd: false,
        cmdline: cmdline.iter().map(|a| ByteString::from(*a)).collect(),
        uid: 0,
        euid: 0,
        user: Some("root".into()),
        start_ticks: 1,
        cgroup: None,
        container: None,
        netns: None,
        ..Process::default()
    }
}

fn inet(protocol: Protocol, state: State, local: &str, remote: &str, pid: u32) -> Socket {
    let ep = |s: &str| {
        let (a, p) = s.rsplit_once(':').unwrap();
        Endpoint {
            address: a.trim_matches(['[', ']']).parse().unwrap(),
            port: p.parse().unwrap(),
        }
    };
    let l = ep(local);
    let family = if l.address.is_ipv4() {
        Family::Inet
    } else {
        Family::Inet6
    };
    let mut s = Socket::new(protocol, family, state, 0);
    s.local = Some(l);
    s.remote = Some(ep(remote));
    s.owners = smallvec::smallvec![Owner { pid, fd: 3 }];
    s
}

fn snapshot(sockets: Vec<Socket>, processes: Vec<Process>) -> Snapshot {
    let mut snap = Snapshot {
        schema_version: SCHEMA_VERSION,
        meta: Meta::blank("web01"),
        sockets,
        processes,
        namespaces: vec![],
        warnings: vec![],
        gaps: vec![],
    };
    for (i, s) in snap.sockets.iter_mut().enumerate() {
        s.inode = 1000 + i as u64;
    }
    snap.canonicalize();
    snap
}

/// Markup a hostile process puts in every name it controls.
const EVIL: &[u8] = b"<script>window.__pwned=1</script>\"><img src=x onerror=window.__pwned=1>";

/// A host whose backdoor has hostile names everywhere: comm, exe, cmdline, unix path.
fn hostile() -> Snapshot {
    let mut evil_exe = b"/tmp/.x/</script><img src=x onerror=alert(1)>\xff".to_vec();
    evil_exe.extend_from_slice("\u{202e}gpj.exe".as_bytes());
    let mut unix = Socket::new(Protocol::UnixStream, Family::Unix, State::Listen, 0);
    unix.unix = Some(Box::new(UnixInfo {
        name: Some(ByteString::from(
            &b"/tmp/.x/</script><script>window.__pwned=1</script>\n[OK]"[..],
        )),
        r#abstract: false,
        peer: None,
        pending: vec![],
        backlog: None,
        vfs_inode: None,
        vfs_dev: None,
    }));
    unix.owners = smallvec::smallvec![Owner { pid: 4444, fd: 7 }];
    snapshot(
        vec![
            inet(
                Protocol::Tcp,
                State::Listen,
                "0.0.0.0:22",
                "0.0.0.0:0",
                1000,
            ),
            inet(
                Protocol::Tcp,
                State::Listen,
                "0.0.0.0:4444",
                "0.0.0.0:0",
                4444,
            ),
            inet(
                Protocol::Tcp,
                State::Established,
                "10.0.0.5:22",
                "198.51.100.7:51000",
                1000,
            ),
            inet(
                Protocol::Tcp,
                State::Established,
                "10.0.0.5:41000",
                "203.0.113.66:443",
                4444,
            ),
            unix,
        ],
        vec![
            process(
                1000,
                b"sshd",
                b"/usr/sbin/sshd",
                &[b"sshd: /usr/sbin/sshd -D"],
            ),
            process(4444, EVIL, &evil_exe, &[b"kworkerd", EVIL, b"a'b\"c&d"]),
        ],
    )
}

/// The default pack plus `extra` rules.
fn rules_with(extra: &[&str]) -> RuleSet {
    let (mut r, l) = rules::default_sources();
    for (i, text) in extra.iter().enumerate() {
        r.push(Source {
            path: format!("test/{i}.yaml"),
            text: text.to_string(),
        });
    }
    rules::load(&r, &l, &[], &[]).expect("the rules load")
}

/// A rule on the hostile unix listener, so its name reaches a finding too.
const UNIX_RULE: &str = "id: TEST-UNIX-001\ntitle: Unix listener in /tmp\nseverity: high\nstatus: experimental\ntags: [T1559]\ndescription: |\n  What: a unix listener in /tmp.\n  Why: tests.\n  Respond: nothing.\nwhen:\n  all:\n    - socket.kind: unix\n    - socket.state: listen\nexamples:\n  match:\n    - socket: {protocol: unix_stream, state: listen}\n  no_match:\n    - socket: {protocol: tcp, state: listen}\n";

fn report(snap: &Snapshot, rules: &RuleSet) -> ScanReport {
    let findings = crate::engine::evaluate(rules, snap);
    report::build(snap, rules, &findings, None)
}

/// Every element name in the page, in order of appearance.
fn tags(page: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = page;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let name: String = rest
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        out.push(name.to_ascii_lowercase());
    }
    out
}

/// The text of the only `<tag>...</tag>` block.
fn block<'a>(page: &'a str, tag: &str) -> &'a str {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    assert_eq!(page.matches(&open).count(), 1, "one <{tag}>");
    let start = page.find(&open).unwrap() + open.len();
    let end = page[start..].find(&close).unwrap() + start;
    &page[start..end]
}

#[test]
fn hostile_names_are_text_never_markup() {
    let snap = hostile();
    let rules = rules_with(&[UNIX_RULE]);
    let r = report(&snap, &rules);
    assert!(
        r.findings
            .iter()
            .any(|f| f.processes.iter().any(|p| p.pid == 4444)),
        "a finding names the backdoor"
    );
    let page = super::scan(&r, &rules, &snap);
    // Markup only from the page itself: the hostile <script> and <img> are not elements.
    let used: BTreeSet<String> = tags(&page).into_iter().collect();
    let unexpected: Vec<&String> = used
        .iter()
        .filter(|t| !t.is_empty() && !TAGS.contains(&t.as_str()) && *t != "doctype")
        .collect();
    assert!(
        unexpected.is_empty(),
        "elements from outside: {unexpected:?}"
    );
    assert_eq!(page.matches("<script").count(), 1, "one script, the page's");
    assert_eq!(page.matches("</script").count(), 1);
    // No tag carries an attribute from a name (the names are in the page, as text).
    assert!(page.contains("onerror=window.__pwned=1"));
    for (i, _) in page.match_indices('<') {
        let tag = &page[i..i + page[i..].find('>').unwrap()];
        assert!(!tag.contains("onerror") && !tag.contains("pwned"), "{tag}");
    }
    assert!(!page.contains("<img"));
    // The names are there, as visible text.
    assert!(page.contains("&lt;script&gt;window.__pwned=1&lt;/script&gt;&quot;&gt;&lt;img"));
    assert!(
        page.contains("\\xff\\u{202e}gpj.exe"),
        "invalid byte and bidi made visible"
    );
    assert!(
        page.contains("\\n[OK]"),
        "the unix path's newline made visible"
    );
    assert!(page.contains("a&#39;b&quot;c&amp;d"));
    assert!(!page.contains('\u{202e}'));
    assert!(
        page.chars().all(|c| c == '\n' || !c.is_control()),
        "no control character"
    );

    // A diff that adds the backdoor: its lines carry the names raw.
    let empty = snapshot(vec![], vec![]);
    let page = super::diff(
        &crate::baseline::diff::compare(&empty, &snap),
        &empty,
        &snap,
    );
    let used: BTreeSet<String> = tags(&page).into_iter().collect();
    assert!(
        used.iter()
            .all(|t| t.is_empty() || TAGS.contains(&t.as_str()) || t == "doctype"),
        "{used:?}"
    );
    assert_eq!(page.matches("<script").count(), 1);
    assert!(
        page.contains("[kworkerd &lt;script&gt;window.__pwned=1&lt;/script&gt;&quot;&gt;&lt;img")
    );
    assert!(
        page.contains("\\xff\\u{202e}gpj.exe"),
        "the exe, made visible"
    );
    assert!(!page.contains('\u{202e}'));
}

#[test]
fn the_policy_allows_exactly_the_inline_style_and_script() {
    let snap = hostile();
    let rules = rules_with(&[]);
    let page = super::scan(&report(&snap, &rules), &rules, &snap);
    let meta = page
        .lines()
        .find(|l| l.contains("Content-Security-Policy"))
        .unwrap();
    let style = super::esc::csp_hash(block(&page, "style"));
    let script = super::esc::csp_hash(block(&page, "script"));
    assert!(
        meta.contains(&format!(
            "content=\"default-src 'none'; style-src {style}; script-src {script}; base-uri 'none'; form-action 'none'\""
        )),
        "{meta}"
    );
    assert!(!meta.contains("unsafe"), "{meta}");
    // No style attribute (the policy would block it) and no resource from anywhere.
    assert!(!page.contains(" style="));
    for banned in [
        "<img",
        "<link",
        "<iframe",
        "<object",
        "<embed",
        "href=\"http",
        "url(",
        "@import",
    ] {
        assert!(!page.contains(banned), "{banned}");
    }
    // The policy comes before any style or script.
    assert!(page.find("Content-Security-Policy").unwrap() < page.find("<style>").unwrap());
}

#[test]
fn same_input_same_bytes() {
    let snap = hostile();
    let rules = rules_with(&[UNIX_RULE]);
    let a = super::scan(&report(&snap, &rules), &rules, &snap);
    let b = super::scan(&report(&snap, &rules), &rules, &snap);
    assert_eq!(a, b);
    let other = hostile();
    let d1 = super::diff(
        &crate::baseline::diff::compare(&snap, &other),
        &snap,
        &other,
    );
    let d2 = super::diff(
        &crate::baseline::diff::compare(&snap, &other),
        &snap,
        &other,
    );
    assert_eq!(d1, d2);
}

#[test]
fn the_graph_marks_a_findings_socket_and_holder() {
    let snap = hostile();
    let rules = rules_with(&[]);
    let r = report(&snap, &rules);
    let page = super::scan(&r, &rules, &snap);
    // Each holder in the colour of the worst finding naming it, or none.
    for pid in [1000, 4444] {
        let class = r
            .findings
            .iter()
            .filter(|f| f.processes.iter().any(|p| p.pid == pid))
            .map(|f| super::view::Mark::Finding(f.severity))
            .max()
            .map(|m| format!(" {}", m.class()))
            .unwrap_or_default();
        assert!(
            page.contains(&format!(
                "<g class=\"node proc{class}\" data-pid=\"{pid}\">"
            )),
            "pid {pid}: {class}"
        );
    }
    assert!(page.contains("<g class=\"node proc mark-critical\" data-pid=\"4444\">"));
    // The /tmp listener is critical (NET-PRC-001), and so is its edge to the holder.
    assert!(page.contains("<g class=\"node listen mark-critical\"><title>tcp 0.0.0.0:4444"));
    assert!(page.contains("<path class=\"edge w1 mark-critical\""));
    assert!(page.contains("data-peer=\"203.0.113.66\""));
    assert!(page.contains("data-peer=\"198.51.100.7\""));
}

#[test]
fn a_diff_marks_what_was_added() {
    let old = hostile();
    let mut sockets = old.sockets.clone();
    sockets.push(inet(
        Protocol::Tcp,
        State::Established,
        "10.0.0.5:42000",
        "192.0.2.10:8443",
        1000,
    ));
    let new = snapshot(sockets, old.processes.clone());
    let d = crate::baseline::diff::compare(&old, &new);
    let page = super::diff(&d, &old, &new);
    assert!(page.contains("<g class=\"node peer mark-changed\" data-peer=\"192.0.2.10\">"));
    assert!(page.contains("<g class=\"node peer\" data-peer=\"203.0.113.66\">"));
    assert!(page.contains("id=\"count-connections-added\"><span class=\"n\">1</span>"));
    assert!(page.contains("tcp 10.0.0.5:42000 -&gt; 192.0.2.10:8443"));
}

/// A host of `n` sockets over `n / 100` processes: listeners, connections out to many peers
/// (documentation ranges), accepted connections, unix sockets.
fn big(n: usize) -> Snapshot {
    let procs = (n / 100).max(1);
    let sockets = (0..n)
        .map(|i| {
            let pid = 1000 + (i % procs) as u32;
            let port = 1024 + (i % 30000) as u16;
            match i % 10 {
                0 => inet(
                    Protocol::Tcp,
                    State::Listen,
                    &format!("0.0.0.0:{port}"),
                    "0.0.0.0:0",
                    pid,
                ),
                1..=5 => {
                    let peer: IpAddr = if i % 2 == 0 {
                        format!("203.0.113.{}", i % 250).parse().unwrap()
                    } else {
                        format!("2001:db8::{:x}", i % 5000).parse().unwrap()
                    };
                    let remote = match peer {
                        IpAddr::V4(a) => format!("{a}:443"),
                        IpAddr::V6(a) => format!("[{a}]:443"),
                    };
                    let local = if peer.is_ipv4() {
                        format!("10.0.0.5:{}", 32768 + (i % 28000))
                    } else {
                        format!("[2001:db8:1::5]:{}", 32768 + (i % 28000))
                    };
                    inet(Protocol::Tcp, State::Established, &local, &remote, pid)
                }
                6 | 7 => inet(
                    Protocol::Tcp,
                    State::Established,
                    &format!("10.0.0.5:{}", 1024 + (i / 10 % 30000) / 10 * 10),
                    &format!("198.51.100.{}:{}", i % 200, 40000 + i % 20000),
                    pid,
                ),
                _ => {
                    let mut s =
                        Socket::new(Protocol::UnixStream, Family::Unix, State::Established, 0);
                    s.unix = Some(Box::new(UnixInfo {
                        name: None,
                        r#abstract: false,
                        peer: Some(i as u64),
                        pending: vec![],
                        backlog: None,
                        vfs_inode: None,
                        vfs_dev: None,
                    }));
                    s.owners = smallvec::smallvec![Owner { pid, fd: 3 }];
                    s
                }
            }
        })
        .collect();
    let processes = (0..procs)
        .map(|j| {
            let pid = 1000 + j as u32;
            process(
                pid,
                format!("worker-{j}").as_bytes(),
                format!("/opt/app/bin/worker-{}", j % 7).as_bytes(),
                &[b"worker", b"--serve", format!("--id={j}").as_bytes()],
            )
        })
        .collect();
    snapshot(sockets, processes)
}

/// Issue 21: at 100k sockets the page summarises; its size stays under 3 MB (docs/report.md
/// records the figure).
#[test]
fn at_100k_sockets_the_page_summarises_within_3_mb() {
    let snap = big(100_000);
    // Every connection to 443 is a finding of TEST-BIG-001 (50,000), beside the default pack's.
    let rule = "id: TEST-BIG-001\ntitle: HTTPS out\nseverity: low\nstatus: experimental\ntags: [T1071]\ndescription: |\n  What: tests.\nwhen:\n  all:\n    - socket.state: established\n    - socket.remote.port: 443\nexamples:\n  match:\n    - socket: {protocol: tcp, state: established, local: 10.0.0.5:40000, remote: 203.0.113.1:443}\n  no_match:\n    - socket: {protocol: tcp, state: listen}\n";
    let rules = rules_with(&[rule]);
    let r = report(&snap, &rules);
    assert!(r.findings.len() >= 50_000, "{}", r.findings.len());
    let page = super::scan(&r, &rules, &snap);
    eprintln!(
        "100k sockets, {} findings: page {} bytes",
        r.findings.len(),
        page.len()
    );
    assert!(page.len() < 3_000_000, "{} bytes", page.len());
    assert!(
        page.contains("more not shown; get them with <code>sockwarden scan --format json</code>")
    );
    assert!(page.contains("id=\"graph-omitted\""));
    let nodes = page.matches("<g class=\"node proc").count();
    assert_eq!(nodes, super::graph::CAP);
}

/// `--since-last` and `--allow-partial` reach the page: the changes and the new findings, and
/// the scopes the scan missed (escaped).
#[test]
fn since_last_and_incomplete_coverage_are_shown() {
    let old = hostile();
    let mut sockets = old.sockets.clone();
    sockets.push(inet(
        Protocol::Tcp,
        State::Established,
        "10.0.0.5:42000",
        "192.0.2.10:8443",
        1000,
    ));
    let new = snapshot(sockets, old.processes.clone());
    let rules = rules_with(&[]);
    let mut r = report(&new, &rules);
    let first = r.findings[0].id.clone();
    r.since_last = Some(report::SinceLast {
        run: Some(3),
        started_at: Some("2026-12-01T10:00:00Z".into()),
        changes: crate::baseline::diff::compare(&old, &new),
        new: vec![first.clone()],
        still_present: vec![],
        resolved: vec!["00000000deadbeef".into()],
    });
    r.coverage = report::Coverage {
        complete: false,
        gaps: vec![Gap {
            scope: "netns:<b>x</b>".into(),
            reason: "gone".into(),
        }],
        filter: None,
    };
    let page = super::scan(&r, &rules, &new);
    assert!(page.contains("<section id=\"since-last\">"));
    assert!(
        page.contains("Since run 3 (2026-12-01T10:00:00Z): 1 new, 0 still present, 1 resolved")
    );
    assert!(page.contains("tcp 10.0.0.5:42000 -&gt; 192.0.2.10:8443"));
    assert!(page.contains(&format!(
        "<code>{first}</code> <span class=\"flag\">new</span>"
    )));
    assert!(
        page.contains(
            "INCOMPLETE (--allow-partial): not covered: netns:&lt;b&gt;x&lt;/b&gt;: gone"
        )
    );
}

/// A hostile process's megabyte command line and executable path, and a listener held by
/// thousands of processes, do not make the page as large: each cell is cut, holders capped.
#[test]
fn huge_names_and_many_holders_are_cut() {
    let mut snap = hostile();
    let huge = vec![b'A'; 1 << 20];
    for p in &mut snap.processes {
        if p.pid == 4444 {
            p.cmdline = vec![
                ByteString::from(huge.clone()),
                ByteString::from(huge.clone()),
            ];
            p.exe = Some(ByteString::from([b"/tmp/".as_slice(), &huge].concat()));
            p.comm = ByteString::from(huge.clone());
        }
    }
    for pid in 5000..8000u32 {
        snap.processes
            .push(process(pid, b"worker", b"/tmp/w", &[b"worker"]));
        let s = snap
            .sockets
            .iter_mut()
            .find(|s| s.local.is_some_and(|l| l.port == 4444) && s.state == State::Listen)
            .unwrap();
        s.owners.push(Owner { pid, fd: 3 });
    }
    snap.canonicalize();
    let rules = rules_with(&[]);
    let r = report(&snap, &rules);
    let page = super::scan(&r, &rules, &snap);
    assert!(page.len() < 1_000_000, "{} bytes", page.len());
    assert!(page.contains(&format!("{}…", "A".repeat(super::esc::CELL_MAX - 1))));
    assert!(
        page.contains("and 2991 more holders"),
        "ten of 3,001 holders"
    );
}
