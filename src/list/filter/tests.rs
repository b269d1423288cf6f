use super::*;
use crate::list::fixtures::{sock, unix};
use crate::model::{Protocol, State};

/// Lookups for tests: services ssh 22, http 80, http-alt 8080 (tcp), domain 53 (both), a
/// service "split" with different tcp/udp ports; host "db" = 192.0.2.7 and 2001:db8::7;
/// device eth0 = 2; ephemeral range 32768-60999.
pub struct Fake;

impl lookup::Lookup for Fake {
    fn service(&self, name: &str, proto: &str) -> Option<u16> {
        match (name, proto) {
            ("ssh", _) => Some(22),
            ("http", "tcp") => Some(80),
            ("http-alt", "tcp") => Some(8080),
            ("domain", _) => Some(53),
            ("split", "tcp") => Some(1),
            ("split", "udp") => Some(2),
            _ => None,
        }
    }
    fn hosts(&self, name: &str) -> Vec<std::net::IpAddr> {
        match name {
            "db" => vec!["192.0.2.7".parse().unwrap(), "2001:db8::7".parse().unwrap()],
            _ => Vec::new(),
        }
    }
    fn device(&self, name: &str) -> Option<u32> {
        (name == "eth0").then_some(2)
    }
    fn port_range(&self) -> (u16, u16) {
        (32768, 60999)
    }
    fn cgroup_id(&self, path: &str) -> Option<u64> {
        match path {
            "/system.slice/x.service" => Some(4242),
            "/" => Some(1),
            _ => None,
        }
    }
    /// `/` exists on the root filesystem, as on a host whose cgroup2 is mounted elsewhere.
    fn cgroup_elsewhere(&self, path: &str) -> bool {
        path == "/"
    }
}

fn ctx(preferred: Option<Af>) -> Ctx<'static> {
    Ctx {
        preferred,
        tcp: true,
        udp: true,
        lookup: &Fake,
    }
}

fn parsed(words: &str, preferred: Option<Af>) -> Result<Parsed, FilterError> {
    parse(&tokenize(&[words.to_string()]), &ctx(preferred)).map(Option::unwrap)
}

fn expr(words: &str) -> Result<Filter, String> {
    parsed(words, None)
        .map(|p| p.filter)
        .map_err(|e| e.to_string())
}

#[test]
fn tokenizer_splits_words_like_ss() {
    let t = tokenize(&[
        "sport = :22".into(),
        "(".into(),
        r"a\ b".into(),
        "\t".into(),
    ]);
    assert_eq!(t, ["sport", "=", ":22", "(", "a b"]);
}

