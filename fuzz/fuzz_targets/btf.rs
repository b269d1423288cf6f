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

fn exercise(btf: &Btf<'_>, data: &[u8]) {
    let _ = btf.len();
    let _ = btf.is_empty();
    for name in NAMES {
        for kind in [KIND_STRUCT, KIND_UNION, KIND_FUNC] {
            let _ = btf.find(kind, name);
        }
    }
    let wanted: Vec<(u8, &str)> = NAMES.iter().map(|n| (KIND_STRUCT, *n)).collect();
    let _ = btf.find_all(&wanted);
    let _ = btf.find_all(&[(KIND_FUNC, "bpf_iter_task_file"), (KIND_STRUCT, "file")]);
    // Ids from the input (the last 32 bytes, as u32 words) and the first ids of the blob.
    let tail = &data[data.len().saturating_sub(32)..];
    let mut ids: Vec<u32> = tail
        .chunks_exact(4)
        .map(|w| u32::from_ne_bytes(w.try_into().unwrap()))
        .collect();
    ids.extend(0..btf.len().min(64) as u32 + 1);
    ids.push(u32::MAX);
    for id in ids {
        let _ = btf.size_of(id);
        for m in MEMBERS {
            let _ = btf.member(id, m);
        }
    }
    let _ = sockwarden::collect::taskfiles::Layout::from_btf(btf);
}

fuzz_target!(|data: &[u8]| {
    if let Ok(btf) = Btf::parse(data) {
        exercise(&btf, data);
    }
    let mut names: Vec<&str> = NAMES.to_vec();
    names.extend(MEMBERS);
    names.extend(sockwarden::collect::taskfiles::Layout::NAMES);
    if let Ok(btf) = Btf::parse_with_names(data, &names) {
        exercise(&btf, data);
    }
});
