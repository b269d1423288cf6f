//! One place for each name: [`vocabulary!`] declares a closed set of values (a protocol, a
//! family, a state, a drift category) together with the text every document uses for it.
//!
//! Before it, a value's name was written in the enum's serde attributes, again in the rule
//! fields' list of allowed values, again in the JSON encoder, and its position served as a bit
//! in the rule masks and an index in the engine's tables, with nothing tying them together. Now
//! the enum owns all of them: `ALL` (declaration order, which is also the sort order), `NAMES`,
//! `name()`, `parse()`, `index()` (position in `ALL`), `bit()` (`1 << index`), `Display`, serde
//! through `name()`/`parse()`, and the JSON Schema (`enum` of the names). A new value is one line
//! in one place.

/// Declares an enum whose variants each own a name (see the module documentation).
///
/// ```ignore
/// vocabulary! {
///     /// What `ss` calls the Netid.
///     pub enum Protocol { Tcp => "tcp", Udp => "udp" }
/// }
/// ```
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident $(= $value:expr)? => $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant $(= $value)? ),+
        }

        impl $name {
            /// Every value, in declaration order (the canonical sort order).
            pub const ALL: [$name; [$($text),+].len()] = [$($name::$variant),+];
            /// Every value's name, in the order of `ALL`.
            pub const NAMES: [&'static str; [$($text),+].len()] = [$($text),+];

            /// The name every document (JSON, rules, baselines, the command line) uses.
            pub const fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// The value with this name.
            pub fn parse(name: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|v| v.name() == name)
            }

            /// The position in `ALL`: an index into per-value tables.
            pub const fn index(self) -> usize {
                self as usize - Self::ALL[0] as usize
            }

            /// `1 << index()`: the value's bit in a mask of values.
            pub const fn bit(self) -> u32 {
                1 << self.index()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }

        // The schema (docs/schema.md) is the names themselves: a string, one of `NAMES`.
        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn schema_id() -> std::borrow::Cow<'static, str> {
                concat!(module_path!(), "::", stringify!($name)).into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({"type": "string", "enum": $name::NAMES})
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                // A visitor, so that a bad name is reported inside the value's own
                // deserialization, at its own position (serde_yaml locates it there).
                struct V;
                impl serde::de::Visitor<'_> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(f, "one of {}", $name::NAMES.join(", "))
                    }
                    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<$name, E> {
                        $name::parse(s).ok_or_else(|| E::unknown_variant(s, &$name::NAMES))
                    }
                }
                d.deserialize_str(V)
            }
        }
    };
}

pub(crate) use vocabulary;

#[cfg(test)]
mod tests {
    use crate::baseline::Category;
    use crate::model::{Family, Kind, Protocol, State};

    /// Every vocabulary: names unique, index = position, parse inverts name, serde uses name.
    macro_rules! check {
        ($t:ty) => {{
            for (i, v) in <$t>::ALL.iter().enumerate() {
                assert_eq!(v.index(), i);
                assert_eq!(v.bit(), 1 << i);
                assert_eq!(<$t>::NAMES[i], v.name());
                assert_eq!(<$t>::parse(v.name()), Some(*v));
                let json = serde_json::to_string(v).unwrap();
                assert_eq!(json, format!("\"{}\"", v.name()));
                assert_eq!(serde_json::from_str::<$t>(&json).unwrap(), *v);
            }
            let mut names = <$t>::NAMES.to_vec();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), <$t>::ALL.len());
            assert!(
                <$t>::ALL.windows(2).all(|w| w[0] < w[1]),
                "ALL is the sort order"
            );
            let e = serde_json::from_str::<$t>("\"no-such-value\"").unwrap_err();
            assert!(e.to_string().contains(<$t>::NAMES[0]), "{e}");
        }};
    }

    #[test]
    fn every_vocabulary_owns_its_names_bits_and_order() {
        check!(Protocol);
        check!(Family);
        check!(State);
        check!(Kind);
        check!(Category);
        check!(crate::rules::matcher::Op);
        check!(crate::report::FindingKind);
        check!(crate::baseline::diff::Part);
        check!(crate::baseline::diff::Action);
        check!(crate::report::Format);
        check!(crate::baseline::diff::DiffFormat);
        check!(crate::rules::Severity);
        check!(crate::model::FdKind);
        check!(crate::model::KnownTimer);
        check!(crate::rules::examples::Vary);
        check!(crate::baseline::Direction);
        check!(crate::import::Format);
        check!(crate::import::Give);
    }
}
