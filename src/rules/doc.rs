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
    let _ = writeln!(out, "```yaml\n{}\n```", r.text.trim_end());
    out
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
