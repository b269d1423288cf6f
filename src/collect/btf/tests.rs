use super::*;

/// Builds a BTF blob: records are (name, info, size_or_type, extra words).
struct Blob {
    types: Vec<u8>,
    strings: Vec<u8>,
}

impl Blob {
    fn new() -> Blob {
        Blob {
            types: Vec::new(),
            strings: vec![0],
        }
    }
    fn name(&mut self, n: &str) -> u32 {
        if n.is_empty() {
            return 0;
        }
        let at = self.strings.len() as u32;
        self.strings.extend_from_slice(n.as_bytes());
        self.strings.push(0);
        at
    }
    fn add(&mut self, name: &str, kind: u32, vlen: u32, kflag: bool, st: u32, extra: &[u32]) {
        let n = self.name(name);
        let info = (u32::from(kflag) << 31) | (kind << 24) | vlen;
        for w in [n, info, st].iter().chain(extra) {
            self.types.extend_from_slice(&w.to_ne_bytes());
        }
    }
    /// Members are (name, type, bit offset).
    fn strukt(&mut self, kind: u32, name: &str, size: u32, members: &[(&str, u32, u32)]) {
        let mut extra = Vec::new();
        for (n, t, off) in members {
            extra.extend([self.name(n), *t, *off]);
        }
        self.add(name, kind, members.len() as u32, false, size, &extra);
    }
    fn bytes(&self) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&MAGIC.to_ne_bytes());
        b.extend_from_slice(&[1, 0]);
        for w in [24u32, 0, self.types.len() as u32, self.types.len() as u32] {
            b.extend_from_slice(&w.to_ne_bytes());
        }
        b.extend_from_slice(&(self.strings.len() as u32).to_ne_bytes());
        b.extend_from_slice(&self.types);
        b.extend_from_slice(&self.strings);
        b
    }
}

/// ids: 1 FWD ctx, 2 int, 3 ptr, 4 u16 typedef, 5 unsigned short, 6 anon union, 7 STRUCT ctx,
/// 8 FUNC bpf_iter_x, 9 int[3], 10 STRUCT arr, 11 enum with two values, 12 const ptr.
fn sample() -> Vec<u8> {
    let mut b = Blob::new();
    b.add("ctx", 7, 0, false, 0, &[]); // a forward declaration of the same name
    b.add("int", KIND_INT as u32, 0, false, 4, &[32]);
    b.add("", KIND_PTR as u32, 0, false, 2, &[]);
    b.add("u16", KIND_TYPEDEF as u32, 0, false, 5, &[]);
    b.add("unsigned short", KIND_INT as u32, 0, false, 2, &[16]);
    b.strukt(KIND_UNION as u32, "", 8, &[("meta", 3, 0)]);
    b.strukt(
        KIND_STRUCT as u32,
        "ctx",
        24,
        &[("", 6, 0), ("fd", 2, 64), ("mode", 4, 128)],
    );
    b.add("bpf_iter_x", KIND_FUNC as u32, 0, false, 0, &[]);
    b.add("", KIND_ARRAY as u32, 0, false, 0, &[2, 2, 3]);
    b.strukt(
        KIND_STRUCT as u32,
        "arr",
        16,
        &[("count", 2, 0), ("numbers", 9, 32)],
    );
    let (a, z) = (b.name("A"), b.name("Z"));
    b.add("e", KIND_ENUM as u32, 2, false, 4, &[a, 0, z, 1]);
    b.add("", KIND_CONST as u32, 0, false, 3, &[]);
    b.bytes()
}

#[test]
fn finds_types_by_kind_and_name() {
    let blob = sample();
    let btf = Btf::parse(&blob).unwrap();
    assert_eq!(btf.len(), 12);
    assert_eq!(
        btf.find(KIND_STRUCT, "ctx"),
        Ok(7),
        "the struct, not the forward declaration"
    );
    assert_eq!(btf.find(KIND_FUNC, "bpf_iter_x"), Ok(8));
    assert_eq!(
        btf.find_all(&[(KIND_STRUCT, "arr"), (KIND_FUNC, "bpf_iter_x")]),
        Ok(vec![10, 8])
    );
    // A prefix of a name is not the name.
    assert!(btf.find(KIND_FUNC, "bpf_iter").is_err());
    let e = btf
        .find_all(&[
            (KIND_STRUCT, "nope"),
            (KIND_STRUCT, "ctx"),
            (KIND_FUNC, "ctx"),
        ])
        .unwrap_err();
    assert_eq!(e.0, "BTF: no type named nope (kind 4), ctx (kind 12)");
}

