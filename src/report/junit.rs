//! JUnit XML for CI test reports: one test case per rule and per drift category; a case fails
//! when it has findings, and each failure lists them. quick-junit writes the XML (escaping, and
//! dropping characters XML 1.0 cannot hold); attacker-controlled text is escaped first so the
//! report shows it instead of losing it.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::ScanReport;
use crate::baseline::Category;
use crate::rules::RuleSet;
use crate::text::escape_str;

/// One test case: a success without findings, else a failure listing each (escaped).
fn case(name: String, class: &str, findings: Vec<&super::ReportFinding>) -> TestCase {
    let status = if findings.is_empty() {
        TestCaseStatus::success()
    } else {
        let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
        st.set_message(format!(
            "{} finding{}",
            findings.len(),
            if findings.len() == 1 { "" } else { "s" }
        ));
        st.set_type(findings[0].severity.name());
        let text: Vec<String> = findings
            .iter()
            .map(|f| {
                format!(
                    "[{}] {} (id {})",
                    f.severity.name(),
                    escape_str(&f.message),
                    f.id
                )
            })
            .collect();
        st.set_description(text.join("\n"));
        st
    };
    let mut tc = TestCase::new(name, status);
    tc.set_classname(class);
    tc
}

/// A partial scan (--allow-partial) fails a case of its own: what was not seen is not a pass.
fn coverage_case(r: &ScanReport) -> TestCase {
    let mut st = TestCaseStatus::non_success(NonSuccessKind::Error);
    st.set_message(format!(
        "{} scope{} could not be read",
        r.coverage.gaps.len(),
        if r.coverage.gaps.len() == 1 { "" } else { "s" }
    ));
    st.set_type("coverage");
    let text: Vec<String> = r
        .coverage
        .gaps
        .iter()
        .map(|g| format!("{}: {}", escape_str(&g.scope), escape_str(&g.reason)))
        .collect();
    st.set_description(text.join("\n"));
    let mut tc = TestCase::new("coverage", st);
    tc.set_classname("sockwarden.coverage");
    tc
}

/// The JUnit XML report (see the module documentation).
pub fn render(r: &ScanReport, rules: &RuleSet) -> String {
    let mut report = Report::new("sockwarden");
    let mut suite = TestSuite::new(format!("sockwarden scan of {}", escape_str(&r.host)));
    for rule in &rules.rules {
        let id = rule.id();
        let found: Vec<_> = r
            .findings
            .iter()
            .filter(|f| f.rule_id.as_deref() == Some(id))
            .collect();
        suite.add_test_case(case(
            format!("{id}: {}", rule.doc.title),
            "sockwarden.rules",
            found,
        ));
    }
    // One case per drift category when the scan compared with a baseline.
    if r.baseline {
        for c in Category::ALL {
            let found: Vec<_> = r
                .findings
                .iter()
                .filter(|f| f.category == Some(c))
                .collect();
            suite.add_test_case(case(
                format!("drift: {}", c.name()),
                "sockwarden.drift",
                found,
            ));
        }
    }
    if !r.coverage.complete {
        suite.add_test_case(coverage_case(r));
    }
    report.add_test_suite(suite);
    let mut s = report.to_string().expect("JUnit XML serializes");
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}