/// `(socket, expression, matches)`; sockets by name, see `sockets`.
const CASES: &[(&str, &str, bool)] = &[
    ("hi", "sport >= 1024 and dport < 100", true),
    ("lo", "sport >= 1024 and dport < 100", false),
    ("hi", "sport :2048", true),
    ("hi", "sport eq 2048", true),
    ("hi", "sport == *:2048", true),
    ("hi", "sport != :2048", false),
    ("hi", "sport neq 1", true),
    ("hi", "sport gt 2048", false),
    ("hi", "sport ge 2048", true),
    ("hi", "sport le 2047", false),
    ("hi", "sport lt 2049", true),
    ("hi", "dport > 79", true),
    (
        "ssh",
        "( sport = 22 or sport = 80 ) and dst 10.0.0.0/8",
        true,
    ),
    (
        "web",
        "( sport = 22 or sport = 80 ) and dst 10.0.0.0/8",
        true,
    ),
    (
        "ssh-out",
        "( sport = 22 or sport = 80 ) and dst 10.0.0.0/8",
        false,
    ),
    (
        "hi",
        "( sport = 22 or sport = 80 ) and dst 10.0.0.0/8",
        false,
    ),
    // Equal precedence, left to right: (a or b) and c. C-like precedence would say true.
    ("ssh", "sport = :22 or sport = :80 and dport = :5001", false),
    ("ssh", "dport = :5001 and sport = :80 or sport = :22", true),
    ("ssh", "sport = :1 || sport = :22 && dport = :5000", true),
    ("ssh", "sport = :22 dport = :5001", false),
    ("ssh", "not sport = :80 and sport = :22", true),
    ("ssh", "! ( sport = :22 || dport = :1 )", false),
    ("mapped", "src 127.0.0.1", true),
    ("mapped", "dst 127.0.0.0/8:40000", true),
    ("mapped", "src 127.0.0.2", false),
    ("v6", "src 127.0.0.1", false),
    ("v6", "src [2001:db8::/32]", true),
    ("v6", "src [2001:db8::/32]:443", true),
    ("v6", "src [2001:db8::1]:443", true),
    ("v6", "src [2001:db8::1]:444", false),
    ("v6", "dst [2001:db8::/32]", false),
    ("v6", "src *:443", true),
    ("v6", "src :443", true),
    ("v6", "src *", true),
    ("v6", "dst 0.0.0.0/0", false),
    ("v6", "dst *", true),
    ("mapped", "dst 0.0.0.0/0", true),
    ("v6", "not dst 0.0.0.0/0", false),
    ("path", "dst 0.0.0.0/0", true),
    ("path", "dst 0.0.0.0", true),
    ("path", "src 0.0.0.0", false),
    ("unnamed", "src 0.0.0.0", true),
    ("ssh", "src [::ffff:192.0.2.1]", false),
    ("ssh", "src = 192.0.2.0/24:22", true),
    ("ssh", "dst 10.0.0.1:*", true),
    ("ssh", "src 192.0.2.0/24:81", false),
    ("path", "sport = :0", false),
    ("path", "sport != :22", true),
    ("path", "sport = :1", true),
    ("path", "sport < :2", true),
    ("abstract", "sport = 10", true),
    ("path", "src *", true),
    ("path", "not sport = :22", true),
    ("packet", "sport != :22", true),
    ("packet", "sport = :0", true),
    ("hi", "sport = *:22", true),
    ("ssh", "sport = :ssh", true),
    ("web", "sport = :http", true),
    ("ssh", "src 192.0.2/24", true),
    ("ssh", "src 192.0.2", false),
    ("ssh", "src 192.0.2.1/255.255.255.0", true),
    ("ssh", "src any:22", true),
    ("ssh", "src inet6:any", false),
    ("mapped", "src inet:127.0.0.1", true),
    ("hi", "sport < :67584", false),
    ("lo", "sport < :67584", true),
    ("hi", "autobound", false),
    ("unnamed", "autobound", true),
    ("path", "autobound", false),
    ("packet", "src link:*", true),
    ("packet", "src link:ip", false),
    ("dev", "dev 0", false),
    ("path", "dev 0", true),
    ("path", "fwmark 0", true),
    ("path", "src unix:/run/*", true),
    ("path", "src /RUN/*/socket", true),
    ("path", "src unix:/tmp/*", false),
    ("path", "dst unix:/run/*", false),
    ("abstract", "src @ab@c?", true),
    ("abstract", "src unix:@[a-b]b*", true),
    ("abstract", "src unix:@[!a]*", false),
    ("unnamed", "src unix:*", true),
    ("unnamed", "src unix:?*", false),
    ("ssh", "src unix:*", false),
    ("dev", "dev eth0", true),
    ("dev", "dev = 2", true),
    ("dev", "dev != eth0", false),
    ("dev", "fwmark = 0x2a", true),
    ("dev", "fwmark 0x20/0xf0", true),
    ("dev", "fwmark 42/0xf", false),
    ("dev", "fwmark != 052", false),
];

#[test]
fn predicates_match_like_ss() {
    let mut dev = sock("tcp LISTEN 0.0.0.0:53 0.0.0.0:0");
    (dev.ifindex, dev.interface, dev.mark) = (Some(2), Some("eth0".into()), Some(0x2a));
    dev.cookie = Some(1);
    let abs = unix(Protocol::UnixDgram, State::Close, Some(b"\0ab\0cd"), 10);
    let sockets = [
        ("hi", sock("tcp ESTAB 10.0.0.1:2048 10.0.0.2:80")),
        ("lo", sock("tcp ESTAB 10.0.0.1:1000 10.0.0.2:80")),
        ("ssh", sock("tcp ESTAB 192.0.2.1:22 10.0.0.1:5000")),
        ("web", sock("tcp ESTAB 192.0.2.1:80 10.9.8.7:5000")),
        ("ssh-out", sock("tcp ESTAB 192.0.2.1:22 11.0.0.1:5000")),
        (
            "mapped",
            sock("tcp ESTAB [::ffff:127.0.0.1]:22 [::ffff:127.0.0.1]:40000"),
        ),
        ("v6", sock("tcp ESTAB [2001:db8::1]:443 [2001:db9::2]:5555")),
        ("path", sock("u_str LISTEN /run/dbus/SOCKET")),
        ("packet", sock("p_raw UNCONN")),
        ("abstract", abs),
        ("unnamed", sock("u_str ESTAB")),
        ("dev", dev),
    ];
    for (name, words, want) in CASES {
        let s = &sockets.iter().find(|(n, _)| n == name).unwrap().1;
        assert_eq!(expr(words).unwrap().eval(s), *want, "{words} on {name}");
    }
    let only_unix = parsed("src *dbus*", Some(Af::Unix)).unwrap();
    assert!(
        only_unix.filter.eval(&sockets[7].1),
        "with unix the preferred family a bare word is a glob"
    );
    assert_eq!(
        only_unix.family,
        Some(Af::Unix),
        "and ss then lists unix only"
    );
}

