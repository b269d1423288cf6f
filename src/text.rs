//! Escaping attacker-controlled strings before they reach a terminal.
//!
//! Process names, command lines, exe paths and unix socket names are chosen by whoever runs the
//! process. Printed raw, an ESC sequence can move the cursor or recolour the screen, a newline can
//! forge a line of output, and a bidi override can make text read backwards. [`escape`] keeps
//! ordinary text (any script) readable and turns everything else into a visible escape:
//! `\n`, `\t`, `\\`, `\xNN` for control and invalid bytes, `\u{NNNN}` for bidi and other
//! invisible format characters. The result is unambiguous: it never contains a bare control
//! character, and a literal backslash is doubled.

use std::fmt::Write;

/// Escapes bytes for display on a terminal (see the module docs).
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            push_char(&mut out, c);
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// [`escape`] for text that is already a `str`.
pub fn escape_str(s: &str) -> String {
    escape(s.as_bytes())
}

fn push_char(out: &mut String, c: char) {
    match c {
        '\\' => out.push_str("\\\\"),
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        c if (c as u32) < 0x20 || c as u32 == 0x7f => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if is_invisible(c) => {
            let _ = write!(out, "\\u{{{:04x}}}", c as u32);
        }
        c => out.push(c),
    }
}

/// C1 controls, bidi embeddings/overrides/isolates and marks, zero-width characters, line and
/// paragraph separators, and the BOM: characters that change how the rest of a line is shown.
fn is_invisible(c: char) -> bool {
    matches!(c as u32,
        0x80..=0x9f
        | 0x061c
        | 0x200b..=0x200f
        | 0x2028..=0x202e
        | 0x2060..=0x2069
        | 0xfeff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_passes() {
        assert_eq!(escape(b"sshd: root@pts/0"), "sshd: root@pts/0");
        assert_eq!(escape("nginx – 工作进程".as_bytes()), "nginx – 工作进程");
    }

    #[test]
    fn controls_are_visible() {
        assert_eq!(escape(b"a\nb\tc\rd"), "a\\nb\\tc\\rd");
        assert_eq!(escape(b"\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m");
        assert_eq!(escape(b"\x00\x7f"), "\\x00\\x7f");
        assert_eq!(escape(b"back\\slash"), "back\\\\slash");
    }

    #[test]
    fn invalid_utf8_and_bidi() {
        assert_eq!(escape(b"\xff\xfeok"), "\\xff\\xfeok");
        assert_eq!(
            escape("evil\u{202e}fdp.exe".as_bytes()),
            "evil\\u{202e}fdp.exe"
        );
        assert_eq!(
            escape("\u{2066}x\u{2069}".as_bytes()),
            "\\u{2066}x\\u{2069}"
        );
        assert_eq!(escape("\u{85}".as_bytes()), "\\u{0085}");
    }

    #[test]
    fn output_never_holds_a_control_character() {
        let all: Vec<u8> = (0..=255u8).collect();
        let e = escape(&all);
        assert!(
            e.chars().all(|c| !c.is_control() && !is_invisible(c)),
            "{e}"
        );
    }
}
