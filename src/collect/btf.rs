//! Just enough of a BTF reader to lay out the task-file iterator program (see `taskfiles`): the
//! type id of a function, and the byte offset and size of a struct member.
//!
//! Why not the btf-rs crate: it parses every one of the kernel's ~150,000 types into owned values
//! and name maps, which took 107-157 ms on this machine (measured 2026-11-28), more than the whole
//! /proc walk that the iterator replaces. This reader makes one pass over the type section that
//! records where each type starts (1-2 ms), and resolves the handful of names it is asked for by
//! comparing string offsets. The format is the kernel's `include/uapi/linux/btf.h`.

use std::fmt;

const MAGIC: u16 = 0xeb9f;

/// BTF kinds (`BTF_KIND_*`) that the lookups name.
pub const KIND_STRUCT: u8 = 4;
/// `BTF_KIND_UNION`: a union; [`Btf::member`] looks through unions as through structs.
pub const KIND_UNION: u8 = 5;
/// `BTF_KIND_FUNC`: a function, such as the iterator's `bpf_iter_task_file` attach target.
pub const KIND_FUNC: u8 = 12;
const KIND_INT: u8 = 1;
const KIND_PTR: u8 = 2;
const KIND_ARRAY: u8 = 3;
const KIND_ENUM: u8 = 6;
/// `BTF_KIND_TYPEDEF`: a typedef, such as a raw tracepoint's `btf_trace_NAME`.
pub const KIND_TYPEDEF: u8 = 8;
const KIND_VOLATILE: u8 = 9;
const KIND_CONST: u8 = 10;
const KIND_RESTRICT: u8 = 11;
const KIND_TYPE_TAG: u8 = 18;
const KIND_ENUM64: u8 = 19;

/// Members one [`Btf::member`] lookup may look at, nested anonymous ones included. The kernel's
/// largest struct has a few hundred; without a bound, a hostile blob's struct of 65,535 anonymous
/// members of itself, nested 8 deep, is a lookup that never ends.
const MEMBER_BUDGET: u32 = 1 << 16;

/// Why BTF could not be read or a name was not found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BtfError(pub String);

impl fmt::Display for BtfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BtfError {}

fn err<T>(msg: impl Into<String>) -> Result<T, BtfError> {
    Err(BtfError(msg.into()))
}

/// A parsed BTF blob: the bytes, and where each type record starts.
pub struct Btf<'a> {
    types: &'a [u8],
    strings: &'a [u8],
    /// `starts[id - 1]`: offset of type `id` in `types` (id 0 is `void`).
    starts: Vec<u32>,
    /// String offsets of the names given to [`Btf::parse_with_names`], found in one pass.
    known: Vec<(String, Vec<u32>)>,
}

impl fmt::Debug for Btf<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Btf")
            .field("types", &self.starts.len())
            .field("string_bytes", &self.strings.len())
            .finish()
    }
}

/// A member found by [`Btf::member`]: its byte offset in the outer struct and its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    /// Bytes from the start of the outermost struct, including the offsets of the anonymous struct
    /// or union members it was found inside.
    pub offset: u32,
    /// Size of the member's type in bytes, through typedefs and qualifiers (a pointer is 8).
    pub size: u32,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

impl<'a> Btf<'a> {
    /// Indexes a raw BTF blob (as in /sys/kernel/btf/vmlinux), in this host's byte order.
    pub fn parse(blob: &'a [u8]) -> Result<Btf<'a>, BtfError> {
        let short = || BtfError("BTF: truncated header".into());
        match u16_at(blob, 0).ok_or_else(short)? {
            MAGIC => {}
            m if m == MAGIC.swap_bytes() => return err("BTF: other byte order"),
            m => return err(format!("BTF: bad magic {m:#x}")),
        }
        let hdr_len = u32_at(blob, 4).ok_or_else(short)? as usize;
        let section = |off: usize, len: usize| -> Result<&'a [u8], BtfError> {
            let start = hdr_len + u32_at(blob, off).ok_or_else(short)? as usize;
            let len = u32_at(blob, len).ok_or_else(short)? as usize;
            blob.get(start..start + len)
                .ok_or_else(|| BtfError("BTF: section out of bounds".into()))
        };
        let types = section(8, 12)?;
        let strings = section(16, 20)?;
        let mut starts = Vec::with_capacity(types.len() / 24);
        let mut at = 0usize;
        while at < types.len() {
            let info =
                u32_at(types, at + 4).ok_or_else(|| BtfError("BTF: truncated type".into()))?;
            let kind = ((info >> 24) & 0x1f) as u8;
            let vlen = (info & 0xffff) as usize;
            let extra = match kind {
                KIND_INT => 4,
                KIND_ARRAY => 12,
                KIND_STRUCT | KIND_UNION => vlen * 12,
                KIND_ENUM => vlen * 8,
                13 => vlen * 8,                // func_proto
                14 | 17 => 4,                  // var, decl_tag
                15 | KIND_ENUM64 => vlen * 12, // datasec, enum64
                KIND_PTR | 7 | KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT
                | KIND_FUNC | 16 | KIND_TYPE_TAG => 0,
                k => {
                    return err(format!(
                        "BTF: unknown kind {k} at type {}",
                        starts.len() + 1
                    ));
                }
            };
            starts.push(at as u32);
            at += 12 + extra;
        }
        Ok(Btf {
            types,
            strings,
            starts,
            known: Vec::new(),
        })
    }

