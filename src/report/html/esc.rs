//! Escaping for the HTML page: every string from outside becomes text, never markup.
//!
//! Two steps. [`text`] first makes control, invalid and invisible characters visible, as the
//! terminal table does ([`crate::text::escape`]: a newline is `\n`, a bidi override
//! `\u{202e}`), so a hostile name can neither forge a line nor read backwards on the page; then
//! [`html`] replaces the five characters that HTML gives a meaning (`& < > " '`) with character
//! references, which is enough for element content and for quoted attribute values alike. The
//! page writes every attribute value in double quotes. Five replacements do not justify a
//! dependency (`v_htmlescape`, `askama_escape` do the same with SIMD we do not need at a few
//! megabytes); the tests below pin every character.

use std::fmt::Write;

/// `s` with `& < > " '` replaced by character references: safe as element content and inside a
/// double- or single-quoted attribute value.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    push_html(&mut out, s);
    out
}

/// Appends [`html`]`(s)` to `out`.
pub fn push_html(out: &mut String, s: &str) {
    let mut last = 0;
    for (i, b) in s.bytes().enumerate() {
        let rep = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.push_str(&s[last..i]);
        out.push_str(rep);
        last = i + 1;
    }
    out.push_str(&s[last..]);
}

/// Attacker-controlled bytes as page text: visible escapes for control, invalid and invisible
/// characters, then [`html`].
pub fn text(bytes: &[u8]) -> String {
    html(&crate::text::escape(bytes))
}

/// [`text`] for a `str`.
pub fn text_str(s: &str) -> String {
    text(s.as_bytes())
}

/// [`text`], cut to at most `max` characters (an ellipsis marks the cut), for labels in the
/// graph.
pub fn label(bytes: &[u8], max: usize) -> String {
    cut(&crate::text::escape(bytes), max)
}

/// Text that is already free of control and invisible characters (made by
/// [`crate::text::escape`] or by this program), cut to at most `max` characters and escaped
/// with [`html`]: the cut is on characters before escaping, never inside a reference.
pub fn cut(plain: &str, max: usize) -> String {
    html(&shorten(plain, max))
}

/// `plain` cut to at most `max` characters, an ellipsis marking the cut (not escaped).
pub fn shorten(plain: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if plain.chars().count() <= max {
        return plain.into();
    }
    let mut short: String = plain.chars().take(max.saturating_sub(1)).collect();
    short.push('…');
    short.into()
}

/// The longest text from outside a cell shows (a command line, an executable, a unix name),
/// in characters: a hostile process's megabyte command line must not make the page a
/// gigabyte. The JSON report keeps every byte.
pub const CELL_MAX: usize = 512;

/// [`text`] cut to [`CELL_MAX`] characters.
pub fn cell(bytes: &[u8]) -> String {
    cut(&crate::text::escape(bytes), CELL_MAX)
}

/// A value for an `id` attribute or a URL fragment: letters, digits, `-` and `_` kept, every
/// other byte as `.XX`. Injective, so two rule ids never share an anchor.
pub fn ident(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            out.push(b as char);
        } else {
            let _ = write!(out, ".{b:02X}");
        }
    }
    out
}

/// The `sha256-BASE64` source expression of a Content-Security-Policy for an inline block:
/// the hash of its exact text, as browsers compute it.
pub fn csp_hash(block: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(block.as_bytes());
    format!(
        "'sha256-{}'",
        crate::model::base64_encode(digest.as_slice())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_five_characters_become_references() {
        assert_eq!(
            html(r#"<a href="x" title='y'>&amp;</a>"#),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;"
        );
        assert_eq!(html("plain – 工作"), "plain – 工作");
        assert_eq!(html(""), "");
    }

    #[test]
    fn hostile_bytes_become_visible_text() {
        assert_eq!(
            text(b"</script><img src=x onerror=alert(1)>"),
            "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"
        );
        assert_eq!(
            text(b"evil\n\x1b[31m\xff"),
            "evil\\n\\x1b[31m\\xff",
            "controls and invalid bytes"
        );
        assert_eq!(
            text("a\u{202e}b\u{2028}".as_bytes()),
            "a\\u{202e}b\\u{2028}"
        );
    }

    #[test]
    fn no_output_byte_can_open_markup_or_leave_an_attribute() {
        let all: Vec<u8> = (0..=255u8).collect();
        let t = text(&all);
        assert!(!t.contains(['<', '>', '"', '\'']), "{t}");
        // Every `&` starts one of the references this module writes.
        for (i, _) in t.match_indices('&') {
            let rest = &t[i..];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"]
                    .iter()
                    .any(|r| rest.starts_with(r)),
                "{rest}"
            );
        }
        assert!(t.chars().all(|c| !c.is_control()));
    }

    #[test]
    fn labels_are_cut_on_characters_before_escaping_markup() {
        assert_eq!(label(b"short", 10), "short");
        assert_eq!(label("ааааааааааа".as_bytes(), 4), "ааа…");
        // The cut never splits `&lt;`.
        assert_eq!(label(b"<<<<<<", 3), "&lt;&lt;…");
    }

    #[test]
    fn idents_are_injective_and_inert() {
        assert_eq!(ident("NET-PRC-001"), "NET-PRC-001");
        assert_eq!(ident("a.b"), "a.2Eb");
        assert_ne!(ident("a.2Eb"), ident("a.b"));
        assert_eq!(ident("\"><x"), ".22.3E.3Cx");
    }

    #[test]
    fn csp_hash_matches_a_known_digest() {
        // printf 'alert(1)' | openssl dgst -sha256 -binary | base64
        assert_eq!(
            csp_hash("alert(1)"),
            "'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"
        );
    }
}