#[test]
fn and_or_parse_left_to_right() {
    let port = |side, p| {
        let c = HostCond {
            kind: HostKind::Inet,
            port: p,
            family: None,
            addrs: Vec::new(),
        };
        Box::new(Expr::Pred(Pred::Host(side, c)))
    };
    let or = Box::new(Expr::Or(port(Side::Src, 22), port(Side::Src, 80)));
    let want = Expr::And(or, port(Side::Dst, 5000));
    assert_eq!(
        expr("sport = :22 or sport = :80 and dport = :5000").map(|f| f.expr),
        Ok(want)
    );
}

#[test]
fn errors_name_the_word() {
    for (words, want) in [
        ("dport = :abc", "dport: 'abc' does not look like a port"),
        (
            "sport = :nosuchservice",
            "'nosuchservice' does not look like a port",
        ),
        ("sport = :split", "ambiguous port 'split'"),
        (
            "sprot = :22",
            "unknown word 'sprot' in the filter: expected sport, dport",
        ),
        (
            "src nosuch.invalid",
            "an inet prefix or a host name is expected rather than 'nosuch.invalid'",
        ),
        ("src 2001:db8::1", "write IPv6 in brackets"),
        ("src [2001:db8::]/32", "does not look like a port"),
        ("src != 1.2.3.4", "'src' takes '=' or nothing"),
        ("dev < 2", "'dev' takes '=', '!=' or nothing"),
        ("dev nosuch", "cannot find device 'nosuch'"),
        ("fwmark x", "'x' is not a mark"),
        ("( sport = :22", "missing ')'"),
        (
            "(sport = :22 )",
            "'(sport': '(' and ')' must be words of their own",
        ),
        (
            "( sport = :22)",
            "':22)': '(' and ')' must be words of their own",
        ),
        ("sport = :22 )", "unmatched ')'"),
        ("sport = :22 and", "ends where an expression was expected"),
        ("sport =", "'sport' needs a value"),
        ("sport = and", "not 'and'"),
        ("or sport = :1", "unexpected 'or'"),
        ("sport = :1 state listening", "'state' must come before"),
        ("cgroup /nosuch", "'/nosuch' is not a cgroup v2 directory"),
        ("cgroup < /", "'cgroup' takes '=', '!=' or nothing"),
        ("src link:nosuchproto", "is not an address of the family"),
    ] {
        let e = expr(words).unwrap_err();
        assert!(e.contains(want), "{words}: {e}");
    }
}

#[test]
fn errors_carry_the_word_typed() {
    let typed = |w: &str| parsed(w, None).unwrap_err();
    assert_eq!(
        typed("sprot = :22"),
        FilterError::UnknownWord("sprot".into())
    );
    assert_eq!(
        typed("dport = :abc"),
        FilterError::Port {
            key: "dport".into(),
            value: "abc".into()
        }
    );
    assert_eq!(
        typed("sport = and"),
        FilterError::NoValue {
            key: "sport".into(),
            found: Some("and".into())
        }
    );
    assert_eq!(typed("( sport = :22"), FilterError::MissingClose);
}

#[test]
fn glob_edge_cases() {
    assert!(glob_match(b"a*b*c", b"axxbyyc"));
    assert!(!glob_match(b"a*b*c", b"axxbyy"));
    assert!(glob_match(b"\\*x", b"*x"));
    assert!(!glob_match(b"\\*x", b"ax"));
    assert!(glob_match(b"[]]", b"]"));
    assert!(
        glob_match(b"[ab", b"[ab"),
        "an unterminated class is literal"
    );
    assert!(glob_match(b"", b""));
    assert!(!glob_match(b"", b"a"));
}

#[test]
fn nesting_and_length_are_bounded_with_a_clear_error() {
    // Regression (issue 11): thousands of `not`s or parentheses overflowed the stack (exit 134).
    let nots = format!("{}sport = :22", "not ".repeat(9_000));
    assert!(expr(&nots).unwrap_err().contains("deeper than 100 levels"));
    let parens = format!("{}sport = :22{}", "( ".repeat(4_000), " )".repeat(4_000));
    assert!(
        expr(&parens)
            .unwrap_err()
            .contains("deeper than 100 levels")
    );
    let long = vec!["sport = :22"; 20_000].join(" or ");
    assert!(expr(&long).unwrap_err().contains("at most 10000"));
    // At the limits, it parses and evaluates.
    let deep = format!("{}sport = :22", "not not ".repeat(50));
    assert!(expr(&deep).is_ok());
    assert!(
        expr(") sport = :22").is_err(),
        "a stray ) at depth 0 is an error, no panic"
    );
}

