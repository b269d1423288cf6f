//! Writing a snapshot as JSON, fast.
//!
//! A 100k-socket snapshot is ~100 MB of JSON, and serializing it through serde_json was the
//! largest user-space cost of `snapshot` (a quarter of its CPU time, most of it escaping the ~80
//! static field names of every TCP socket). The compact form is therefore written here:
//!
//! - sockets are encoded in batches on the rayon pool and written in order, so memory stays
//!   bounded (one window of batches, whose buffers are reused) and the output streams;
//! - a socket is encoded by hand: field names are pre-escaped literals, integers go through
//!   `itoa`, and only strings that need escaping (or bytes that are not UTF-8) go through
//!   serde_json. Every writer destructures its struct completely, so a field added to the model
//!   does not compile until it is written here too;
//! - the bytes are exactly what `serde_json::to_writer(&snapshot)` produces (tests check it over
//!   every variant and every optional part).
//!
//! The pretty form (`--pretty`, for people) goes through serde_json unchanged.

use std::io::{self, Write};
use std::net::IpAddr;

use rayon::prelude::*;

use super::{
    BbrInfo, BpfInsn, ByteString, Endpoint, NetlinkInfo, Owner, PacketInfo, PacketRing, SkMemInfo,
    Snapshot, Socket, TcpInfo, Timer, UnixInfo, Views,
};

/// Sockets per batch, and batches encoded at once: 4 buffers of ~2 MB (TCP sockets with
/// tcp_info are ~1 KB of JSON) keep two threads busy and the memory small.
const BATCH: usize = 2048;
const WINDOW: usize = 4;

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
        let batches: Vec<&[Socket]> = self.sockets.chunks(BATCH).collect();
        let mut bufs: Vec<Vec<u8>> = vec![Vec::new(); WINDOW.min(batches.len())];
        for (n, window) in batches.chunks(WINDOW).enumerate() {
            bufs.par_iter_mut()
                .zip(window.par_iter())
                .for_each(|(buf, batch)| {
                    buf.clear();
                    for (i, s) in batch.iter().enumerate() {
                        if i > 0 {
                            buf.push(b',');
                        }
                        socket(buf, s);
                    }
                });
            for (i, buf) in bufs.iter().take(window.len()).enumerate() {
                if n > 0 || i > 0 {
                    w.write_all(b",")?;
                }
                w.write_all(buf)?;
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
        if !self.gaps.is_empty() {
            w.write_all(b",\"gaps\":")?;
            serde_json::to_writer(&mut *w, &self.gaps)?;
        }
        w.write_all(b"}\n")
    }
}

