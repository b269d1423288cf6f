//! The BTF reader: parse (plain and with a name index), then every lookup the task-file
//! iterator's layout makes, by name and by ids taken from the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockwarden::collect::btf::{Btf, KIND_FUNC, KIND_STRUCT, KIND_UNION};

const NAMES: [&str; 12] = [
    "task_struct",
    "file",
    "files_struct",
    "fdtable",
    "bpf_iter__task_file",
    "socket",
    "sock",
    "bpf_iter_meta",
    "pid",
    "upid",
    "nr",
    "f_inode",
];

const MEMBERS: [&str; 10] = [
    "meta",
    "task",
    "fd",
    "file",
    "tgid",
    "f_mode",
    "private_data",
    "sk",
    "numbers",
    "",
];

/// Every lookup, as a value to compare: the plain and the name-indexed parse must agree.
fn exercise(btf: &Btf<'_>, data: &[u8]) -> Vec<String> {
    let mut out = vec![format!("{} {}", btf.len(), btf.is_empty())];
    for name in NAMES {
        for kind in [KIND_STRUCT, KIND_UNION, KIND_FUNC] {
            out.push(format!("{:?}", btf.find(kind, name)));
        }
    }
    let wanted: Vec<(u8, &str)> = NAMES.iter().map(|n| (KIND_STRUCT, *n)).collect();
    out.push(format!("{:?}", btf.find_all(&wanted)));
    // Ids from the input (the last 32 bytes, as u32 words) and the first ids of the blob.
    let tail = &data[data.len().saturating_sub(32)..];
    let mut ids: Vec<u32> = tail
        .chunks_exact(4)
        .map(|w| u32::from_ne_bytes(w.try_into().unwrap()))
        .collect();
    ids.extend(0..btf.len().min(64) as u32 + 1);
    ids.push(u32::MAX);
    for id in ids {
        out.push(format!("{:?}", btf.size_of(id)));
        for m in MEMBERS {
            out.push(format!("{:?}", btf.member(id, m)));
        }
    }
    out.push(format!(
        "{:?}",
        sockwarden::collect::taskfiles::Layout::from_btf(btf)
    ));
    out
}

fuzz_target!(|data: &[u8]| {
    let plain = Btf::parse(data).map(|btf| exercise(&btf, data));
    let mut names: Vec<&str> = NAMES.to_vec();
    names.extend(MEMBERS);
    names.extend(sockwarden::collect::taskfiles::Layout::NAMES);
    let indexed = Btf::parse_with_names(data, &names).map(|btf| exercise(&btf, data));
    assert_eq!(plain, indexed, "parse and parse_with_names disagree");
});
