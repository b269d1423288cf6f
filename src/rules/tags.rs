//! Rule tags: ATT&CK technique ids and `prefix:value` tags (`cis:4.1`, `pci:1.2.3`,
//! `site:dmz`). A tag that looks like a technique id must be a technique of the ATT&CK table
//! ([`super::attack`]); only those map to SARIF's `external/attack/...` tags and to ECS
//! `threat.technique.*`. Every other tag is `PREFIX:VALUE`: the prefix a lower-case word
//! (`[a-z][a-z0-9_-]*`), the value one or more of `A-Z a-z 0-9 . _ - / :` — no spaces, so a
//! tag stays one token in every report format.

use super::attack;

/// The shape [`check`] accepts, for the rule schema (whether a technique id is in the ATT&CK
/// table is the loader's check).
pub const PATTERN: &str = r"^(T[0-9]{4}(\.[0-9]{3})?|[a-z][a-z0-9_-]*:[A-Za-z0-9._/:-]+)$";

/// Why a tag is refused.
pub fn check(tag: &str) -> Result<(), String> {
    if attack::looks_like_id(tag) {
        return match attack::name(tag) {
            Some(_) => Ok(()),
            None => Err(format!(
                "tag `{tag}` looks like an ATT&CK technique id, but ATT&CK {} has no such \
                 technique (revoked or mistyped?)",
                attack::VERSION
            )),
        };
    }
    if is_prefixed(tag) {
        return Ok(());
    }
    Err(format!(
        "tag `{tag}` is not an ATT&CK technique id (T1234 or T1234.001) nor a `prefix:value` \
         tag (cis:4.1, pci:1.2.3, site:dmz)"
    ))
}

/// `prefix:value` as the module documentation defines it.
fn is_prefixed(tag: &str) -> bool {
    let Some((prefix, value)) = tag.split_once(':') else {
        return false;
    };
    let mut p = prefix.bytes();
    p.next().is_some_and(|b| b.is_ascii_lowercase())
        && p.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        && !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-_/:".contains(&b))
}

/// Whether `tag` is an ATT&CK technique id (the only tags that map to ATT&CK in reports).
pub fn is_attack(tag: &str) -> bool {
    attack::looks_like_id(tag)
}

/// Whether a rule's `tag` is selected by a `tag:T` pattern's `want`: the same tag, or for an
/// ATT&CK technique, one of its sub-techniques (`tag:T1059` selects `T1059.004`).
pub fn selects(want: &str, tag: &str) -> bool {
    tag == want
        || (attack::looks_like_id(want)
            && !want.contains('.')
            && tag.strip_prefix(want).is_some_and(|r| r.starts_with('.')))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tags in the grammar (a known ATT&CK id, or `prefix:value`).
    const GOOD: [&str; 7] = [
        "T1059.004",
        "T1571",
        "cis:4.1",
        "pci:1.2.3",
        "site:dmz",
        "nist-800-53:AC-4",
        "site:team/web",
    ];
    /// Tags the grammar refuses for their shape.
    const BAD: [&str; 9] = [
        "execution",
        "CIS:4.1",
        "cis:",
        ":x",
        "site:two words",
        "t1059",
        "9x:y",
        "T1059.04",
        "T10590",
    ];
    /// Technique ids of the right shape that ATT&CK does not have (or no longer has).
    const UNKNOWN: [&str; 2] = ["T1043", "T9999.001"];

    #[test]
    fn attack_ids_must_exist_and_prefixed_tags_follow_the_grammar() {
        for ok in GOOD {
            assert!(check(ok).is_ok(), "{ok}");
        }
        for bad in BAD.iter().chain(&UNKNOWN) {
            assert!(check(bad).is_err(), "{bad}");
        }
        let e = check("T1043").unwrap_err();
        assert!(e.contains("has no such technique"), "{e}");
    }

    /// The schema's pattern takes what `check` takes, and refuses what it refuses for its
    /// shape (a technique id missing from the table is the loader's to refuse).
    #[test]
    fn the_schema_pattern_is_the_grammar() {
        let re = regex::Regex::new(PATTERN).unwrap();
        for t in GOOD.iter().chain(&UNKNOWN) {
            assert!(re.is_match(t), "{t}");
        }
        for t in BAD {
            assert!(!re.is_match(t), "{t}");
            assert!(!attack::looks_like_id(t), "{t}");
        }
    }

    #[test]
    fn a_technique_selects_its_sub_techniques() {
        assert!(selects("T1059", "T1059.004"));
        assert!(selects("T1059", "T1059"));
        assert!(!selects("T1059", "T10590"));
        assert!(!selects("T1059.004", "T1059"));
        assert!(selects("site:dmz", "site:dmz"));
        assert!(!selects("site", "site:dmz"));
    }
}