/// Appends one socket as compact JSON, byte for byte what serde_json writes for it.
pub fn socket(out: &mut Vec<u8>, s: &Socket) {
    // A TCP socket with tcp_info is ~1 KB: one capacity check instead of one per field.
    out.reserve(2048);
    let Socket {
        protocol,
        family,
        state,
        local,
        remote,
        ifindex,
        interface,
        uid,
        inode,
        cookie,
        recv_q,
        send_q,
        timer,
        shutdown,
        mark,
        v6only,
        congestion,
        tcp_info,
        // Never in a snapshot: a run that keeps a few fields (a scan) does not write one.
        tcp_kept: _,
        bbr,
        memory,
        cgroup_id,
        unix,
        packet,
        netlink,
        owners,
        netns,
        views,
        hidden,
    } = s;
    out.extend_from_slice(b"{\"protocol\":\"");
    out.extend_from_slice(protocol.name().as_bytes());
    out.extend_from_slice(b"\",\"family\":\"");
    out.extend_from_slice(family.name().as_bytes());
    out.extend_from_slice(b"\",\"state\":\"");
    out.extend_from_slice(state.name().as_bytes());
    out.push(b'"');
    part(out, b",\"local\":", local, endpoint);
    part(out, b",\"remote\":", remote, endpoint);
    opt_num(out, b",\"ifindex\":", *ifindex);
    part(out, b",\"interface\":", interface, |o, i| string(o, i));
    opt_num(out, b",\"uid\":", *uid);
    field(out, b",\"inode\":", *inode);
    opt_num(out, b",\"cookie\":", *cookie);
    field(out, b",\"recv_q\":", *recv_q);
    field(out, b",\"send_q\":", *send_q);
    part(out, b",\"timer\":", timer, timer_json);
    opt_num(out, b",\"shutdown\":", *shutdown);
    opt_num(out, b",\"mark\":", *mark);
    if let Some(b) = v6only {
        out.extend_from_slice(if *b {
            b",\"v6only\":true"
        } else {
            b",\"v6only\":false"
        });
    }
    part(out, b",\"congestion\":", congestion, |o, c| string(o, c));
    part(out, b",\"tcp_info\":", tcp_info, |o, t| tcp_info_json(o, t));
    part(out, b",\"bbr\":", bbr, |o, b| bbr_json(o, b));
    part(out, b",\"memory\":", memory, |o, m| memory_json(o, m));
    opt_num(out, b",\"cgroup_id\":", *cgroup_id);
    part(out, b",\"unix\":", unix, |o, u| unix_json(o, u));
    part(out, b",\"packet\":", packet, |o, p| packet_json(o, p));
    part(out, b",\"netlink\":", netlink, |o, n| netlink_json(o, n));
    out.extend_from_slice(b",\"owners\":[");
    for (i, Owner { pid, fd }) in owners.iter().enumerate() {
        out.extend_from_slice(if i == 0 { b"{\"pid\":" } else { b",{\"pid\":" });
        num(out, *pid);
        field(out, b",\"fd\":", *fd);
        out.push(b'}');
    }
    out.push(b']');
    opt_num(out, b",\"netns\":", *netns);
    view_list(out, b",\"views\":[", *views);
    view_list(out, b",\"hidden\":[", *hidden);
    out.push(b'}');
}

/// `,"name":["a","b"]` for a set of views, when it is not empty.
fn view_list(out: &mut Vec<u8>, key: &[u8], v: Views) {
    if v.is_empty() {
        return;
    }
    out.extend_from_slice(key);
    for (i, view) in v.iter().enumerate() {
        out.extend_from_slice(if i == 0 { b"\"" } else { b",\"" });
        out.extend_from_slice(view.name().as_bytes());
        out.push(b'"');
    }
    out.push(b']');
}

/// `,"name":` and the part, when it is present.
#[inline]
fn part<T>(out: &mut Vec<u8>, key: &[u8], v: &Option<T>, write: impl FnOnce(&mut Vec<u8>, &T)) {
    if let Some(v) = v {
        out.extend_from_slice(key);
        write(out, v);
    }
}

fn endpoint(out: &mut Vec<u8>, e: &Endpoint) {
    let Endpoint { address, port } = e;
    out.extend_from_slice(b"{\"address\":\"");
    match address {
        IpAddr::V4(a) => {
            for (i, o) in a.octets().iter().enumerate() {
                if i > 0 {
                    out.push(b'.');
                }
                num(out, *o);
            }
        }
        IpAddr::V6(a) => {
            // Display of an address never needs escaping; writing to a Vec cannot fail.
            let _ = write!(out, "{a}");
        }
    }
    out.extend_from_slice(b"\",\"port\":");
    num(out, *port);
    out.push(b'}');
}

fn timer_json(out: &mut Vec<u8>, t: &Timer) {
    let Timer {
        kind,
        expires_ms,
        retrans,
    } = t;
    out.extend_from_slice(b"{\"kind\":");
    string(out, &kind.name());
    field(out, b",\"expires_ms\":", *expires_ms);
    field(out, b",\"retrans\":", *retrans);
    out.push(b'}');
}

fn bbr_json(out: &mut Vec<u8>, b: &BbrInfo) {
    let BbrInfo {
        bw,
        min_rtt,
        pacing_gain,
        cwnd_gain,
    } = b;
    field(out, b"{\"bw\":", *bw);
    field(out, b",\"min_rtt\":", *min_rtt);
    field(out, b",\"pacing_gain\":", *pacing_gain);
    field(out, b",\"cwnd_gain\":", *cwnd_gain);
    out.push(b'}');
}

