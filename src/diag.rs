//! Located problems in input files (rules, lists, baselines): `FILE:LINE:COL: message`, one
//! per line, every problem of a run at once. Shared by every loader, so all of them report the
//! same way.

use std::fmt;

/// A problem in a rule, list or other input file, located.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    /// The file as the user named it, or for the built-in pack its path in the repository
    /// (`rules/...`).
    pub file: String,
    /// 1-based line; 1 when the problem has no better place.
    pub line: usize,
    /// 1-based column; 1 when the problem has no better place.
    pub col: usize,
    /// What is wrong; a multi-line message is folded onto one line when displayed.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One diagnostic, one line: multi-line messages (regex errors) are folded.
        let msg: Vec<&str> = self
            .message
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        write!(
            f,
            "{}:{}:{}: {}",
            self.file,
            self.line,
            self.col,
            msg.join(" ")
        )
    }
}

impl Diagnostic {
    /// A diagnostic at `line` and `col` (both 1-based) of `file`.
    pub fn new(file: &str, line: usize, col: usize, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: file.to_string(),
            line,
            col,
            message: message.into(),
        }
    }

    /// From a serde_yaml error, which knows where it happened (1-based line and column).
    pub fn from_yaml(file: &str, e: &serde_yaml::Error, context: &str) -> Diagnostic {
        let (line, col) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
        // serde_yaml appends " at line X column Y"; the prefix says it already.
        let mut msg = e.to_string();
        if let Some(i) = msg.find(" at line ") {
            msg.truncate(i);
        }
        let msg = if msg.contains(':') || context.is_empty() {
            msg
        } else {
            format!("{context}: {msg}")
        };
        Diagnostic::new(file, line, col, msg)
    }

    /// Locates the first occurrence of `needle` in `text` (1-based), for errors found after
    /// parsing, such as a duplicate id or an unknown list name.
    pub fn at_text(file: &str, text: &str, needle: &str, message: impl Into<String>) -> Diagnostic {
        // The first occurrence outside a comment.
        let found = text.match_indices(needle).map(|(i, _)| i).find(|&i| {
            let line_start = text[..i].rfind('\n').map_or(0, |j| j + 1);
            !text[line_start..i].contains('#')
        });
        let (line, col) = found
            .map(|off| {
                let before = &text[..off];
                let line = before.matches('\n').count() + 1;
                let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                (line, col)
            })
            .unwrap_or((1, 1));
        Diagnostic::new(file, line, col, message)
    }
}
