//! Writing a baseline: a commented header (its first line names the schema, for editors), then
//! one entry per line (YAML flow mappings), sorted, so the same state always gives the same bytes
//! and a review diff is one line per change.

use std::fmt::Write;

use super::{Baseline, Category};

/// A YAML scalar: bare when unambiguous, else a JSON string (which YAML reads as is).
fn scalar(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./@+-".contains(c))
        && !s.starts_with(['-', '.', '@'])
        && !matches!(
            s,
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "~"
        )
        && s.parse::<f64>().is_err();
    if plain {
        s.to_string()
    } else {
        serde_json::to_string(s).expect("a string serializes")
    }
}

/// Renders the baseline file.
pub fn render(b: &Baseline) -> String {
    let mut o = String::new();
    header(&mut o, b);
    section(
        &mut o,
        "Listening sockets: protocol, bind address, port, executable, user.",
        "listeners",
        b.listeners.iter().map(listener_line).collect(),
    );
    section(
        &mut o,
        "Outbound peers: executable, remote network, remote port.",
        "outbound",
        b.outbound
            .iter()
            .map(|x| {
                format!(
                    "{{protocol: {}, exe: {}, network: {}, port: {}}}",
                    x.protocol.name(),
                    scalar(&x.exe),
                    scalar(&x.network),
                    port(&x.port)
                )
            })
            .collect(),
    );
    section(
        &mut o,
        "Inbound services: local port and executable accepting connections.",
        "inbound",
        b.inbound
            .iter()
            .map(|x| {
                let peers = x
                    .peers
                    .as_deref()
                    .map(|p| format!(", peers: {}", scalar(p)))
                    .unwrap_or_default();
                format!(
                    "{{protocol: {}, port: {}, exe: {}{peers}}}",
                    x.protocol.name(),
                    port(&x.port),
                    scalar(&x.exe)
                )
            })
            .collect(),
    );
    if !b.accepted.is_empty() {
        o.push_str("\n# What `baseline update --accept` added or removed, by whom and when.\n");
        o.push_str("accepted:\n");
        for a in &b.accepted {
            let _ = writeln!(
                o,
                "  - {{at: {}, by: {}, id: {}, category: {}, entry: {}}}",
                scalar(&a.at),
                scalar(&a.by),
                scalar(&a.id),
                a.category.name(),
                scalar(&a.entry)
            );
        }
    }
    o
}

/// The comment block, the header fields, and the severity overrides (or the defaults, as a
/// comment).
fn header(o: &mut String, b: &Baseline) {
    // Editors with the YAML language server validate the file against its schema.
    let _ = writeln!(
        o,
        "# yaml-language-server: $schema={}",
        crate::schema::SchemaName::Baseline.id()
    );
    o.push_str(
        "# sockwarden baseline: the known-good socket state of a host or golden image.\n\
         # Review changes like code. `sockwarden scan --baseline FILE` reports what differs;\n\
         # `sockwarden baseline update FILE --accept ...` records what was accepted.\n\
         # Entries may use address classes (any, loopback, private, public, link-local, ...),\n\
         # CIDRs, port ranges (\"1024-2047\") and exe globs (* within a directory, ** across).\n",
    );
    let _ = writeln!(o, "version: {}", b.version);
    let _ = writeln!(o, "created_at: {}", scalar(&b.created_at));
    let _ = writeln!(o, "tool_version: {}", scalar(&b.tool_version));
    let _ = writeln!(o, "host: {}", scalar(&b.host));
    let _ = writeln!(o, "comment: {}", scalar(&b.comment));
    if !b.severity.is_empty() {
        o.push_str("severity:\n");
        for (c, s) in &b.severity {
            let _ = writeln!(o, "  {}: {}", c.name(), s.name());
        }
    } else {
        o.push_str("# severity per drift category (defaults shown):\n");
        for c in Category::ALL {
            let _ = writeln!(o, "#   {}: {}", c.name(), c.default_severity().name());
        }
    }
}

/// A commented list of flow-mapping entries, one per line (`name: []` when empty).
fn section(o: &mut String, comment: &str, name: &str, entries: Vec<String>) {
    let _ = writeln!(o, "\n# {comment}");
    if entries.is_empty() {
        let _ = writeln!(o, "{name}: []");
        return;
    }
    let _ = writeln!(o, "{name}:");
    for e in entries {
        let _ = writeln!(o, "  - {e}");
    }
}

/// One listener entry, its optional user, container and netns scopes last.
fn listener_line(l: &super::Listener) -> String {
    let mut user = l
        .user
        .as_deref()
        .map(|u| format!(", user: {}", scalar(u)))
        .unwrap_or_default();
    if let Some(c) = &l.container {
        user.push_str(&format!(", container: {}", scalar(c)));
    }
    if let Some(n) = &l.netns {
        user.push_str(&format!(", netns: {}", scalar(n)));
    }
    format!(
        "{{protocol: {}, address: {}, port: {}, exe: {}{user}}}",
        l.protocol.name(),
        scalar(&l.address),
        port(&l.port),
        scalar(&l.exe)
    )
}

/// A port: bare digits, or a scalar.
fn port(s: &str) -> String {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        s.to_string()
    } else {
        scalar(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::*;

    #[test]
    fn renders_and_parses_back() {
        let mut b = Baseline {
            version: BASELINE_VERSION,
            created_at: "2026-11-27T23:00:00Z".into(),
            tool_version: "0.1.0".into(),
            host: "web01".into(),
            comment: "golden image: web, 2026-11".into(),
            severity: Default::default(),
            listeners: vec![Listener {
                protocol: Proto::Tcp,
                address: "any".into(),
                port: "22".into(),
                exe: "/usr/sbin/sshd".into(),
                user: Some("root".into()),
                container: None,
                netns: None,
            }],
            outbound: vec![Outbound {
                protocol: Proto::Tcp,
                exe: "/opt/my app/bin/agent: x".into(),
                network: "203.0.113.0/24".into(),
                port: "443".into(),
            }],
            inbound: vec![Inbound {
                protocol: Proto::Tcp,
                port: "22".into(),
                exe: "/usr/sbin/sshd".into(),
                peers: Some("private".into()),
            }],
            accepted: vec![],
        };
        b.severity
            .insert(Category::NewOutbound, crate::rules::Severity::High);
        let text = render(&b);
        assert!(
            text.contains(
                "  - {protocol: tcp, address: any, port: 22, exe: /usr/sbin/sshd, user: root}\n"
            ),
            "{text}"
        );
        let (back, _) = parse("b.yaml", &text).unwrap();
        assert_eq!(back, b);
        assert_eq!(render(&back), text);
    }

    #[test]
    fn scalars_that_yaml_would_misread_are_quoted() {
        for s in ["true", "22", "1.5", "-x", "a: b", "", "@x", "a#b", "x y"] {
            assert!(scalar(s).starts_with('"'), "{s}");
            let v: String = serde_yaml::from_str(&scalar(s)).unwrap();
            assert_eq!(v, s);
        }
        assert_eq!(scalar("/usr/sbin/sshd"), "/usr/sbin/sshd");
        assert_eq!(scalar("1024-2047"), "1024-2047");
    }
}