fn ring_json(out: &mut Vec<u8>, r: &PacketRing) {
    let PacketRing {
        block_size,
        block_nr,
        frame_size,
        frame_nr,
        retire_tmo,
        sizeof_priv,
        features,
    } = r;
    field(out, b"{\"block_size\":", *block_size);
    field(out, b",\"block_nr\":", *block_nr);
    field(out, b",\"frame_size\":", *frame_size);
    field(out, b",\"frame_nr\":", *frame_nr);
    field(out, b",\"retire_tmo\":", *retire_tmo);
    field(out, b",\"sizeof_priv\":", *sizeof_priv);
    field(out, b",\"features\":", *features);
    out.push(b'}');
}

fn memory_json(out: &mut Vec<u8>, m: &SkMemInfo) {
    let SkMemInfo {
        rmem_alloc,
        rcvbuf,
        wmem_alloc,
        sndbuf,
        fwd_alloc,
        wmem_queued,
        optmem,
        backlog,
        drops,
    } = m;
    field(out, b"{\"rmem_alloc\":", *rmem_alloc);
    field(out, b",\"rcvbuf\":", *rcvbuf);
    field(out, b",\"wmem_alloc\":", *wmem_alloc);
    field(out, b",\"sndbuf\":", *sndbuf);
    field(out, b",\"fwd_alloc\":", *fwd_alloc);
    field(out, b",\"wmem_queued\":", *wmem_queued);
    field(out, b",\"optmem\":", *optmem);
    opt_num(out, b",\"backlog\":", *backlog);
    opt_num(out, b",\"drops\":", *drops);
    out.push(b'}');
}

/// The largest tcp_info encoding: every field present at its type's maximum (a test checks it).
const TCP_INFO_MAX: usize = 2048;

fn tcp_info_json(out: &mut Vec<u8>, t: &TcpInfo) {
    let mut f = Fixed::<TCP_INFO_MAX>::new();
    tcp_info_fields(&mut f, t);
    out.extend_from_slice(f.bytes());
}

fn tcp_info_fields(out: &mut impl Sink, t: &TcpInfo) {
    // Every numeric field, in the declaration's order (model::tcpinfo declares them once).
    t.json_numbers(|key, v| field(out, key, v));
    match t.delivery_rate_app_limited() {
        Some(true) => out.put(b",\"delivery_rate_app_limited\":true"),
        Some(false) => out.put(b",\"delivery_rate_app_limited\":false"),
        None => {}
    }
    out.byte(b'}');
}

fn unix_json(out: &mut Vec<u8>, u: &UnixInfo) {
    let UnixInfo {
        name,
        r#abstract,
        peer,
        pending,
        backlog,
        vfs_inode,
        vfs_dev,
    } = u;
    // serde_json writes the first present field without a comma: track it.
    let mut sep: &[u8] = b"{";
    let mut key = |out: &mut Vec<u8>, k: &[u8]| {
        out.extend_from_slice(sep);
        out.extend_from_slice(k);
        sep = b",";
    };
    if let Some(n) = name {
        key(out, b"\"name\":");
        byte_string(out, n);
    }
    if *r#abstract {
        key(out, b"\"abstract\":true");
    }
    if let Some(p) = peer {
        key(out, b"\"peer\":");
        num(out, *p);
    }
    if !pending.is_empty() {
        key(out, b"\"pending\":[");
        for (i, p) in pending.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            num(out, *p);
        }
        out.push(b']');
    }
    if let Some(b) = backlog {
        key(out, b"\"backlog\":");
        num(out, *b);
    }
    if let Some(v) = vfs_inode {
        key(out, b"\"vfs_inode\":");
        num(out, *v);
    }
    if let Some(v) = vfs_dev {
        key(out, b"\"vfs_dev\":");
        num(out, *v);
    }
    if sep == b"{" {
        out.push(b'{');
    }
    out.push(b'}');
}