#[test]
fn member_offsets_and_sizes() {
    let blob = sample();
    let btf = Btf::parse(&blob).unwrap();
    let m = |s, n| btf.member(s, n);
    // Inside the anonymous union, through the pointer: 8 bytes at 0.
    assert_eq!(m(7, "meta"), Some(Member { offset: 0, size: 8 }));
    assert_eq!(m(7, "fd"), Some(Member { offset: 8, size: 4 }));
    // Through the typedef to the 2-byte int.
    assert_eq!(
        m(7, "mode"),
        Some(Member {
            offset: 16,
            size: 2
        })
    );
    assert_eq!(
        m(10, "numbers"),
        Some(Member {
            offset: 4,
            size: 12
        })
    );
    assert_eq!(m(7, "nope"), None);
    assert_eq!(m(8, "fd"), None, "a function has no members");
    assert_eq!(btf.size_of(12), Some(8), "const pointer");
    assert_eq!(btf.size_of(11), Some(4), "enum");
}

#[test]
fn bad_blobs_are_errors_not_panics() {
    let blob = sample();
    assert!(Btf::parse(&blob[..10]).unwrap_err().0.contains("truncated"));
    let mut swapped = blob.clone();
    swapped[..2].copy_from_slice(&MAGIC.swap_bytes().to_ne_bytes());
    assert_eq!(Btf::parse(&swapped).unwrap_err().0, "BTF: other byte order");
    // The string section runs past the end.
    assert!(
        Btf::parse(&blob[..blob.len() - 3])
            .unwrap_err()
            .0
            .contains("out of bounds")
    );
    // An unknown kind stops the index with its type id.
    let mut b = Blob::new();
    b.add("int", KIND_INT as u32, 0, false, 4, &[32]);
    b.add("x", 31, 0, false, 0, &[]);
    assert_eq!(
        Btf::parse(&b.bytes()).unwrap_err().0,
        "BTF: unknown kind 31 at type 2"
    );
    // A truncated record: every prefix of a valid blob is an error or a smaller valid index.
    for cut in 0..blob.len() {
        let _ = Btf::parse(&blob[..cut]).map(|b| b.len());
    }
}

/// The running kernel's BTF has what the iterator program needs, when the kernel has BTF.
#[test]
fn the_kernel_btf_lays_out_the_iterator() {
    let Ok(blob) = std::fs::read("/sys/kernel/btf/vmlinux") else {
        assert!(std::env::var_os("CI").is_none(), "CI's kernel has BTF");
        return;
    };
    let btf = Btf::parse(&blob).unwrap();
    assert!(btf.len() > 10_000);
    let l = crate::collect::taskfiles::Layout::from_btf(&btf).unwrap();
    let names = crate::collect::taskfiles::Layout::NAMES;
    let indexed = Btf::parse_with_names(&blob, names).unwrap();
    assert_eq!(crate::collect::taskfiles::Layout::from_btf(&indexed), Ok(l));
    // These four are fixed by the iterator's ABI (include/linux/bpf.h, DEFINE_BPF_ITER_FUNC).
    assert_eq!(
        (l.ctx_meta, l.ctx_task, l.ctx_fd, l.ctx_file),
        (0, 8, 16, 24)
    );
    assert_eq!((l.meta_seq, l.upid_size, l.upid_nr), (0, 16, 0));
}

#[test]
fn names_found_in_one_pass_resolve_like_searched_ones() {
    let blob = sample();
    let searched = Btf::parse(&blob).unwrap();
    let indexed = Btf::parse_with_names(&blob, &["ctx", "meta", "fd", "numbers", "e"]).unwrap();
    for (kind, name) in [(KIND_STRUCT, "ctx"), (KIND_STRUCT, "arr"), (KIND_ENUM, "e")] {
        assert_eq!(indexed.find(kind, name), searched.find(kind, name));
    }
    for name in ["meta", "fd", "mode", "nope"] {
        assert_eq!(indexed.member(7, name), searched.member(7, name), "{name}");
    }
    assert_eq!(
        indexed.member(10, "numbers"),
        searched.member(10, "numbers")
    );
}