    /// [`Btf::parse`], and the string offsets of `names` found in one pass over the string
    /// section rather than one search per lookup (the section is megabytes; the iterator's layout
    /// asks for 22 names: 4.5 ms of searching, measured, against ~1 ms for the pass).
    pub fn parse_with_names(blob: &'a [u8], names: &[&str]) -> Result<Btf<'a>, BtfError> {
        let mut btf = Btf::parse(blob)?;
        let mut lengths = 0u64; // bit n: some wanted name is n bytes long (n < 64)
        for n in names {
            lengths |= 1u64 << n.len().min(63);
        }
        let mut found: Vec<(String, Vec<u32>)> =
            names.iter().map(|n| (n.to_string(), Vec::new())).collect();
        let mut start = 0usize;
        for end in memchr::memchr_iter(0, btf.strings) {
            let len = end - start;
            if len > 0 && len < 64 && lengths & (1u64 << len) != 0 {
                let name = &btf.strings[start..end];
                for (n, offsets) in &mut found {
                    if n.as_bytes() == name {
                        offsets.push(start as u32);
                    }
                }
            }
            start = end + 1;
        }
        btf.known = found;
        Ok(btf)
    }

    /// The number of types (ids run from 1 to this).
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// Whether the blob holds no types.
    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    fn record(&self, id: u32) -> Option<(u32, u8, usize, u32, usize)> {
        let at = *self.starts.get((id as usize).checked_sub(1)?)? as usize;
        let name = u32_at(self.types, at)?;
        let info = u32_at(self.types, at + 4)?;
        let size_or_type = u32_at(self.types, at + 8)?;
        Some((
            name,
            ((info >> 24) & 0x1f) as u8,
            (info & 0xffff) as usize,
            size_or_type,
            at,
        ))
    }

    /// The string offsets at which `name` is stored, ascending (both sources find them in order).
    fn name_offsets(&self, name: &str) -> Vec<u32> {
        if let Some((_, offsets)) = self.known.iter().find(|(n, _)| n == name) {
            return offsets.clone();
        }
        // Names are NUL-terminated and the section starts with the empty name, so every name
        // sits between two NULs. A SIMD substring search: the section is megabytes. Matches
        // overlap by their NUL ("\0fd\0fd\0" holds "fd" twice), so each search starts on the
        // previous match's closing NUL; a section that does not start with a NUL (hostile) may
        // still hold the name at offset 0, as `parse_with_names` finds it.
        let mut out = Vec::new();
        if name.is_empty() {
            return out;
        }
        let mut needle = Vec::with_capacity(name.len() + 2);
        needle.push(0);
        needle.extend_from_slice(name.as_bytes());
        needle.push(0);
        if self.strings.starts_with(&needle[1..]) {
            out.push(0);
        }
        let finder = memchr::memmem::Finder::new(&needle);
        let mut from = 0;
        while let Some(at) = self.strings.get(from..).and_then(|s| finder.find(s)) {
            out.push((from + at + 1) as u32);
            from += at + needle.len() - 1;
        }
        out
    }

    /// The id of the type of this kind and name (the first, if the blob has several).
    pub fn find(&self, kind: u8, name: &str) -> Result<u32, BtfError> {
        Ok(self.find_all(&[(kind, name)])?[0])
    }

    /// [`Btf::find`] for several types in one pass over the type section; the error names every
    /// type that is missing.
    pub fn find_all(&self, wanted: &[(u8, &str)]) -> Result<Vec<u32>, BtfError> {
        let names: Vec<Vec<u32>> = wanted.iter().map(|(_, n)| self.name_offsets(n)).collect();
        let mut found = vec![0u32; wanted.len()];
        let mut left = wanted.len();
        for id in 1..=self.starts.len() as u32 {
            let Some((name, kind, ..)) = self.record(id) else {
                break;
            };
            if name == 0 {
                continue;
            }
            for (i, (k, _)) in wanted.iter().enumerate() {
                if found[i] == 0 && *k == kind && names[i].binary_search(&name).is_ok() {
                    found[i] = id;
                    left -= 1;
                }
            }
            if left == 0 {
                break;
            }
        }
        let missing: Vec<String> = wanted
            .iter()
            .zip(&found)
            .filter(|(_, id)| **id == 0)
            .map(|((k, n), _)| format!("{n} (kind {k})"))
            .collect();
        if missing.is_empty() {
            Ok(found)
        } else {
            err(format!("BTF: no type named {}", missing.join(", ")))
        }
    }

    /// The size in bytes of a type, through typedefs, qualifiers and arrays. Iterative, with one
    /// bound on the chain: a hostile blob's array of itself is `None`, not a stack overflow.
    pub fn size_of(&self, mut id: u32) -> Option<u32> {
        let mut count = 1u32; // elements, through the arrays followed so far
        for _ in 0..32 {
            let (_, kind, _, size_or_type, at) = self.record(id)?;
            match kind {
                KIND_INT | KIND_STRUCT | KIND_UNION | KIND_ENUM | KIND_ENUM64 => {
                    return size_or_type.checked_mul(count);
                }
                KIND_PTR => return 8u32.checked_mul(count),
                KIND_ARRAY => {
                    count = count.checked_mul(u32_at(self.types, at + 20)?)?;
                    id = u32_at(self.types, at + 12)?;
                }
                KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT | KIND_TYPE_TAG => {
                    id = size_or_type
                }
                _ => return None,
            }
        }
        None
    }

    /// Byte offset and size of `member` in the struct or union `id`, looking inside anonymous
    /// struct and union members as C does.
    pub fn member(&self, id: u32, member: &str) -> Option<Member> {
        let offsets = self.name_offsets(member);
        let mut budget = MEMBER_BUDGET;
        self.member_in(id, &offsets, 0, &mut budget)
    }

    /// `names`: the member name's string offsets, ascending. `budget`: members left to look at.
    fn member_in(&self, id: u32, names: &[u32], depth: u32, budget: &mut u32) -> Option<Member> {
        let (_, kind, vlen, _, at) = self.record(id)?;
        if depth > 8 || !(kind == KIND_STRUCT || kind == KIND_UNION) {
            return None;
        }
        let kflag = u32_at(self.types, at + 4)? >> 31 == 1;
        for i in 0..vlen {
            *budget = budget.checked_sub(1)?;
            let m = at + 12 + i * 12;
            let (name, ty, bits) = (
                u32_at(self.types, m)?,
                u32_at(self.types, m + 4)?,
                u32_at(self.types, m + 8)?,
            );
            // With kflag, the high 8 bits hold a bitfield size; our members are never bitfields.
            let (bit_offset, bitfield) = if kflag {
                (bits & 0xff_ffff, bits >> 24)
            } else {
                (bits, 0)
            };
            if bitfield != 0 || bit_offset % 8 != 0 {
                continue;
            }
            let offset = bit_offset / 8;
            if name != 0 && names.binary_search(&name).is_ok() {
                return Some(Member {
                    offset,
                    size: self.size_of(ty)?,
                });
            }
            if name == 0
                && let Some(inner) = self.member_in(self.strip(ty)?, names, depth + 1, budget)
            {
                return Some(Member {
                    offset: offset.checked_add(inner.offset)?,
                    size: inner.size,
                });
            }
        }
        None
    }

    /// Follows typedefs and qualifiers to the underlying type.
    fn strip(&self, mut id: u32) -> Option<u32> {
        for _ in 0..32 {
            let (_, kind, _, next, _) = self.record(id)?;
            match kind {
                KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT | KIND_TYPE_TAG => {
                    id = next
                }
                _ => return Some(id),
            }
        }
        None
    }
}

#[cfg(test)]
mod tests;
