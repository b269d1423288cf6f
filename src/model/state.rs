//! Socket states, with the kernel's numbers, `ss`'s names and `ss`'s state groups.

vocabulary! {
    /// The kernel's TCP state numbering (include/net/tcp_states.h), which sock_diag uses for
    /// every family. UDP, raw, unix and packet sockets are `Close` when unconnected (`ss`:
    /// UNCONN). Names are those of JSON, rules and `state NAME`.
    pub enum State {
        /// Connected: the handshake is done and data flows both ways.
        Established = 1 => "established",
        /// connect() sent a SYN and waits for the peer's answer.
        SynSent = 2 => "syn-sent",
        /// A connection being set up on a listener: SYN received and answered, final ACK awaited.
        /// No process holds it yet (inode 0).
        SynRecv = 3 => "syn-recv",
        /// Closed by this side: FIN sent, not yet acknowledged.
        FinWait1 = 4 => "fin-wait-1",
        /// Closed by this side, FIN acknowledged: waiting for the peer to close.
        FinWait2 = 5 => "fin-wait-2",
        /// Closed on both sides and kept for a while (60 s on Linux) so that late segments are not
        /// taken for a new connection. No process holds it (inode 0).
        TimeWait = 6 => "time-wait",
        /// Unconnected (`ss`: UNCONN): a UDP, raw, unix or packet socket with no peer. A TCP socket
        /// that sock_diag reports in this state is recorded as [`State::BoundInactive`].
        Close = 7 => "close",
        /// The peer closed, this side has not yet: many that stay point to an application that does
        /// not close its sockets.
        CloseWait = 8 => "close-wait",
        /// Closed by this side after the peer: waiting for the acknowledgment of its FIN.
        LastAck = 9 => "last-ack",
        /// Accepting connections (TCP, unix stream and seqpacket).
        Listen = 10 => "listen",
        /// Both sides closed at once: waiting for the acknowledgment of this side's FIN.
        Closing = 11 => "closing",
        /// The kernel's state for a connection request (TCP_NEW_SYN_RECV). sock_diag reports
        /// request sockets as [`State::SynRecv`], so snapshots normally do not hold it; `ss` shows
        /// it as SYN-RECV.
        NewSynRecv = 12 => "new-syn-recv",
        /// A TCP socket bound to a port but neither listening nor connected (kernel ≥ 6.5
        /// reports it when asked for state 13; it arrives as CLOSE and is renamed here).
        BoundInactive = 13 => "bound-inactive",
    }
}

impl State {
    /// The state with the kernel's number `n`.
    pub fn from_kernel(n: u8) -> Option<State> {
        State::ALL.get(usize::from(n).wrapping_sub(1)).copied()
    }

    /// The kernel's number for the state.
    pub const fn kernel(self) -> u8 {
        self as u8
    }

    /// The state's bit in the kernel's `idiag_states` mask (bit n = state n).
    pub const fn kernel_bit(self) -> u32 {
        1 << (self as u32)
    }

    /// The State column of `ss`.
    pub fn ss_name(self) -> &'static str {
        match self {
            State::Established => "ESTAB",
            State::SynSent => "SYN-SENT",
            State::SynRecv | State::NewSynRecv => "SYN-RECV",
            State::FinWait1 => "FIN-WAIT-1",
            State::FinWait2 => "FIN-WAIT-2",
            State::TimeWait => "TIME-WAIT",
            State::Close | State::BoundInactive => "UNCONN",
            State::CloseWait => "CLOSE-WAIT",
            State::LastAck => "LAST-ACK",
            State::Listen => "LISTEN",
            State::Closing => "CLOSING",
        }
    }
}

/// A set of states, as a bitmask over the kernel numbers (bit n = state n).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct StateSet(pub u32);

impl StateSet {
    /// Every state, bound-inactive included: what `snapshot` asks the kernel for.
    pub const ALL: StateSet = StateSet(0x3ffe);
    /// `ss` 6.1's `all`: every state but bound-inactive. Asking for bound-inactive makes the
    /// kernel walk the bind hash (+54 ms at 100k sockets, research/bench.md), so `list` asks only
    /// when `state bound-inactive` is named.
    pub const SS_ALL: StateSet = StateSet(0x1ffe);
    /// No state at all.
    pub const EMPTY: StateSet = StateSet(0);

    /// The set of the given states.
    pub fn of(states: &[State]) -> StateSet {
        StateSet(states.iter().fold(0, |m, s| m | s.kernel_bit()))
    }

    /// Whether `s` is in the set.
    pub fn contains(self, s: State) -> bool {
        self.0 & s.kernel_bit() != 0
    }