#[test]
fn family_prefixes_and_notes() {
    assert_eq!(parsed("src unix:/x", None).unwrap().family, Some(Af::Unix));
    assert_eq!(
        parsed("src link:ip", None).unwrap().family,
        Some(Af::Packet)
    );
    assert_eq!(
        parsed("dst inet6:[::1]", None).unwrap().family,
        Some(Af::Inet6)
    );
    assert_eq!(
        parsed("sport = :22", Some(Af::Inet)).unwrap().family,
        Some(Af::Inet)
    );
    assert_eq!(parsed("sport = :22", None).unwrap().family, None);
    let bare = parsed("src /run/*", None).unwrap();
    assert_eq!(bare.family, Some(Af::Unix));
    assert!(bare.notes[0].contains("unix:/run/*"), "{:?}", bare.notes);
    let db = parsed("dst db", None).unwrap();
    let Expr::Pred(Pred::Host(_, c)) = &db.filter.expr else {
        panic!("{db:?}")
    };
    assert_eq!(c.addrs.len(), 2, "both addresses of a host name");
    assert!(
        !parsed("dev eth0", None).unwrap().filter.bytecode,
        "dev drops the bytecode"
    );
}

/// ss's preferred_family follows the filter: after `dst inet:127.0.0.1`, a later `dport` (whose
/// family is the preferred one) keeps inet, even with -6 given (`-t6a dst inet:X dport ne :22`).
#[test]
fn a_prefix_becomes_the_preferred_family_for_later_values() {
    let p = parsed("dst inet:127.0.0.1 dport ne :22", Some(Af::Inet6)).unwrap();
    assert_eq!(p.family, Some(Af::Inet));
    let p = parsed("src unix:/x* or src /y*", Some(Af::Inet)).unwrap();
    assert_eq!(p.family, Some(Af::Unix));
    assert!(
        p.notes.is_empty(),
        "/y* is a unix name: unix is preferred now"
    );
    let p = parsed("dport ne :22", Some(Af::Inet6)).unwrap();
    assert_eq!(p.family, Some(Af::Inet6));
}

#[test]
fn cgroup_matches_the_socket_cgroup_id() {
    let f = expr("cgroup = /system.slice/x.service").unwrap();
    let mut s = sock("tcp ESTAB 10.0.0.1:22 10.0.0.2:5000");
    assert!(!f.eval(&s), "no cgroup id");
    s.cgroup_id = Some(4242);
    assert!(f.eval(&s));
    assert!(!expr("cgroup != /system.slice/x.service").unwrap().eval(&s));
    assert!(expr("cgroup /system.slice/x.service").unwrap().eval(&s));
    s.cgroup_id = Some(1);
    assert!(!f.eval(&s));
}

/// Each deliberate difference of docs/list.md that a filter can run into prints a note (D3,
/// D5, D7, D8/D9 here; D2 and D6 are the selection's, tested in list's tests).
#[test]
fn deliberate_differences_print_notes() {
    let notes = |w: &str| parsed(w, None).unwrap().notes;
    assert!(notes("src /run/x")[0].contains("unix:/run/x"), "D3");
    assert!(notes("autobound")[0].contains("ephemeral port range"), "D5");
    assert!(
        notes("cgroup = /")[0].contains("not on the cgroup2 filesystem"),
        "D7"
    );
    assert!(notes("cgroup = /system.slice/x.service").is_empty());
    for mix in [
        "src unix:*lab* or src netlink:genl",
        "src netlink:rtnl or src inet:127.0.0.1",
        "src link:ip or src netlink:16",
    ] {
        assert!(
            notes(mix).iter().any(|n| n.contains("several families")),
            "D8/D9: {mix}"
        );
    }
    let mixed = |w: &str, pref| {
        let notes = parsed(w, pref).unwrap().notes;
        notes.iter().any(|n| n.contains("several families"))
    };
    assert!(mixed("src unix:/x* or dst inet:127.0.0.1", None), "D10");
    assert!(
        mixed("sport == :0 dst inet:127.0.0.1", Some(Af::Unix)),
        "D10: a bare value after -x is a unix one"
    );
    assert!(!mixed("src netlink:rtnl or src netlink:genl", None));
    assert!(!mixed("src inet:127.0.0.1 or src inet6:[::1]", None));
    assert!(!mixed("src 127.0.0.1 or src [::1]", None));
}
