//! What a run asks the kernel for beyond a socket's identity: the sock_diag extensions
//! (`tcp_info`, congestion control, BBR's model, socket memory) and which `tcp_info` fields it
//! keeps.
//!
//! A snapshot, `list -i`/`-m` and the history take everything ([`Extensions::ALL`]); a scan
//! takes what its rules read, as the rule-field registry (`rules::fields`, each field's
//! `needs`) says, so that a pack reading one `tcp_info` counter pays for that counter only:
//! fewer bytes built by the kernel, copied and decoded, and 16 bytes kept per TCP socket instead
//! of 256 (issue 19; docs/detection.md, "Costs").

use super::{TcpField, TcpFields};

/// The extensions a run collects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Extensions {
    /// The `tcp_info` fields kept (INET_DIAG_INFO): [`TcpFields::ALL`] keeps the whole struct in
    /// `Socket::tcp_info`, fewer keep just those in `Socket::tcp_kept`.
    pub tcp: TcpFields,
    /// The congestion control's name (INET_DIAG_CONG).
    pub congestion: bool,
    /// BBR's model of the path (INET_DIAG_VEGASINFO, answered as INET_DIAG_BBRINFO).
    pub bbr: bool,
    /// Socket memory (INET_DIAG_SKMEMINFO; UNIX_DIAG_MEMINFO).
    pub memory: bool,
}

impl Extensions {
    /// None: `--no-extensions`, and rules that read no extension.
    pub const NONE: Extensions = Extensions {
        tcp: TcpFields::NONE,
        congestion: false,
        bbr: false,
        memory: false,
    };

    /// Everything: what a snapshot records.
    pub const ALL: Extensions = Extensions {
        tcp: TcpFields::ALL,
        congestion: true,
        bbr: true,
        memory: true,
    };

    /// The congestion control's name.
    pub const CONGESTION: Extensions = Extensions {
        congestion: true,
        ..Extensions::NONE
    };

    /// Socket memory.
    pub const MEMORY: Extensions = Extensions {
        memory: true,
        ..Extensions::NONE
    };

    /// One `tcp_info` field.
    pub const fn tcp(f: TcpField) -> Extensions {
        Extensions {
            tcp: TcpFields::of(f),
            ..Extensions::NONE
        }
    }

    /// What either needs.
    #[must_use]
    pub const fn union(self, o: Extensions) -> Extensions {
        Extensions {
            tcp: self.tcp.union(o.tcp),
            congestion: self.congestion || o.congestion,
            bbr: self.bbr || o.bbr,
            memory: self.memory || o.memory,
        }
    }

    /// Whether collecting `self` collects everything `o` needs.
    pub const fn covers(self, o: Extensions) -> bool {
        self.tcp.covers(o.tcp)
            && (self.congestion || !o.congestion)
            && (self.bbr || !o.bbr)
            && (self.memory || !o.memory)
    }

    /// Whether nothing beyond the identity is asked for.
    pub const fn is_none(self) -> bool {
        self.tcp.is_empty() && !self.congestion && !self.bbr && !self.memory
    }
}
