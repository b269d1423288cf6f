use super::*;
use crate::list::fixtures::{sock, unix};
use crate::model::{Protocol, State};

fn expr(words: &str) -> Result<Expr, String> {
    parse(&tokenize(&[words.to_string()]), false)
        .map(Option::unwrap)
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
    ("v6", "src [2001:db8::]/32", true),
    ("v6", "src [2001:db8::/32]:443", true),
    ("v6", "src [2001:db8::1]:443", true),
    ("v6", "src 2001:db8::1", true),
    ("v6", "src [2001:db8::1]:444", false),
    ("v6", "dst [2001:db8::]/32", false),
    ("v6", "src *:443", true),
    ("v6", "src :443", true),
    ("v6", "src *", true),
    ("v6", "dst 0.0.0.0/0", true),
    ("ssh", "src [::ffff:192.0.2.1]", false),
    ("ssh", "src = 192.0.2.0/24:22", true),
    ("ssh", "dst 10.0.0.1:*", true),
    ("ssh", "src 192.0.2.0/24:81", false),
    ("path", "sport = :0", false),
    ("path", "sport != :22", false),
    ("path", "src *", false),
    ("path", "not sport = :22", true),
    ("packet", "sport != :22", false),
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
    let only_unix = parse(&["src".into(), "*dbus*".into()], true)
        .unwrap()
        .unwrap();
    assert!(
        only_unix.eval(&sockets[7].1),
        "with only unix tables a bare word is a glob"
    );
}

#[test]
fn and_or_parse_left_to_right() {
    let port = |side, p| Box::new(Expr::Pred(Pred::Port(side, Cmp::Eq, p)));
    let or = Box::new(Expr::Or(port(Side::Src, 22), port(Side::Src, 80)));
    let want = Expr::And(or, port(Side::Dst, 5000));
    assert_eq!(
        expr("sport = :22 or sport = :80 and dport = :5000"),
        Ok(want)
    );
}

#[test]
fn errors_name_the_word() {
    for (words, want) in [
        ("dport = :abc", "dport: ':abc' is not a port"),
        ("sport = :ssh", "service names are not resolved"),
        ("sport = :65536", "':65536' is not a port"),
        (
            "sprot = :22",
            "unknown word 'sprot' in the filter: expected sport, dport",
        ),
        ("src example.com", "'example.com' is not an address"),
        ("src != 1.2.3.4", "'src' takes '=' or nothing"),
        ("dev < 2", "'dev' takes '=', '!=' or nothing"),
        ("fwmark x", "'x' is not a mark"),
        ("( sport = :22", "missing ')'"),
        ("sport = :22 )", "unmatched ')'"),
        ("sport = :22 and", "ends where an expression was expected"),
        ("sport =", "'sport' needs a value"),
        ("sport = and", "not 'and'"),
        ("or sport = :1", "unexpected 'or'"),
        ("sport = :1 state listening", "'state' must come before"),
        ("autobound", "not supported"),
        ("src link:ip", "'link:' prefix is not supported"),
        ("src fe80::1:22:x", "is not an address"),
    ] {
        let e = expr(words).unwrap_err();
        assert!(e.contains(want), "{words}: {e}");
    }
}

#[test]
fn errors_carry_the_word_typed() {
    let typed = |w: &str| parse(&tokenize(&[w.to_string()]), false).unwrap_err();
    assert_eq!(
        typed("sprot = :22"),
        FilterError::UnknownWord("sprot".into())
    );
    assert_eq!(
        typed("dport = :abc"),
        FilterError::Port {
            key: "dport".into(),
            value: ":abc".into()
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
