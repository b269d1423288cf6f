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
}

/// Where each key and value of a YAML document stands, from the YAML parser's own event
/// positions (yaml-rust2): checks made after deserializing (a duplicate id, a bad CIDR in a
/// baseline entry) point at the node itself instead of searching the text for it. Paths join
/// mapping keys and sequence indexes with `/`: `listeners/2/address`, `examples`.
#[derive(Debug, Default)]
pub struct Locator {
    keys: std::collections::HashMap<String, (usize, usize)>,
    values: std::collections::HashMap<String, (usize, usize)>,
    scalars: Vec<(String, (usize, usize))>,
    duplicates: Vec<Repeat>,
}

/// A key repeated in one mapping: its path, the first position, the repeat's position.
pub type Repeat = (String, (usize, usize), (usize, usize));

impl Locator {
    /// Indexes `text`; a document that does not parse gives an empty index (its syntax error is
    /// reported by the deserializer, with its own position).
    pub fn new(text: &str) -> Locator {
        use yaml_rust2::parser::Parser;
        let mut r = Recorder::default();
        if Parser::new_from_str(text).load(&mut r, false).is_err() {
            return Locator::default();
        }
        r.loc
    }

    /// The position of the key at `path` (`examples`, `listeners/0/port`).
    pub fn key(&self, path: &str) -> Option<(usize, usize)> {
        self.keys.get(path).copied()
    }

    /// The position of the value at `path`.
    pub fn value(&self, path: &str) -> Option<(usize, usize)> {
        self.values.get(path).copied()
    }

    /// Where the node at `path` is written: its key when it is a mapping entry (`severity`,
    /// `when`), else the first position at or below it (a sequence item: `tags/1`, the first key
    /// of `exceptions/0`; yaml-rust2 marks a block mapping's start after its first key).
    pub fn start(&self, path: &str) -> Option<(usize, usize)> {
        if let Some(k) = self.key(path) {
            return Some(k);
        }
        let below = format!("{path}/");
        self.values
            .iter()
            .chain(&self.keys)
            .filter(|(p, _)| *p == path || p.starts_with(&below))
            .map(|(_, pos)| *pos)
            .min()
    }

    /// Keys repeated in one mapping, in document order: (path, first position, repeat's
    /// position). serde_yaml refuses them without saying where.
    pub fn duplicates(&self) -> &[Repeat] {
        &self.duplicates
    }

    /// The position of the first scalar whose text is `text` (a list name in a rule).
    pub fn scalar(&self, text: &str) -> Option<(usize, usize)> {
        self.scalars
            .iter()
            .find(|(s, _)| s == text)
            .map(|(_, p)| *p)
    }

    /// A diagnostic at `pos`, or at 1:1 when the position is unknown.
    pub fn diagnostic(
        file: &str,
        pos: Option<(usize, usize)>,
        message: impl Into<String>,
    ) -> Diagnostic {
        let (line, col) = pos.unwrap_or((1, 1));
        Diagnostic::new(file, line, col, message)
    }
}

/// Where the parser is: inside a mapping (the key just read, if any) or a sequence (the index
/// of the next item).
enum Frame {
    Map(Option<String>),
    Seq(usize),
}

#[derive(Default)]
struct Recorder {
    stack: Vec<(String, Frame)>,
    loc: Locator,
}

impl Recorder {
    /// The path of the node about to be read, and whether it is a mapping key.
    fn next_path(&self) -> (String, bool) {
        let Some((base, frame)) = self.stack.last() else {
            return (String::new(), false);
        };
        let join = |k: &str| {
            if base.is_empty() {
                k.to_string()
            } else {
                format!("{base}/{k}")
            }
        };
        match frame {
            Frame::Map(None) => (base.clone(), true),
            Frame::Map(Some(k)) => (join(k), false),
            Frame::Seq(i) => (join(&i.to_string()), false),
        }
    }

    /// A value (scalar or container) was read at the top of the stack: advance the frame.
    fn advance(&mut self) {
        match self.stack.last_mut() {
            Some((_, Frame::Map(k))) => *k = None,
            Some((_, Frame::Seq(i))) => *i += 1,
            None => {}
        }
    }
}

impl yaml_rust2::parser::MarkedEventReceiver for Recorder {
    fn on_event(&mut self, ev: yaml_rust2::parser::Event, mark: yaml_rust2::scanner::Marker) {
        use yaml_rust2::parser::Event;
        let pos = (mark.line(), mark.col() + 1);
        match ev {
            Event::Scalar(s, ..) => {
                let (path, is_key) = self.next_path();
                self.loc.scalars.push((s.clone(), pos));
                if is_key {
                    let full = if path.is_empty() {
                        s.clone()
                    } else {
                        format!("{path}/{s}")
                    };
                    match self.loc.keys.get(&full) {
                        // The same path twice: a key repeated in one mapping.
                        Some(&first) => self.loc.duplicates.push((full, first, pos)),
                        None => {
                            self.loc.keys.insert(full, pos);
                        }
                    }
                    if let Some((_, Frame::Map(k))) = self.stack.last_mut() {
                        *k = Some(s);
                    }
                } else {
                    self.loc.values.entry(path).or_insert(pos);
                    self.advance();
                }
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let (path, _) = self.next_path();
                self.loc.values.entry(path.clone()).or_insert(pos);
                let frame = if matches!(ev, Event::MappingStart(..)) {
                    Frame::Map(None)
                } else {
                    Frame::Seq(0)
                };
                self.stack.push((path, frame));
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
                self.advance();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_values_are_located_by_path() {
        let text = "id: X-1\nlisteners:\n  - {protocol: tcp, address: 10.0.0.0/33, port: 22}\n  - protocol: udp\n    port: \"x\"\n";
        let l = Locator::new(text);
        assert_eq!(l.key("id"), Some((1, 1)));
        assert_eq!(l.value("id"), Some((1, 5)));
        assert_eq!(l.value("listeners/0/address"), Some((3, 30)));
        assert_eq!(l.value("listeners/1/port"), Some((5, 11)));
        assert_eq!(l.key("listeners/1/protocol"), Some((4, 5)));
        assert_eq!(l.scalar("udp"), Some((4, 15)));
        assert_eq!(Locator::new("a: [").key("a"), None);
        assert_eq!(l.start("listeners"), Some((2, 1)));
        assert_eq!(l.start("listeners/1"), Some((4, 5)));
        assert_eq!(l.start("listeners/0"), Some((3, 5)));
        assert!(l.duplicates().is_empty());
        let d = Locator::new("a: 1\nb: {c: 1, c: 2}\na: 3\n");
        let d: Vec<_> = d
            .duplicates()
            .iter()
            .map(|(p, f, r)| (p.as_str(), *f, *r))
            .collect();
        assert_eq!(d, [("b/c", (2, 5), (2, 11)), ("a", (1, 1), (3, 1))]);
    }
}