fn packet_json(out: &mut Vec<u8>, p: &PacketInfo) {
    let PacketInfo {
        ethertype,
        version,
        copy_thresh,
        flags,
        rx_ring,
        tx_ring,
        fanout,
        bpf,
    } = p;
    field(out, b"{\"ethertype\":", *ethertype);
    opt_num(out, b",\"version\":", *version);
    opt_num(out, b",\"copy_thresh\":", *copy_thresh);
    opt_num(out, b",\"flags\":", *flags);
    part(out, b",\"rx_ring\":", rx_ring, ring_json);
    part(out, b",\"tx_ring\":", tx_ring, ring_json);
    opt_num(out, b",\"fanout\":", *fanout);
    if let Some(prog) = bpf {
        out.extend_from_slice(b",\"bpf\":[");
        for (i, BpfInsn { code, jt, jf, k }) in prog.iter().enumerate() {
            out.extend_from_slice(if i == 0 {
                b"{\"code\":"
            } else {
                b",{\"code\":"
            });
            num(out, *code);
            field(out, b",\"jt\":", *jt);
            field(out, b",\"jf\":", *jf);
            field(out, b",\"k\":", *k);
            out.push(b'}');
        }
        out.push(b']');
    }
    out.push(b'}');
}

fn netlink_json(out: &mut Vec<u8>, n: &NetlinkInfo) {
    let NetlinkInfo {
        protocol,
        r#type,
        portid,
        dst_portid,
        dst_group,
        groups,
        flags,
    } = n;
    field(out, b"{\"protocol\":", *protocol);
    out.extend_from_slice(b",\"type\":");
    string(out, r#type);
    field(out, b",\"portid\":", *portid);
    opt_num(out, b",\"dst_portid\":", *dst_portid);
    opt_num(out, b",\"dst_group\":", *dst_group);
    if !groups.is_empty() {
        out.extend_from_slice(b",\"groups\":[");
        for (i, g) in groups.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            num(out, *g);
        }
        out.push(b']');
    }
    opt_num(out, b",\"flags\":", *flags);
    out.push(b'}');
}

/// Where the number writers put bytes: the output `Vec`, or a [`Fixed`] buffer.
trait Sink {
    fn put(&mut self, b: &[u8]);
    fn byte(&mut self, b: u8);
}

impl Sink for Vec<u8> {
    #[inline]
    fn put(&mut self, b: &[u8]) {
        self.extend_from_slice(b);
    }
    #[inline]
    fn byte(&mut self, b: u8) {
        self.push(b);
    }
}

/// A stack buffer for a part whose largest encoding is known (tcp_info: 54 numeric fields).
/// Writing its keys and numbers there, then into the output once, keeps ~110 capacity checks
/// and their grow paths out of the loop; with them, rustc's inlining of the whole part depended
/// on how the crate happened to be split into codegen units (the JSON phase moved between 77
/// and 110 ms at 100k sockets from unrelated changes, measured 2026-11-28).
struct Fixed<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> Fixed<N> {
    fn new() -> Self {
        Fixed {
            buf: [0; N],
            len: 0,
        }
    }
    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl<const N: usize> Sink for Fixed<N> {
    #[inline(always)]
    fn put(&mut self, b: &[u8]) {
        self.buf[self.len..self.len + b.len()].copy_from_slice(b);
        self.len += b.len();
    }
    #[inline(always)]
    fn byte(&mut self, b: u8) {
        self.buf[self.len] = b;
        self.len += 1;
    }
}

/// An unsigned integer. Most tcp_info counters are single digits (often 0): those are one byte,
/// without itoa's buffer and the copy out of it.
#[inline]
fn num(out: &mut impl Sink, n: impl Into<u64>) {
    let n: u64 = n.into();
    if n < 10 {
        out.byte(b'0' + n as u8);
    } else {
        out.put(itoa::Buffer::new().format(n).as_bytes());
    }
}

#[inline]
fn field(out: &mut impl Sink, key: &[u8], n: impl Into<u64>) {
    out.put(key);
    num(out, n);
}

#[inline]
fn opt_num(out: &mut impl Sink, key: &[u8], n: Option<impl Into<u64>>) {
    if let Some(n) = n {
        field(out, key, n);
    }
}

/// A JSON string as serde_json writes it: only `"`, `\\` and control characters are escaped.
fn string(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        // Writing to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

fn byte_string(out: &mut Vec<u8>, b: &ByteString) {
    match std::str::from_utf8(b.as_bytes()) {
        Ok(s) => string(out, s),
        Err(_) => {
            let _ = serde_json::to_writer(&mut *out, b);
        }
    }
}

#[cfg(test)]
mod tests;
