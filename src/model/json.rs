//! Writing a snapshot as JSON, fast.
//!
//! A 100k-socket snapshot is ~100 MB of JSON, and serializing it was half of `snapshot`'s time.
//! The compact form is therefore written in parallel: sockets are serialized in batches on the
//! rayon pool and written in order, so memory stays bounded (one window of batches) and the bytes
//! are exactly what `serde_json::to_writer(&snapshot)` produces (a test checks this).

use std::io::{self, Write};

use rayon::prelude::*;

use super::Snapshot;

const BATCH: usize = 2048;
const WINDOW: usize = 8;

impl Snapshot {
    /// Writes the snapshot as JSON followed by a newline; `pretty` indents it.
    pub fn write_json(&self, w: &mut dyn Write, pretty: bool) -> io::Result<()> {
        if pretty {
            serde_json::to_writer_pretty(&mut *w, self)?;
            return w.write_all(b"\n");
        }
        w.write_all(b"{\"schema_version\":")?;
        serde_json::to_writer(&mut *w, &self.schema_version)?;
        w.write_all(b",\"meta\":")?;
        serde_json::to_writer(&mut *w, &self.meta)?;
        w.write_all(b",\"sockets\":[")?;
        let batches: Vec<_> = self.sockets.chunks(BATCH).collect();
        let mut first = true;
        for window in batches.chunks(WINDOW) {
            let encoded: Vec<io::Result<Vec<u8>>> = window
                .par_iter()
                .map(|batch| {
                    let mut buf = Vec::with_capacity(batch.len() * 1024);
                    for (i, s) in batch.iter().enumerate() {
                        if i > 0 {
                            buf.push(b',');
                        }
                        serde_json::to_writer(&mut buf, s)?;
                    }
                    Ok(buf)
                })
                .collect();
            for buf in encoded {
                if !first {
                    w.write_all(b",")?;
                }
                first = false;
                w.write_all(&buf?)?;
            }
        }
        w.write_all(b"],\"processes\":")?;
        serde_json::to_writer(&mut *w, &self.processes)?;
        if !self.namespaces.is_empty() {
            w.write_all(b",\"namespaces\":")?;
            serde_json::to_writer(&mut *w, &self.namespaces)?;
        }
        w.write_all(b",\"warnings\":")?;
        serde_json::to_writer(&mut *w, &self.warnings)?;
        w.write_all(b"}\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;
    use std::collections::BTreeMap;

    #[test]
    fn parallel_output_equals_serde_json() {
        let mut sockets = Vec::new();
        for i in 0..(BATCH * 3 + 17) {
            let mut s = Socket::new(Protocol::Tcp, Family::Inet, State::Established, i as u64);
            s.local = Some(Endpoint {
                address: "127.0.0.1".parse().unwrap(),
                port: (i % 60000) as u16,
            });
            s.owners = vec![Owner {
                pid: 7,
                fd: i as u32,
            }];
            sockets.push(s);
        }
        let snap = Snapshot {
            schema_version: SCHEMA_VERSION,
            meta: Meta {
                tool: Tool {
                    name: "sockwarden".into(),
                    version: "0".into(),
                },
                hostname: "h\n\"x".into(),
                kernel: "k".into(),
                boot_id: "b".into(),
                taken_at: "t".into(),
                netns: Some(1),
                privileged: true,
                sources: BTreeMap::from([("tcp".to_string(), "netlink".to_string())]),
                attribution: true,
                ip_local_port_range: Some((32768, 60999)),
            },
            sockets,
            processes: Vec::new(),
            namespaces: vec![Namespace {
                inode: 4026531840,
                name: Some("blue".into()),
                current: true,
                pids: vec![1, 2],
                containers: vec![],
            }],
            warnings: vec![Warning {
                code: "c".into(),
                count: 1,
                message: "m".into(),
            }],
        };
        let mut ours = Vec::new();
        snap.write_json(&mut ours, false).unwrap();
        let mut reference = serde_json::to_vec(&snap).unwrap();
        reference.push(b'\n');
        assert_eq!(ours, reference);
        let mut empty = snap.clone();
        empty.sockets.clear();
        let mut ours = Vec::new();
        empty.write_json(&mut ours, false).unwrap();
        let mut reference = serde_json::to_vec(&empty).unwrap();
        reference.push(b'\n');
        assert_eq!(ours, reference);
    }
}
