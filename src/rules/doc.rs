//! A rule's documentation page, generated from its YAML: `rules explain` prints it, and
//! docs/rules/ holds one page per default rule (`sockwarden rules docs docs/rules`; a test fails
//! when a page is stale).

use std::fmt::Write;

use super::{Rule, RuleSet};

/// The Markdown page of one rule.
pub fn render_markdown(r: &Rule) -> String {
    let d = &r.doc;
    let mut out = String::new();
    let _ = writeln!(out, "# {}: {}\n", d.id, d.title);
    let _ = writeln!(out, "| severity | status | ATT&CK | source |");
    let _ = writeln!(out, "|---|---|---|---|");
    let _ = writeln!(
        out,
        "| {} | {} | {} | `{}` |\n",
        d.severity.name(),
        format!("{:?}", d.status).to_lowercase(),
        d.tags
            .iter()
            .map(|t| if super::tags::is_attack(t) {
                format!(
                    "[{t}](https://attack.mitre.org/techniques/{}/)",
                    t.replace('.', "/")
                )
            } else {
                // Site, CIS, PCI tags: shown, not linked.
                format!("`{t}`")
            })
            .collect::<Vec<_>>()
            .join(", "),
        r.source
    );
    let _ = writeln!(out, "{}\n", d.description.trim_end());
    if !d.references.is_empty() {
        let _ = writeln!(out, "## References\n");
        for x in &d.references {
            let _ = writeln!(out, "- {x}");
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "## Definition\n\nThe rule as it ships (condition, exceptions, examples that `sockwarden rules test` runs):\n"
    );
    let _ = writeln!(out, "```yaml\n{}\n```", definition(&r.text).trim_end());
    out
}

/// The rule's text without the editor's `# yaml-language-server: $schema=...` first line
/// (docs/schema.md), which is for tools, not for the reader of the page.
fn definition(text: &str) -> &str {
    match text.split_once('\n') {
        Some((first, rest)) if first.starts_with("# yaml-language-server:") => rest,
        _ => text,
    }
}

/// The lines of `text` that write the node starting at `line`:`col` (1-based): that line and
/// the lines below it that are indented at least as far as the node (blank and comment lines
/// inside included), so a `when:` key brings its block and an item of `exceptions:` its own
/// mapping, not the next item.
pub fn excerpt(text: &str, line: usize, col: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let Some(first) = lines.get(line.saturating_sub(1)) else {
        return String::new();
    };
    let depth = col.saturating_sub(1).max(1);
    let indent = |l: &str| l.len() - l.trim_start().len();
    let mut out = vec![*first];
    for l in lines.iter().skip(line) {
        let t = l.trim_start();
        if !(t.is_empty() || t.starts_with('#') || indent(l) >= depth) {
            break;
        }
        out.push(l);
    }
    while out.len() > 1
        && out.last().is_some_and(|l| {
            let t = l.trim_start();
            t.is_empty() || t.starts_with('#')
        })
    {
        out.pop();
    }
    out.join("\n")
}

/// The index page listing every rule.
pub fn render_index(rs: &RuleSet) -> String {
    let mut out = String::from(
        "# Default rules\n\nGenerated from rules/ by `sockwarden rules docs docs/rules`; do not edit by hand.\n\n\
         | id | severity | ATT&CK | title |\n|---|---|---|---|\n",
    );
    for r in &rs.rules {
        let d = &r.doc;
        let _ = writeln!(
            out,
            "| [{}]({}.md) | {} | {} | {} |",
            d.id,
            d.id,
            d.severity.name(),
            d.tags.join(", "),
            d.title.replace('|', "\\|")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::excerpt;

    /// The page shows the rule, not the line that points editors at its schema.
    #[test]
    fn the_definition_leaves_out_the_editor_line() {
        let text = "# yaml-language-server: $schema=https://x/rule/v1.json\nid: X\n";
        assert_eq!(super::definition(text), "id: X\n");
        assert_eq!(
            super::definition("id: X\n# yaml-language-server: no\n"),
            "id: X\n# yaml-language-server: no\n"
        );
    }

    #[test]
    fn excerpts_take_a_node_and_its_block() {
        let text = "id: X\nwhen:\n  all:\n    - a: 1\n\n    - b: 2\nexceptions:\n  - c: 3\n    d: 4\n  # why\n  - e: 5\nexamples: {}\n";
        assert_eq!(
            excerpt(text, 2, 1),
            "when:\n  all:\n    - a: 1\n\n    - b: 2"
        );
        assert_eq!(excerpt(text, 8, 5), "  - c: 3\n    d: 4");
        assert_eq!(excerpt(text, 11, 5), "  - e: 5");
        assert_eq!(excerpt(text, 1, 1), "id: X");
        assert_eq!(excerpt(text, 99, 1), "");
    }
}
