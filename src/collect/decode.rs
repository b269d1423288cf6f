//! Why a netlink reply could not be decoded: one error type for every sock_diag decoder and the
//! frame splitter, so callers (the dump loop counts them as `decode_error`, the fuzz targets and
//! tests match on them) see what went wrong without parsing message text.

/// The reply a decoder was reading, as the kernel's headers name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// `struct inet_diag_msg` (TCP, UDP, raw).
    Inet,
    /// `struct unix_diag_msg`.
    Unix,
    /// `struct packet_diag_msg`.
    Packet,
    /// `struct netlink_diag_msg`.
    Netlink,
}

impl std::fmt::Display for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Reply::Inet => "inet_diag",
            Reply::Unix => "unix_diag",
            Reply::Packet => "packet_diag",
            Reply::Netlink => "netlink_diag",
        })
    }
}

/// What was wrong with a reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Shorter than its fixed header.
    #[error("{reply} reply: {len} bytes, expected at least {need}")]
    Short {
        /// The reply kind.
        reply: Reply,
        /// Bytes received.
        len: usize,
        /// Bytes the header needs.
        need: usize,
    },
    /// An address family the request did not ask for.
    #[error("{reply} reply: address family {family}")]
    Family {
        /// The reply kind.
        reply: Reply,
        /// The family byte.
        family: u8,
    },
    /// A socket type this decoder does not know.
    #[error("{reply} reply: socket type {kind}")]
    SocketType {
        /// The reply kind.
        reply: Reply,
        /// The type byte.
        kind: u8,
    },
    /// A state number outside the kernel's TCP states.
    #[error("{reply} reply: unknown state {state}")]
    State {
        /// The reply kind.
        reply: Reply,
        /// The state byte.
        state: u8,
    },
    /// The fixed header did not parse (the parser's reason).
    #[error("{reply} reply: {reason}")]
    Header {
        /// The reply kind.
        reply: Reply,
        /// What the parser said.
        reason: String,
    },
    /// An attribute did not parse (the parser's reason).
    #[error("{reply} reply attribute: {reason}")]
    Attribute {
        /// The reply kind.
        reply: Reply,
        /// What the parser said.
        reason: String,
    },
    /// A packet socket's filter attribute is not a whole number of 8-byte instructions.
    #[error("packet_diag filter: {len} bytes is not a whole number of instructions")]
    Filter {
        /// The attribute's length.
        len: usize,
    },
    /// A netlink message header that does not fit the buffer: nothing after it can be trusted.
    #[error("malformed netlink header: {0}")]
    Frame(String),
}
