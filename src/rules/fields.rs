//! The one registry of fields a rule can test: name, type, one line of doc, and how to read it
//! from a subject. `sockwarden rules fields` prints it; the rule parser checks every field name
//! and every operator against it, so a typo is an error at load time, never a silent non-match.
//!
//! A subject is one (socket, holder) pair: a socket held by three processes is three subjects,
//! and a socket no process holds (TIME-WAIT, say) is one subject without a process.
//!
//! The file is long on purpose: the ~85 fields are one table, each entry a few lines, kept
//! together so that a field's name, type, documentation and getter are read and reviewed in one
//! place (splitting the table by prefix would only scatter it).

use std::borrow::Cow;
use std::net::IpAddr;

use crate::model::{Family, Kind, Owner, Process, Protocol, Socket, State};
use crate::net::{AddressClass, address_class};

/// What a rule is evaluated against.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// The socket.
    pub socket: &'a Socket,
    /// The (pid, fd) this subject is about: a socket has one subject per owner, or one with `None`
    /// when no process holds it.
    pub owner: Option<Owner>,
    /// The holding process, when the snapshot lists it (a holder whose metadata could not be read
    /// has an owner but no process).
    pub process: Option<&'a Process>,
    /// The holder's parent, when the snapshot lists it. The engine's per-socket pass leaves it
    /// `None` and answers `parent.*` predicates from a per-process memo instead.
    pub parent: Option<&'a Process>,
    /// ip_local_port_range of the snapshot's namespace.
    pub ephemeral: (u16, u16),
    /// The socket's network namespace label (`host`, a /run/netns name, or `ns:INODE`).
    pub netns: Option<&'a str>,
}

/// A field's value in one subject.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// The subject has no such value (no holder for `process.*`, an attribute the kernel did not
    /// send): every operator is false on it except `exists: false`.
    Missing,
    /// A bool field's value.
    Bool(bool),
    /// An int or port field's value.
    Int(i64),
    /// A string or enum field's value; bytes that are not UTF-8 are replaced by U+FFFD.
    Str(Cow<'a, str>),
    /// An address as the kernel gave it (a v4-mapped IPv6 address stays IPv6; operators compare it
    /// as IPv4).
    Ip(IpAddr),
    /// A list field: a predicate holds when it holds for any element.
    Ints(Vec<i64>),
}

/// A field's type: which operators apply to it and how their arguments are parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// `true` or `false`: `eq`, `ne`, `exists` (`in` and `in_list` with a single value only).
    Bool,
    /// A number (decimal, or hex with `0x`): equality, `port`, `gt`, `ge`, `lt`, `le`.
    Int,
    /// A port number: as int, but equality arguments must be decimal ports (0-65535).
    Port,
    /// Text: equality and `regex`, `glob`, `prefix`, `suffix`, `contains`.
    Str,
    /// An IP address: equality with addresses and `cidr`.
    Ip,
    /// A string from a fixed set of values.
    Enum(&'static [&'static str]),
    /// Several numbers (`socket.packet.bpf_k`): the int operators, holding when any element passes.
    IntList,
}

impl FieldType {
    /// The type's name, as `sockwarden rules fields` prints it and errors name it.
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Bool => "bool",
            FieldType::Int => "int",
            FieldType::Port => "port",
            FieldType::Str => "string",
            FieldType::Ip => "ip",
            FieldType::Enum(_) => "enum",
            FieldType::IntList => "list of int",
        }
    }
}

/// One field a condition can test: an entry of the registry that `sockwarden rules fields` prints.
pub struct FieldDef {
    /// The dotted name rules write (`socket.local.port`, `process.exe`, `parent.comm`, `fd`).
    pub name: &'static str,
    /// Its type: which operators apply and how their arguments are parsed.
    pub ty: FieldType,
    /// One line for `sockwarden rules fields`.
    pub doc: &'static str,
    /// Reads the field from a subject; [`Value::Missing`] when the subject has no such value.
    pub get: for<'a> fn(&Subject<'a>) -> Value<'a>,
}

impl std::fmt::Debug for FieldDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.name)
    }
}

/// The values of `socket.protocol`.
pub const PROTOCOLS: &[&str] = &Protocol::NAMES;
/// The values of `socket.kind`.
pub const KINDS: &[&str] = &Kind::NAMES;
/// The values of `socket.family`.
pub const FAMILIES: &[&str] = &Family::NAMES;
/// The values of `socket.state`.
pub const STATES: &[&str] = &State::NAMES;
/// The values of `socket.local.class` and `socket.remote.class`.
pub const ADDRESS_CLASSES: &[&str] = &AddressClass::NAMES;

