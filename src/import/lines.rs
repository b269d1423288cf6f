//! The lines of one evidence file, and the problems found in them.
//!
//! Every parser reads through [`Lines`]: it numbers lines from 1, notices a file that ends in
//! the middle of a line (a truncated copy), and collects located problems; with `--lenient` a
//! bad line is counted instead of reported.

use super::{ImportError, Parsed};
use crate::diag::Diagnostic;

/// The lines of one file and its problems so far.
#[derive(Debug)]
pub struct Lines<'a> {
    name: &'a str,
    lines: Vec<&'a str>,
    lenient: bool,
    diags: Vec<Diagnostic>,
    skipped: u64,
}

impl<'a> Lines<'a> {
    /// Splits `text` into lines. A last line without its newline is a truncated file: reported
    /// at that line (skipped and counted with `lenient`). An empty file is a problem too.
    pub fn new(name: &'a str, text: &'a str, lenient: bool) -> Lines<'a> {
        let mut l = Lines {
            name,
            lines: Vec::new(),
            lenient,
            diags: Vec::new(),
            skipped: 0,
        };
        if text.trim().is_empty() {
            l.diags
                .push(Diagnostic::new(name, 1, 1, "empty file: no evidence in it"));
            return l;
        }
        let mut lines: Vec<&str> = text.split('\n').collect();
        // split leaves "" after a final newline; anything else there is a cut line.
        let last = lines.pop().unwrap_or("");
        l.lines = lines
            .into_iter()
            .map(|s| s.strip_suffix('\r').unwrap_or(s))
            .collect();
        if !last.is_empty() {
            let n = l.lines.len() + 1;
            l.bad(
                n,
                last.chars().count() + 1,
                "the file ends inside this line: truncated evidence",
            );
        }
        l
    }

    /// The file's name, as diagnostics give it.
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// Every complete line with its 1-based number.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &'a str)> + use<'a> {
        let v: Vec<&'a str> = self.lines.clone();
        v.into_iter().enumerate().map(|(i, l)| (i + 1, l))
    }

    /// The complete lines.
    pub fn all(&self) -> &[&'a str] {
        &self.lines
    }

    /// A line that does not parse: a located problem, or with `--lenient` one more line skipped.
    pub fn bad(&mut self, line: usize, col: usize, message: impl Into<String>) {
        if self.lenient {
            self.skipped += 1;
        } else {
            self.diags
                .push(Diagnostic::new(self.name, line, col, message.into()));
        }
    }

    /// A problem with the whole file (no format, no table): reported even with `--lenient`,
    /// which skips lines, not files.
    pub fn fatal(&mut self, line: usize, col: usize, message: impl Into<String>) {
        self.diags
            .push(Diagnostic::new(self.name, line, col, message.into()));
    }

    /// The result: `parsed` with its skipped lines, or every problem found.
    pub fn finish(self, mut parsed: Parsed) -> Result<Parsed, ImportError> {
        if !self.diags.is_empty() {
            return Err(ImportError::Invalid(self.diags));
        }
        parsed.skipped += self.skipped;
        Ok(parsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_last_line_is_truncation_and_lenient_counts_it() {
        let l = Lines::new("f", "a\nb\nc", false);
        let e = l.finish(Parsed::default()).unwrap_err();
        let ImportError::Invalid(d) = e else { panic!() };
        assert_eq!(
            d[0].to_string(),
            "f:3:2: the file ends inside this line: truncated evidence"
        );
        let l = Lines::new("f", "a\nb\nc", true);
        assert_eq!(l.iter().count(), 2);
        assert_eq!(l.finish(Parsed::default()).unwrap().skipped, 1);
        let l = Lines::new("f", "a\r\nb\n", false);
        assert_eq!(l.all(), ["a", "b"]);
        assert!(
            Lines::new("f", " \n", true)
                .finish(Parsed::default())
                .is_err()
        );
    }
}