/// Found by the `btf` fuzz target (tests/fixtures/fuzz/btf/size-of-array-cycle): an array whose
/// element type is itself made `size_of` recurse until the stack overflowed.
#[test]
fn fuzz_array_of_itself_has_no_size() {
    let blob = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/fuzz/btf/size-of-array-cycle"
    ));
    let btf = Btf::parse(blob).unwrap();
    for id in 0..=btf.len() as u32 + 1 {
        let _ = btf.size_of(id);
        let _ = btf.member(id, "x");
    }
    let mut b = Blob::new();
    b.add("", KIND_ARRAY as u32, 0, false, 0, &[1, 1, 4]); // 1: int[4] of itself
    b.add("int", KIND_INT as u32, 0, false, 4, &[32]);
    b.add("", KIND_ARRAY as u32, 0, false, 0, &[2, 2, 3]); // 3: int[3]
    b.add("", KIND_ARRAY as u32, 0, false, 0, &[3, 2, 5]); // 4: int[3][5]
    b.add("", KIND_ARRAY as u32, 0, false, 0, &[4, 2, u32::MAX]); // 5: too big
    let blob = b.bytes();
    let btf = Btf::parse(&blob).unwrap();
    assert_eq!(btf.size_of(1), None);
    assert_eq!(btf.size_of(4), Some(60));
    assert_eq!(btf.size_of(5), None, "overflows u32");
}

/// Anonymous members nested 9 deep, each at the largest offset: the sum overflowed u32.
#[test]
fn nested_member_offsets_that_overflow_are_none() {
    let mut b = Blob::new();
    b.add("int", KIND_INT as u32, 0, false, 4, &[32]);
    // ids 2..=10: struct n contains an anonymous struct n+1 at bit 0xffff_fff8; 10 holds "x".
    for id in 2..10 {
        b.strukt(KIND_STRUCT as u32, "", 8, &[("", id + 1, 0xffff_fff8)]);
    }
    b.strukt(KIND_STRUCT as u32, "", 8, &[("x", 1, 0xffff_fff8)]);
    let blob = b.bytes();
    let btf = Btf::parse(&blob).unwrap();
    assert_eq!(
        btf.member(10, "x"),
        Some(Member {
            offset: 0x1fff_ffff,
            size: 4
        })
    );
    assert_eq!(btf.member(2, "x"), None);
}

/// A struct of 65,535 anonymous members of itself: a lookup stops after a bounded number of
/// members instead of walking 65,535^9 of them.
#[test]
fn a_struct_of_itself_is_searched_in_bounded_time() {
    let mut b = Blob::new();
    let members: Vec<(&str, u32, u32)> = vec![("", 1, 0); 65_535];
    b.strukt(KIND_STRUCT as u32, "s", 8, &members);
    let blob = b.bytes();
    let btf = Btf::parse(&blob).unwrap();
    let t = std::time::Instant::now();
    assert_eq!(btf.member(1, "x"), None);
    assert!(
        t.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        t.elapsed()
    );
}

/// Names that share a NUL ("\0fd\0fd\0") are all found, as the one-pass index finds them.
#[test]
fn adjacent_duplicate_names_are_all_found() {
    let mut b = Blob::new();
    b.add("int", KIND_INT as u32, 0, false, 4, &[32]);
    let (fd1, fd2) = (b.name("fd"), b.name("fd"));
    b.add("s", KIND_STRUCT as u32, 1, false, 8, &[fd1, 1, 0]);
    b.add("t", KIND_STRUCT as u32, 1, false, 8, &[fd2, 1, 32]);
    let blob = b.bytes();
    let searched = Btf::parse(&blob).unwrap();
    let indexed = Btf::parse_with_names(&blob, &["fd"]).unwrap();
    for id in 1..=3 {
        assert_eq!(searched.member(id, "fd"), indexed.member(id, "fd"), "{id}");
    }
    assert_eq!(
        searched.member(3, "fd"),
        Some(Member { offset: 4, size: 4 })
    );
}
