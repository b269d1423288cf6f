//! `ByteString`: exact bytes from the kernel or /proc that are usually, but not always, UTF-8.
//!
//! Process names, command lines, exe paths and unix socket names are chosen by whoever runs the
//! process, so they may hold any byte. A snapshot must keep them exactly (evidence), yet stay valid
//! JSON. Valid UTF-8 is written as a plain JSON string (JSON escapes control characters itself);
//! anything else is written as `{"base64": "..."}` so that no byte is lost or invented. Reading
//! accepts both forms.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

/// Bytes that are shown as text where they are UTF-8 and kept exactly where they are not.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ByteString(pub Vec<u8>);

impl ByteString {
    /// The exact bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Lossy text, for matching and display (U+FFFD for invalid sequences).
    pub fn to_str_lossy(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.0)
    }

    /// Whether there are no bytes at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for ByteString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.to_str_lossy())
    }
}

impl From<&str> for ByteString {
    fn from(s: &str) -> Self {
        ByteString(s.as_bytes().to_vec())
    }
}

impl From<Vec<u8>> for ByteString {
    fn from(v: Vec<u8>) -> Self {
        ByteString(v)
    }
}

impl From<&[u8]> for ByteString {
    fn from(v: &[u8]) -> Self {
        ByteString(v.to_vec())
    }
}

impl Serialize for ByteString {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match std::str::from_utf8(&self.0) {
            Ok(s) => serializer.serialize_str(s),
            Err(_) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("base64", &base64_encode(&self.0))?;
                map.end()
            }
        }
    }
}

/// The two forms `Serialize` writes and `Deserialize` reads, by hand because both are: a string,
/// or `{"base64": "..."}` and nothing else (tests/it/schema.rs validates both forms written).
impl schemars::JsonSchema for ByteString {
    fn schema_name() -> Cow<'static, str> {
        "ByteString".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "Exact bytes: a string when they are UTF-8, else {\"base64\": \"...\"} \
                (standard alphabet, padded).",
            "anyOf": [
                {"type": "string"},
                {
                    "type": "object",
                    "properties": {
                        "base64": {
                            "type": "string",
                            "contentEncoding": "base64"
                        }
                    },
                    "required": ["base64"],
                    "additionalProperties": false
                }
            ]
        })
    }
}

impl<'de> Deserialize<'de> for ByteString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ByteString;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or {\"base64\": \"...\"}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ByteString, E> {
                Ok(ByteString(v.as_bytes().to_vec()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ByteString, A::Error> {
                let mut out = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key != "base64" {
                        return Err(de::Error::unknown_field(&key, &["base64"]));
                    }
                    let text: String = map.next_value()?;
                    out = Some(base64_decode(&text).ok_or_else(|| {
                        de::Error::invalid_value(de::Unexpected::Str(&text), &"valid base64")
                    })?);
                }
                out.map(ByteString)
                    .ok_or_else(|| de::Error::missing_field("base64"))
            }
        }
        deserializer.deserialize_any(V)
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Twenty lines of standard base64 do not justify a dependency; the round trip is tested below.
pub(crate) fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        let mut pad = 0;
        for (i, &c) in chunk.iter().enumerate() {
            let v = match c {
                b'=' if i >= 2 => {
                    pad += 1;
                    0
                }
                _ if pad > 0 => return None,
                _ => B64.iter().position(|&x| x == c)? as u32,
            };
            n = (n << 6) | v;
        }
        let full = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&full[..3 - pad]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_is_a_plain_string() {
        let b = ByteString::from("sshd: root@pts/0 \u{1b}[31m\n");
        let json = serde_json::to_string(&b).unwrap();
        assert_eq!(json, "\"sshd: root@pts/0 \\u001b[31m\\n\"");
        assert_eq!(serde_json::from_str::<ByteString>(&json).unwrap(), b);
    }

    #[test]
    fn invalid_utf8_round_trips_exactly() {
        for raw in [
            &b"\xff"[..],
            b"a\xfe",
            b"ab\xc3",
            b"\x00\x01\xff\xfe\x80",
            b"x\xff\xff\xffyz",
        ] {
            let b = ByteString(raw.to_vec());
            let json = serde_json::to_string(&b).unwrap();
            assert!(json.starts_with("{\"base64\":"), "{json}");
            assert_eq!(serde_json::from_str::<ByteString>(&json).unwrap(), b);
        }
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, enc) in cases {
            assert_eq!(base64_encode(plain.as_bytes()), enc);
            assert_eq!(base64_decode(enc).unwrap(), plain.as_bytes());
        }
        assert!(base64_decode("Zm9").is_none());
        assert!(base64_decode("Z=9v").is_none());
        assert!(base64_decode("Zm9*").is_none());
    }
}