fn s<'a>(v: &'a str) -> Value<'a> {
    Value::Str(Cow::Borrowed(v))
}
fn int(v: impl Into<i64>) -> Value<'static> {
    Value::Int(v.into())
}
fn opt_int<T: Into<i64>>(v: Option<T>) -> Value<'static> {
    v.map_or(Value::Missing, |v| Value::Int(v.into()))
}
fn bytes<'a>(b: Option<&'a crate::model::ByteString>) -> Value<'a> {
    b.map_or(Value::Missing, |b| Value::Str(b.to_str_lossy()))
}

fn local(x: &Subject) -> Option<crate::model::Endpoint> {
    x.socket.local
}
fn remote(x: &Subject) -> Option<crate::model::Endpoint> {
    x.socket.remote
}

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn cmdline(p: &Process) -> Value<'_> {
    let parts: Vec<_> = p.cmdline.iter().map(|a| a.to_str_lossy()).collect();
    Value::Str(Cow::Owned(parts.join(" ")))
}

/// Fields of a process, for `process.*` and `parent.*`.
macro_rules! process_fields {
    ($prefix:literal, $who:ident, $what:literal) => {
        [
            FieldDef {
                name: concat!($prefix, ".pid"),
                ty: FieldType::Int,
                doc: concat!("pid of ", $what),
                get: |x| x.$who.map_or(Value::Missing, |p| int(p.pid)),
            },
            FieldDef {
                name: concat!($prefix, ".ppid"),
                ty: FieldType::Int,
                doc: concat!("parent pid of ", $what),
                get: |x| x.$who.map_or(Value::Missing, |p| int(p.ppid)),
            },
            FieldDef {
                name: concat!($prefix, ".comm"),
                ty: FieldType::Str,
                doc: concat!("name (comm, 15 bytes, chosen by the process) of ", $what),
                get: |x| bytes(x.$who.map(|p| &p.comm)),
            },
            FieldDef {
                name: concat!($prefix, ".exe"),
                ty: FieldType::Str,
                doc: concat!("executable path of ", $what, ", without \" (deleted)\""),
                get: |x| bytes(x.$who.and_then(|p| p.exe.as_ref())),
            },
            FieldDef {
                name: concat!($prefix, ".exe_name"),
                ty: FieldType::Str,
                doc: concat!("basename of the executable of ", $what),
                get: |x| match x.$who.and_then(|p| p.exe.as_ref()) {
                    Some(e) => Value::Str(Cow::Owned(basename(&e.to_str_lossy()).to_string())),
                    None => Value::Missing,
                },
            },
            FieldDef {
                name: concat!($prefix, ".exe_deleted"),
                ty: FieldType::Bool,
                doc: concat!("the executable of ", $what, " was deleted after it started"),
                get: |x| {
                    x.$who
                        .map_or(Value::Missing, |p| Value::Bool(p.exe_deleted))
                },
            },
            FieldDef {
                name: concat!($prefix, ".exe_memfd"),
                ty: FieldType::Bool,
                doc: concat!($what, " runs from an anonymous memfd (fileless)"),
                get: |x| x.$who.map_or(Value::Missing, |p| Value::Bool(p.exe_memfd)),
            },
            FieldDef {
                name: concat!($prefix, ".cmdline"),
                ty: FieldType::Str,
                doc: concat!("argv of ", $what, " joined with spaces"),
                get: |x| x.$who.map_or(Value::Missing, cmdline),
            },
            FieldDef {
                name: concat!($prefix, ".argv0"),
                ty: FieldType::Str,
                doc: concat!("argv[0] of ", $what),
                get: |x| bytes(x.$who.and_then(|p| p.cmdline.first())),
            },
            FieldDef {
                name: concat!($prefix, ".user"),
                ty: FieldType::Str,
                doc: concat!("user name of ", $what, " (real uid)"),
                get: |x| {
                    x.$who
                        .and_then(|p| p.user.as_deref())
                        .map_or(Value::Missing, s)
                },
            },
            FieldDef {
                name: concat!($prefix, ".uid"),
                ty: FieldType::Int,
                doc: concat!("real uid of ", $what),
                get: |x| x.$who.map_or(Value::Missing, |p| int(p.uid)),
            },
            FieldDef {
                name: concat!($prefix, ".euid"),
                ty: FieldType::Int,
                doc: concat!("effective uid of ", $what),
                get: |x| x.$who.map_or(Value::Missing, |p| int(p.euid)),
            },
            FieldDef {
                name: concat!($prefix, ".cgroup"),
                ty: FieldType::Str,
                doc: concat!("cgroup path of ", $what),
                get: |x| {
                    x.$who
                        .and_then(|p| p.cgroup.as_deref())
                        .map_or(Value::Missing, s)
                },
            },
            FieldDef {
                name: concat!($prefix, ".container.id"),
                ty: FieldType::Str,
                doc: concat!("container id of ", $what, ", from its cgroup"),
                get: |x| {
                    x.$who
                        .and_then(|p| p.container.as_ref())
                        .map_or(Value::Missing, |c| s(&c.id))
                },
            },
            FieldDef {
                name: concat!($prefix, ".container.runtime"),
                ty: FieldType::Str,
                doc: concat!(
                    "container runtime of ",
                    $what,
                    " (docker, containerd, cri-o, podman, kubepods, lxc, systemd-nspawn)"
                ),
                get: |x| {
                    x.$who
                        .and_then(|p| p.container.as_ref())
                        .map_or(Value::Missing, |c| s(&c.runtime))
                },
            },
            FieldDef {
                name: concat!($prefix, ".container.pod_uid"),
                ty: FieldType::Str,
                doc: concat!("Kubernetes pod uid of ", $what),
                get: |x| {
                    x.$who
                        .and_then(|p| p.container.as_ref())
                        .and_then(|c| c.pod_uid.as_deref())
                        .map_or(Value::Missing, s)
                },
            },
            FieldDef {
                name: concat!($prefix, ".netns"),
                ty: FieldType::Int,
                doc: concat!("network namespace inode of ", $what),
                get: |x| {
                    x.$who
                        .map_or(Value::Missing, |p| opt_int(p.netns.map(|n| n as i64)))
                },
            },
        ]
    };
}