    /// The states in either set.
    pub fn union(self, o: StateSet) -> StateSet {
        StateSet(self.0 | o.0)
    }

    /// The states of `self` that are not in `o`.
    pub fn minus(self, o: StateSet) -> StateSet {
        StateSet(self.0 & !o.0)
    }

    /// Whether the set holds no state.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// `ss`'s default for connection-oriented tables: all but LISTEN, CLOSE, TIME-WAIT, SYN-RECV.
    pub fn ss_connected_default() -> StateSet {
        StateSet::ALL.minus(StateSet::of(&[
            State::Listen,
            State::Close,
            State::TimeWait,
            State::SynRecv,
            State::NewSynRecv,
            State::BoundInactive,
        ]))
    }

    /// Parse one of `ss`'s state names or groups (case-insensitive), as `state NAME` takes them.
    pub fn parse_ss(name: &str) -> Result<StateSet, UnknownState> {
        let lower = name.to_ascii_lowercase();
        let single = |s: &[State]| Ok(StateSet::of(s));
        match lower.as_str() {
            "established" => single(&[State::Established]),
            "syn-sent" => single(&[State::SynSent]),
            "syn-recv" | "syn-rcv" => single(&[State::SynRecv, State::NewSynRecv]),
            "fin-wait-1" => single(&[State::FinWait1]),
            "fin-wait-2" => single(&[State::FinWait2]),
            "time-wait" => single(&[State::TimeWait]),
            "closed" | "close" | "unconnected" => single(&[State::Close]),
            "close-wait" => single(&[State::CloseWait]),
            "last-ack" => single(&[State::LastAck]),
            "listening" | "listen" => single(&[State::Listen]),
            "closing" => single(&[State::Closing]),
            "bound-inactive" => single(&[State::BoundInactive]),
            "all" => Ok(StateSet::SS_ALL),
            "connected" => Ok(StateSet::SS_ALL.minus(StateSet::of(&[
                State::Close,
                State::Listen,
                State::BoundInactive,
            ]))),
            "synchronized" => Ok(StateSet::SS_ALL.minus(StateSet::of(&[
                State::Close,
                State::Listen,
                State::SynSent,
                State::BoundInactive,
            ]))),
            "bucket" => single(&[State::SynRecv, State::NewSynRecv, State::TimeWait]),
            "big" => Ok(StateSet::SS_ALL.minus(StateSet::of(&[
                State::SynRecv,
                State::NewSynRecv,
                State::TimeWait,
            ]))),
            _ => Err(UnknownState(name.to_owned())),
        }
    }
}

/// A name `ss` does not take as a state or state group.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown state '{0}': expected one of established, syn-sent, syn-recv, fin-wait-1, \
     fin-wait-2, time-wait, closed, close-wait, last-ack, listening, closing, bound-inactive, \
     all, connected, synchronized, bucket, big"
)]
pub struct UnknownState(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_numbers_round_trip() {
        for s in State::ALL {
            assert_eq!(State::from_kernel(s as u8), Some(s));
        }
        assert_eq!(State::from_kernel(0), None);
        assert_eq!(State::from_kernel(14), None);
        assert_eq!(State::from_kernel(10), Some(State::Listen));
    }

    #[test]
    fn ss_groups_match_ss_definitions() {
        let connected = StateSet::parse_ss("connected").unwrap();
        assert!(connected.contains(State::Established));
        assert!(connected.contains(State::TimeWait));
        assert!(!connected.contains(State::Listen));
        assert!(!connected.contains(State::Close));
        let sync = StateSet::parse_ss("synchronized").unwrap();
        assert!(!sync.contains(State::SynSent));
        assert!(sync.contains(State::Established));
        let bucket = StateSet::parse_ss("bucket").unwrap();
        assert_eq!(
            bucket,
            StateSet::of(&[State::SynRecv, State::NewSynRecv, State::TimeWait])
        );
        let big = StateSet::parse_ss("BIG").unwrap();
        assert!(big.contains(State::Listen) && !big.contains(State::TimeWait));
        assert_eq!(StateSet::parse_ss("all").unwrap(), StateSet::SS_ALL);
        assert!(!StateSet::SS_ALL.contains(State::BoundInactive));
        assert!(StateSet::ALL.contains(State::BoundInactive));
        assert!(StateSet::parse_ss("sleeping").is_err());
        let d = StateSet::ss_connected_default();
        assert!(d.contains(State::SynSent) && !d.contains(State::Listen));
    }

    #[test]
    fn json_names_are_kebab_case() {
        for s in State::ALL {
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.name()));
        }
    }
}