static PROCESS: [FieldDef; 17] =
    process_fields!("process", process, "the process holding the socket");
static PARENT: [FieldDef; 17] =
    process_fields!("parent", parent, "the parent of the holding process");

static SOCKET: &[FieldDef] = &[
    FieldDef {
        name: "socket.protocol",
        ty: FieldType::Enum(PROTOCOLS),
        doc: "tcp, udp, raw, unix_stream, unix_dgram, unix_seqpacket, packet_raw, packet_dgram",
        get: |x| s(x.socket.protocol.name()),
    },
    FieldDef {
        name: "socket.kind",
        ty: FieldType::Enum(KINDS),
        doc: "tcp, udp, raw, unix or packet",
        get: |x| s(x.socket.protocol.kind().name()),
    },
    FieldDef {
        name: "socket.family",
        ty: FieldType::Enum(FAMILIES),
        doc: "inet, inet6, unix, packet",
        get: |x| s(x.socket.family.name()),
    },
    FieldDef {
        name: "socket.state",
        ty: FieldType::Enum(STATES),
        doc: "state: listen, established, syn-sent, close (unconnected), time-wait, ...",
        get: |x| s(x.socket.state.name()),
    },
    FieldDef {
        name: "socket.local.address",
        ty: FieldType::Ip,
        doc: "local IP address (v4-mapped IPv6 kept; cidr matches it against IPv4 nets)",
        get: |x| local(x).map_or(Value::Missing, |e| Value::Ip(e.address)),
    },
    FieldDef {
        name: "socket.local.port",
        ty: FieldType::Port,
        doc: "local port (raw sockets: the IP protocol number)",
        get: |x| local(x).map_or(Value::Missing, |e| int(e.port)),
    },
    FieldDef {
        name: "socket.local.class",
        ty: FieldType::Enum(ADDRESS_CLASSES),
        doc: "class of the local address: unspecified, loopback, private, link-local, shared, documentation, multicast, reserved, public",
        get: |x| local(x).map_or(Value::Missing, |e| s(address_class(e.address).name())),
    },
    FieldDef {
        name: "socket.local.any",
        ty: FieldType::Bool,
        doc: "bound to all interfaces (0.0.0.0 or ::)",
        get: |x| local(x).map_or(Value::Missing, |e| Value::Bool(e.address.is_unspecified())),
    },
    FieldDef {
        name: "socket.local.ephemeral",
        ty: FieldType::Bool,
        doc: "local port inside ip_local_port_range (an outgoing connection's port)",
        get: |x| {
            local(x).map_or(Value::Missing, |e| {
                Value::Bool(crate::net::is_ephemeral(e.port, x.ephemeral))
            })
        },
    },
    FieldDef {
        name: "socket.remote.address",
        ty: FieldType::Ip,
        doc: "remote IP address",
        get: |x| remote(x).map_or(Value::Missing, |e| Value::Ip(e.address)),
    },
    FieldDef {
        name: "socket.remote.port",
        ty: FieldType::Port,
        doc: "remote port (0 when not connected)",
        get: |x| remote(x).map_or(Value::Missing, |e| int(e.port)),
    },
    FieldDef {
        name: "socket.remote.class",
        ty: FieldType::Enum(ADDRESS_CLASSES),
        doc: "class of the remote address (see socket.local.class)",
        get: |x| remote(x).map_or(Value::Missing, |e| s(address_class(e.address).name())),
    },
    FieldDef {
        name: "socket.interface",
        ty: FieldType::Str,
        doc: "bound interface name (SO_BINDTODEVICE, IPv6 scope, packet socket's interface)",
        get: |x| x.socket.interface.as_deref().map_or(Value::Missing, s),
    },
    FieldDef {
        name: "socket.uid",
        ty: FieldType::Int,
        doc: "uid the kernel records for the socket (its creator)",
        get: |x| opt_int(x.socket.uid),
    },
    FieldDef {
        name: "socket.inode",
        ty: FieldType::Int,
        doc: "socket inode (0 when no process holds it)",
        get: |x| int(x.socket.inode as i64),
    },
    FieldDef {
        name: "socket.recv_q",
        ty: FieldType::Int,
        doc: "receive queue (listeners: accept queue)",
        get: |x| int(x.socket.recv_q),
    },
    FieldDef {
        name: "socket.send_q",
        ty: FieldType::Int,
        doc: "send queue (listeners: backlog)",
        get: |x| int(x.socket.send_q),
    },
    FieldDef {
        name: "socket.mark",
        ty: FieldType::Int,
        doc: "SO_MARK / fwmark",
        get: |x| opt_int(x.socket.mark),
    },
    FieldDef {
        name: "socket.v6only",
        ty: FieldType::Bool,
        doc: "IPV6_V6ONLY of an IPv6 listener",
        get: |x| x.socket.v6only.map_or(Value::Missing, Value::Bool),
    },
    FieldDef {
        name: "socket.shutdown",
        ty: FieldType::Int,
        doc: "shutdown bits: 1 no more receives, 2 no more sends",
        get: |x| opt_int(x.socket.shutdown),
    },
    FieldDef {
        name: "socket.uid_is_holder",
        ty: FieldType::Bool,
        doc: "the socket's creator uid equals the holding process's uid (false: the socket changed hands, e.g. after privilege escalation)",
        get: |x| match (x.socket.uid, x.process) {
            (Some(u), Some(p)) => Value::Bool(u == p.uid),
            _ => Value::Missing,
        },
    },
    FieldDef {
        name: "socket.netns.inode",
        ty: FieldType::Int,
        doc: "inode of the socket's network namespace (set by --all-netns and --netns)",
        get: |x| opt_int(x.socket.netns.map(|n| n as i64)),
    },
    FieldDef {
        name: "socket.netns.name",
        ty: FieldType::Str,
        doc: "the socket's network namespace: host, its name under /run/netns, or ns:INODE",
        get: |x| x.netns.map_or(Value::Missing, s),
    },
    FieldDef {
        name: "socket.owned",
        ty: FieldType::Bool,
        doc: "some process holds the socket",
        get: |x| Value::Bool(!x.socket.owners.is_empty()),
    },
    FieldDef {
        name: "socket.timer.kind",
        ty: FieldType::Str,
        doc: "active timer: on, keepalive, timewait, persist, delack",
        get: |x| {
            x.socket
                .timer
                .as_ref()
                .map_or(Value::Missing, |t| s(&t.kind))
        },
    },
    FieldDef {
        name: "socket.timer.expires_ms",
        ty: FieldType::Int,
        doc: "ms until the timer fires",
        get: |x| {
            x.socket
                .timer
                .as_ref()
                .map_or(Value::Missing, |t| int(t.expires_ms))
        },
    },
    FieldDef {
        name: "socket.timer.retrans",
        ty: FieldType::Int,
        doc: "retransmissions of the timer",
        get: |x| {
            x.socket
                .timer
                .as_ref()
                .map_or(Value::Missing, |t| int(t.retrans))
        },
    },
    FieldDef {
        name: "socket.tcp.congestion",
        ty: FieldType::Str,
        doc: "congestion control algorithm",
        get: |x| x.socket.congestion.as_deref().map_or(Value::Missing, s),
    },
    FieldDef {
        name: "socket.tcp.rtt_us",
        ty: FieldType::Int,
        doc: "smoothed round-trip time, µs",
        get: |x| {
            x.socket
                .tcp_info
                .as_ref()
                .map_or(Value::Missing, |t| int(t.rtt))
        },
    },
    FieldDef {
        name: "socket.tcp.rttvar_us",
        ty: FieldType::Int,
        doc: "round-trip time variance, µs",
        get: |x| {
            x.socket
                .tcp_info
                .as_ref()
                .map_or(Value::Missing, |t| int(t.rttvar))
        },
    },
    FieldDef {
        name: "socket.tcp.cwnd",
        ty: FieldType::Int,
        doc: "congestion window, segments",
        get: |x| {
            x.socket
                .tcp_info
                .as_ref()
                .map_or(Value::Missing, |t| int(t.snd_cwnd))
        },
    },
    FieldDef {
        name: "socket.tcp.retransmits",
        ty: FieldType::Int,
        doc: "retransmissions of the current segment",
        get: |x| {
            x.socket
                .tcp_info
                .as_ref()
                .map_or(Value::Missing, |t| int(t.retransmits))
        },
    },
    FieldDef {
        name: "socket.tcp.total_retrans",
        ty: FieldType::Int,
        doc: "retransmissions over the connection's life",
        get: |x| {
            x.socket
                .tcp_info
                .as_ref()
                .map_or(Value::Missing, |t| opt_int(t.total_retrans))
        },
    },
    FieldDef {
        name: "socket.tcp.bytes_sent",
        ty: FieldType::Int,
        doc: "bytes sent, retransmissions included",
        get: |x| {
            x.socket
                .tcp_info
                .as_ref()
                .map_or(Value::Missing, |t| opt_int(t.bytes_sent.map(|v| v as i64)))
        },
    },
    FieldDef {
        name: "socket.tcp.bytes_acked",
        ty: FieldType::Int,
        doc: "bytes sent and acknowledged by the peer",
        get: |x| {
            x.socket
                .tcp_info
                .as_ref()
                .map_or(Value::Missing, |t| opt_int(t.bytes_acked.map(|v| v as i64)))
        },
    },
    FieldDef {
        name: "socket.tcp.bytes_received",
        ty: FieldType::Int,
        doc: "bytes received",
        get: |x| {
            x.socket.tcp_info.as_ref().map_or(Value::Missing, |t| {
                opt_int(t.bytes_received.map(|v| v as i64))
            })
        },
    },
    FieldDef {
        name: "socket.tcp.segs_out",
        ty: FieldType::Int,
        doc: "segments sent",
        get: |x| {
            x.socket
                .tcp_info
                .as_ref()
                .map_or(Value::Missing, |t| opt_int(t.segs_out))
        },
    },
    FieldDef {
        name: "socket.tcp.segs_in",
        ty: FieldType::Int,
        doc: "segments received",
        get: |x| {
            x.socket
                .tcp_info
                .as_ref()
                .map_or(Value::Missing, |t| opt_int(t.segs_in))
        },
    },
    FieldDef {
        name: "socket.tcp.last_data_sent_ms",
        ty: FieldType::Int,
        doc: "ms since data was last sent",
        get: |x| {
            x.socket
                .tcp_info
                .as_ref()
                .map_or(Value::Missing, |t| int(t.last_data_sent))
        },
    },
    FieldDef {
        name: "socket.tcp.last_data_recv_ms",
        ty: FieldType::Int,
        doc: "ms since data was last received",
        get: |x| {
            x.socket
                .tcp_info
                .as_ref()
                .map_or(Value::Missing, |t| int(t.last_data_recv))
        },
    },
    FieldDef {
        name: "socket.memory.rmem_alloc",
        ty: FieldType::Int,
        doc: "receive memory in use",
        get: |x| {
            x.socket
                .memory
                .map_or(Value::Missing, |m| int(m.rmem_alloc))
        },
    },
    FieldDef {
        name: "socket.memory.wmem_queued",
        ty: FieldType::Int,
        doc: "send memory queued",
        get: |x| {
            x.socket
                .memory
                .map_or(Value::Missing, |m| int(m.wmem_queued))
        },
    },
    FieldDef {
        name: "socket.memory.drops",
        ty: FieldType::Int,
        doc: "packets dropped",
        get: |x| x.socket.memory.map_or(Value::Missing, |m| opt_int(m.drops)),
    },
    FieldDef {
        name: "socket.unix.name",
        ty: FieldType::Str,
        doc: "unix socket path, or abstract name with a leading @",
        get: |x| unix_name(x),
    },
    FieldDef {
        name: "socket.unix.abstract",
        ty: FieldType::Bool,
        doc: "the unix name is abstract (no file)",
        get: |x| {
            x.socket
                .unix
                .as_ref()
                .map_or(Value::Missing, |u| Value::Bool(u.r#abstract))
        },
    },
    FieldDef {
        name: "socket.unix.peer",
        ty: FieldType::Int,
        doc: "inode of the connected unix peer",
        get: |x| {
            x.socket
                .unix
                .as_ref()
                .map_or(Value::Missing, |u| opt_int(u.peer.map(|v| v as i64)))
        },
    },
    FieldDef {
        name: "socket.packet.type",
        ty: FieldType::Enum(&["raw", "dgram"]),
        doc: "packet socket type: raw (with link header) or dgram",
        get: |x| match x.socket.protocol {
            Protocol::PacketRaw => s("raw"),
            Protocol::PacketDgram => s("dgram"),
            _ => Value::Missing,
        },
    },
    FieldDef {
        name: "socket.packet.ethertype",
        ty: FieldType::Int,
        doc: "packet socket's ethertype (3 = all, 2048 = IPv4, 2054 = ARP, 34525 = IPv6, 34958 = EAPOL)",
        get: |x| {
            x.socket
                .packet
                .as_ref()
                .map_or(Value::Missing, |p| int(p.ethertype))
        },
    },
    FieldDef {
        name: "socket.packet.bpf",
        ty: FieldType::Bool,
        doc: "a classic BPF program is attached to the packet socket",
        get: |x| {
            x.socket
                .packet
                .as_ref()
                .map_or(Value::Missing, |p| Value::Bool(p.bpf.is_some()))
        },
    },
    FieldDef {
        name: "socket.packet.bpf_len",
        ty: FieldType::Int,
        doc: "number of instructions in the attached BPF program",
        get: |x| {
            x.socket.packet.as_ref().map_or(Value::Missing, |p| {
                int(p.bpf.as_ref().map_or(0, |b| b.len() as i64))
            })
        },
    },
    FieldDef {
        name: "socket.packet.bpf_k",
        ty: FieldType::IntList,
        doc: "the k operands of the BPF program (any element may match)",
        get: |x| {
            x.socket
                .packet
                .as_ref()
                .and_then(|p| p.bpf.as_ref())
                .map_or(Value::Missing, |b| {
                    Value::Ints(b.iter().map(|i| i64::from(i.k)).collect())
                })
        },
    },
    FieldDef {
        name: "fd",
        ty: FieldType::Int,
        doc: "the file descriptor number of the socket in the holding process",
        get: |x| x.owner.map_or(Value::Missing, |o| int(o.fd)),
    },
];

fn unix_name<'a>(x: &Subject<'a>) -> Value<'a> {
    match x
        .socket
        .unix
        .as_ref()
        .and_then(|u| u.name.as_ref().map(|n| (n, u.r#abstract)))
    {
        Some((n, true)) => Value::Str(Cow::Owned(format!("@{}", n.to_str_lossy()))),
        Some((n, false)) => Value::Str(n.to_str_lossy()),
        None => Value::Missing,
    }
}

/// Every field, in display order.
pub fn all() -> impl Iterator<Item = &'static FieldDef> {
    SOCKET.iter().chain(PROCESS.iter()).chain(PARENT.iter())
}

/// Looks a field up by name.
pub fn lookup(name: &str) -> Option<&'static FieldDef> {
    all().find(|f| f.name == name)
}

/// The closest field name, for "did you mean" hints.
pub fn suggest(name: &str) -> Option<&'static str> {
    all()
        .map(|f| (edit_distance(name, f.name), f.name))
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, n)| n)
}

/// The closest of `candidates` to `name` (at most 3 edits away), for "did you mean" hints.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, n)| n)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_documented() {
        let mut names: Vec<_> = all().map(|f| f.name).collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n);
        assert!(all().all(|f| !f.doc.is_empty()));
        assert!(lookup("process.exe").is_some());
        assert_eq!(suggest("proces.exe"), Some("process.exe"));
        assert_eq!(suggest("zzzzzzzzzz"), None);
    }
}
