//! Runs a compiled rule set over a snapshot: every (socket, holder) subject against every rule,
//! in parallel with rayon, then groups the hits into findings, sorted deterministically.
//!
//! Cost control: each rule carries the protocols and states its top-level conjunction allows,
//! so most rules are rejected per socket with two bit tests before any field is read. Then a
//! rule's process-only conjuncts are table lookups (computed once per process), and its socket
//! conjuncts are shared facts, computed at most once per subject however many rules test them;
//! enumerations and bools are read as an index into a table of the predicate's answers, without
//! building a field value. Findings are per (rule, socket), listing every matching holder;
//! aggregate rules give one finding per group that passes its threshold.
//!
//! Imported evidence does not tell every field (`meta.evidence.unknown`, docs/import.md): a rule
//! that tests such a field is evaluated for those sockets in three-valued logic, where an
//! unknown predicate is neither true nor false. Only a certain match is a finding; a subject
//! the unknown fields leave undecided is counted by [`undetermined`], never reported clean.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::baseline::Direction;
use crate::model::{Family, Kind, Owner, Protocol, Snapshot, Socket, State};
use crate::net::{AddressClass, address_class};
use crate::rules::condition::Condition;
use crate::rules::fields::{FieldDef, FieldType, Subject, Value, World};
use crate::rules::{Rule, RuleSet};

/// Network namespace labels by inode (see [`Snapshot::netns_label`]): one entry per namespace
/// in the snapshot (usually one), searched in turn for every subject.
struct Labels(Vec<(Option<u64>, String)>);

impl Labels {
    fn get(&self, netns: Option<u64>) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| *n == netns)
            .map(|(_, l)| l.as_str())
    }
}

/// Aggregate groups: (rule, group key) → the (socket, holder) subjects in the group.
type Groups = BTreeMap<(usize, String), Vec<(usize, Option<Owner>)>>;

#[derive(Debug, Clone, PartialEq, Eq)]
/// One rule matching one socket (or, for an aggregate rule, one group of sockets).
pub struct Finding {
    /// Stable across runs for the same rule, socket identity and executables.
    pub id: String,
    /// The index of the rule in the rule set.
    pub rule: usize,
    /// Index into `snapshot.sockets` of the socket (an aggregate's first socket).
    pub socket: usize,
    /// The holders that matched (empty for a socket no process holds).
    pub owners: Vec<Owner>,
    /// Aggregates: the number that passed the threshold, and every socket of the group.
    pub count: Option<u64>,
    /// Every socket of an aggregate group, in order; empty for a per-socket finding.
    pub related: Vec<usize>,
}

/// How one rule is evaluated. Every subtree of its condition and exceptions that reads only the
/// holding process (and its parent) is replaced by a table filled at most once per process: a
/// host has ~100x fewer processes than sockets, and process fields (basename, joined command
/// line) are the ones that cost allocations. What remains reads the socket and runs per subject.
///
/// The tables are filled on first use, not up front: most process-only subtrees are exceptions,
/// read only when the rule's condition already matched, and computing every table for every
/// process was a quarter of the engine's time at 100k sockets over 1,000 processes.
///
/// The top-level conjuncts of `when` that test one socket predicate (or its negation) are not
/// in `when` itself but in `need`: bits of the rule set's shared [`Facts`], each computed at most
/// once per subject whichever rules test it (ten rules ask whether the remote address is in
/// `trusted_networks`; a subject answers once).
///
/// So a rule is decided in three steps, cheapest first: its top-level process-only conjuncts
/// (`first`: one bit of the process's [`Gate`] once its answer is known), its facts, then the
/// rest.
struct Plan<'r> {
    first: Vec<usize>,
    need: Need,
    when: Node<'r>,
    exceptions: Vec<Node<'r>>,
    memo: Vec<Memo<'r>>,
}

/// The facts a rule's conjunction needs (`mask`) and the value each must have (`want`).
#[derive(Clone, Copy, Default)]
struct Need {
    mask: u64,
    want: u64,
}

/// The socket predicates that the rules' top-level conjunctions share, at most 64 (the rest
/// stay in their rules' nodes), interned by their text: the same field, operator and argument
/// (a named list is the same list: every rule of a set is linked against the set's lists, and
/// the compiled matcher is part of the key besides).
#[derive(Default)]
struct Facts<'r> {
    keys: std::collections::HashMap<String, usize>,
    tests: Vec<Test<'r>>,
}

impl<'r> Facts<'r> {
    /// The fact's bit for `c`, a top-level conjunct, and the value it must have; `None` when
    /// `c` is not one socket predicate or its negation, or the table is full.
    fn intern(&mut self, c: &'r Condition) -> Option<(usize, bool)> {
        let (pred, want) = match c {
            Condition::Not(inner) => (&**inner, false),
            c => (c, true),
        };
        let Condition::Pred(p) = pred else {
            return None;
        };
        if pred.process_only() {
            return None;
        }
        let key = format!("{p:?}");
        if let Some(&i) = self.keys.get(&key) {
            return Some((i, want));
        }
        if self.tests.len() == 64 {
            return None;
        }
        self.keys.insert(key, self.tests.len());
        self.tests.push(Test::compile(pred));
        Some((self.tests.len() - 1, want))
    }
}

/// One subject's facts: which are computed (`known`) and their values.
#[derive(Default)]
struct Known {
    known: u64,
    value: u64,
}

impl Known {
    /// Whether every fact `need` names has the value it wants; computes the missing ones in
    /// turn and stops at the first that fails.
    fn hold(&mut self, need: Need, x: &Subject, tests: &[Test]) -> bool {
        if (self.value ^ need.want) & need.mask & self.known != 0 {
            return false;
        }
        let mut todo = need.mask & !self.known;
        while todo != 0 {
            let i = todo.trailing_zeros() as usize;
            let bit = 1u64 << i;
            self.known |= bit;
            if tests[i].eval(x) {
                self.value |= bit;
            }
            if (self.value ^ need.want) & bit != 0 {
                return false;
            }
            todo &= todo - 1;
        }
        true
    }
}

/// A field with few values (an enumeration, or a bool), read as the index of its value without
/// building a [`Value`]: the predicate's answer for every value is tabled when the plan is built.
#[derive(Clone, Copy)]
enum Small {
    Protocol,
    Kind,
    Family,
    State,
    LocalClass,
    RemoteClass,
    Direction,
    /// A bool field, through its getter: 0 false, 1 true.
    Bool(for<'a> fn(&Subject<'a>) -> Value<'a>),
}

impl Small {
    /// The reader for `f` and its values in index order; `None` for a field read otherwise.
    /// An enumeration is read directly only when its declared values are the vocabulary's, in
    /// the vocabulary's order (a test checks each reader against the field's getter).
    fn of(f: &FieldDef) -> Option<(Small, Vec<Value<'static>>)> {
        let strs = |names: &'static [&'static str]| {
            names
                .iter()
                .map(|n| Value::Str(std::borrow::Cow::Borrowed(*n)))
                .collect::<Vec<_>>()
        };
        let (read, names): (Small, &'static [&'static str]) = match f.name {
            "socket.protocol" => (Small::Protocol, &Protocol::NAMES),
            "socket.kind" => (Small::Kind, &Kind::NAMES),
            "socket.family" => (Small::Family, &Family::NAMES),
            "socket.state" => (Small::State, &State::NAMES),
            "socket.local.class" => (Small::LocalClass, &AddressClass::NAMES),
            "socket.remote.class" => (Small::RemoteClass, &AddressClass::NAMES),
            "socket.direction" => (Small::Direction, &Direction::NAMES),
            _ if f.ty == FieldType::Bool => {
                return Some((
                    Small::Bool(f.get),
                    vec![Value::Bool(false), Value::Bool(true)],
                ));
            }
            _ => return None,
        };
        (f.ty == FieldType::Enum(names) && names.len() < 64).then(|| (read, strs(names)))
    }

    /// The index of the subject's value; `None` when it has none.
    #[inline]
    fn read(self, x: &Subject) -> Option<usize> {
        let s = x.socket;
        match self {
            Small::Protocol => Some(s.protocol.index()),
            Small::Kind => Some(s.protocol.kind().index()),
            Small::Family => Some(s.family.index()),
            Small::State => Some(s.state.index()),
            Small::LocalClass => s.local.map(|e| address_class(e.address).index()),
            Small::RemoteClass => s.remote.map(|e| address_class(e.address).index()),
            Small::Direction => x
                .world
                .and_then(|w| w.directions().get(s))
                .map(Direction::index),
            Small::Bool(get) => match get(x) {
                Value::Bool(b) => Some(usize::from(b)),
                _ => None,
            },
        }
    }
}

/// A predicate compiled for evaluation.
enum Test<'r> {
    /// On a [`Small`] field: bit i of `table` is the answer for the value of index i,
    /// `missing` the answer when the subject has no value.
    Table {
        read: Small,
        table: u64,
        missing: bool,
    },
    /// Any other field: its getter and the compiled matcher.
    Generic(&'r Condition),
}

impl<'r> Test<'r> {
    fn compile(c: &'r Condition) -> Test<'r> {
        let Condition::Pred(p) = c else {
            return Test::Generic(c);
        };
        let (Some(m), Some((read, values))) = (&p.matcher, Small::of(p.field)) else {
            return Test::Generic(c);
        };
        let table = values
            .iter()
            .enumerate()
            .filter(|(_, v)| m.matches(v))
            .fold(0u64, |t, (i, _)| t | 1 << i);
        Test::Table {
            read,
            table,
            missing: m.matches(&Value::Missing),
        }
    }

    #[inline]
    fn eval(&self, x: &Subject) -> bool {
        match self {
            Test::Table {
                read,
                table,
                missing,
            } => read.read(x).map_or(*missing, |i| (table >> i) & 1 != 0),
            Test::Generic(c) => c.eval(x),
        }
    }
}

/// One process-only subtree and its results: per process index, and for a subject without a
/// process. 0 = not computed yet, 1 = false, 2 = true. Threads that race on an entry compute the
/// same value.
struct Memo<'r> {
    cond: &'r Condition,
    per_process: Vec<AtomicU8>,
    no_process: AtomicU8,
}

/// Per process, each rule's `first` conjuncts answered once: two bits per (process, rule) in
/// words laid out by process, so a subject reads its process's answers for every candidate rule
/// from one or two cache lines instead of one memo table per rule (the memo tables stay the
/// source of each answer; this is their per-process summary).
struct Gate {
    words: usize,
    /// Per process slot (`pi`, or the last slot for a subject without a process): `words`
    /// words of "answered" bits, then `words` words of answers.
    cells: Vec<AtomicU64>,
}

impl Gate {
    /// A gate for `plans` over `processes` processes: a rule without `first` conjuncts is
    /// answered (open) in every row from the start.
    fn new(plans: &[Plan], processes: usize) -> Gate {
        let words = plans.len().div_ceil(64).max(1);
        let mut open = vec![0u64; words];
        for (ri, p) in plans.iter().enumerate() {
            if p.first.is_empty() {
                open[ri / 64] |= 1 << (ri % 64);
            }
        }
        Gate {
            words,
            cells: (0..processes + 1)
                .flat_map(|_| open.iter().chain(open.iter()))
                .map(|&w| AtomicU64::new(w))
                .collect(),
        }
    }

    /// Of the rules in word `w` of `cands`, those whose `first` conjuncts hold for the process
    /// at `slot` (computing the answers not known yet).
    #[inline]
    fn open_word(
        &self,
        w: usize,
        cands: u64,
        plans: &[Plan],
        pi: Option<usize>,
        ctx: Ctx,
        slot: usize,
    ) -> u64 {
        let base = 2 * self.words * slot;
        let mut todo = cands & !self.cells[base + w].load(Ordering::Acquire);
        while todo != 0 {
            let ri = w * 64 + todo.trailing_zeros() as usize;
            self.open(ri, &plans[ri], pi, ctx, slot);
            todo &= todo - 1;
        }
        cands & self.cells[base + self.words + w].load(Ordering::Relaxed)
    }

    /// Whether rule `ri`'s top-level process-only conjuncts hold for the process at `pi`.
    fn open(&self, ri: usize, plan: &Plan, pi: Option<usize>, ctx: Ctx, slot: usize) -> bool {
        if plan.first.is_empty() {
            return true;
        }
        let base = 2 * self.words * slot;
        let (w, bit) = (ri / 64, 1u64 << (ri % 64));
        // The answer is stored before the "answered" bit (Release), so a reader that sees the
        // bit (Acquire) sees the answer.
        if self.cells[base + w].load(Ordering::Acquire) & bit != 0 {
            return self.cells[base + self.words + w].load(Ordering::Relaxed) & bit != 0;
        }
        let v = plan.first.iter().all(|&k| plan.memo[k].get(pi, ctx));
        if v {
            self.cells[base + self.words + w].fetch_or(bit, Ordering::Relaxed);
        }
        self.cells[base + w].fetch_or(bit, Ordering::Release);
        v
    }
}

/// What a process-only subtree needs besides the process: its parent, the process tree and the
/// ephemeral range.
#[derive(Clone, Copy)]
struct Ctx<'s> {
    snap: &'s Snapshot,
    world: &'s World<'s>,
    eph: (u16, u16),
}

impl Memo<'_> {
    fn get(&self, pi: Option<usize>, ctx: Ctx) -> bool {
        let cell = pi.map_or(&self.no_process, |i| &self.per_process[i]);
        match cell.load(Ordering::Relaxed) {
            1 => false,
            2 => true,
            _ => {
                let process = pi.map(|i| &ctx.snap.processes[i]);
                // Any socket will do: a process-only condition never reads it.
                let dummy = Socket::new(Protocol::Tcp, Family::Inet, State::Close, 0);
                let v = self.cond.eval(&Subject {
                    socket: &dummy,
                    owner: None,
                    process,
                    parent: process.and_then(|p| ctx.snap.process(p.ppid)),
                    ephemeral: ctx.eph,
                    netns: None,
                    world: Some(ctx.world),
                });
                cell.store(1 + u8::from(v), Ordering::Relaxed);
                v
            }
        }
    }
}

enum Node<'r> {
    /// A conjunction that pins protocols or states: two bit tests before its other conjuncts
    /// (the pinning ones are dropped). Rules whose `any` has one branch per protocol or state
    /// skip the branches that cannot apply without reading a field.
    Masked(u32, u32, Box<Node<'r>>),
    All(Vec<Node<'r>>),
    Any(Vec<Node<'r>>),
    Not(Box<Node<'r>>),
    Leaf(Test<'r>),
    Memo(usize),
}

fn build<'r>(c: &'r Condition, memo_conds: &mut Vec<&'r Condition>) -> Node<'r> {
    if c.process_only() {
        memo_conds.push(c);
        return Node::Memo(memo_conds.len() - 1);
    }
    match c {
        Condition::All(v) => {
            let (pm, sm) = crate::rules::masks(c);
            if pm == u32::MAX && sm == u32::MAX {
                return Node::All(order(v.iter().map(|x| build(x, memo_conds)).collect()));
            }
            let rest = v
                .iter()
                .filter(|x| !implied_by_masks(x))
                .map(|x| build(x, memo_conds))
                .collect();
            Node::Masked(pm, sm, Box::new(Node::All(order(rest))))
        }
        Condition::Any(v) => Node::Any(order(v.iter().map(|x| build(x, memo_conds)).collect())),
        Condition::Not(x) => Node::Not(Box::new(build(x, memo_conds))),
        Condition::Pred(_) | Condition::Ss(_) => Node::Leaf(Test::compile(c)),
    }
}

/// Cheapest first: table lookups, then single socket predicates, then subtrees.
fn order(mut v: Vec<Node>) -> Vec<Node> {
    v.sort_by_key(|n| match n {
        Node::Memo(_) => 0,
        Node::Masked(..) => 1,
        Node::Leaf(_) => 2,
        Node::Not(_) => 3,
        _ => 4,
    });
    v
}

impl Node<'_> {
    fn eval(&self, x: &Subject, pi: Option<usize>, memo: &[Memo], ctx: Ctx) -> bool {
        match self {
            Node::Masked(pm, sm, n) => {
                pm & (1 << x.socket.protocol as u32) != 0
                    && sm & (1 << (x.socket.state as u32 - 1)) != 0
                    && n.eval(x, pi, memo, ctx)
            }
            Node::All(v) => v.iter().all(|n| n.eval(x, pi, memo, ctx)),
            Node::Any(v) => v.iter().any(|n| n.eval(x, pi, memo, ctx)),
            Node::Not(n) => !n.eval(x, pi, memo, ctx),
            Node::Leaf(t) => t.eval(x),
            Node::Memo(k) => memo[*k].get(pi, ctx),
        }
    }
}

/// Whether a top-level conjunct is already enforced by the rule's protocol/state masks.
fn implied_by_masks(c: &Condition) -> bool {
    match c {
        Condition::Pred(p) => {
            matches!(
                p.field.name,
                "socket.state" | "socket.protocol" | "socket.kind"
            ) && p.op.is_membership()
                && matches!(p.arg, crate::rules::condition::Arg::Values(_))
        }
        _ => false,
    }
}

fn plan<'r>(rule: &'r Rule, snap: &Snapshot, facts: &mut Facts<'r>) -> Plan<'r> {
    let mut memo_conds = Vec::new();
    // The masks already filtered protocol and state: drop the conjuncts they enforce. Socket
    // predicates become shared facts; the rest is the rule's own node.
    let conjuncts: Vec<&Condition> = match &rule.doc.when {
        Condition::All(v) => v.iter().collect(),
        c => vec![c],
    };
    let mut first = Vec::new();
    let mut need = Need::default();
    let mut rest = Vec::new();
    for c in conjuncts.into_iter().filter(|c| !implied_by_masks(c)) {
        if let Some((bit, want)) = facts.intern(c) {
            need.mask |= 1 << bit;
            need.want |= u64::from(want) << bit;
            continue;
        }
        match build(c, &mut memo_conds) {
            Node::Memo(k) => first.push(k),
            node => rest.push(node),
        }
    }
    let when = Node::All(order(rest));
    let exceptions = rule
        .doc
        .exceptions
        .iter()
        .map(|e| build(e, &mut memo_conds))
        .collect();
    let memo = memo_conds
        .into_iter()
        .map(|cond| Memo {
            cond,
            per_process: (0..snap.processes.len())
                .map(|_| AtomicU8::new(0))
                .collect(),
            no_process: AtomicU8::new(0),
        })
        .collect();
    Plan {
        first,
        need,
        when,
        exceptions,
        memo,
    }
}

impl Plan<'_> {
    fn matches(
        &self,
        x: &Subject,
        pi: Option<usize>,
        ctx: Ctx,
        known: &mut Known,
        facts: &[Test],
    ) -> bool {
        known.hold(self.need, x, facts)
            && self.when.eval(x, pi, &self.memo, ctx)
            && !self
                .exceptions
                .iter()
                .any(|e| e.eval(x, pi, &self.memo, ctx))
    }
}

/// Below this many sockets a snapshot is evaluated on the calling thread.
const PARALLEL_FROM: usize = 64;

/// What one evaluation gives: the findings, and the rules that imported evidence or views not
/// read leave undecided for some subjects (empty for a complete live snapshot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    /// Sorted findings, as [`evaluate`] gives them.
    pub findings: Vec<Finding>,
    /// The rules the snapshot's unknown fields leave undecided, in rule order: what a scan of
    /// evidence must report as not checked rather than clean.
    pub undetermined: Vec<Undetermined>,
}

/// One worker's share of the pass: its hits in socket order, and per rule the subjects it could
/// not decide (empty when no field is unknown).
struct Acc {
    hits: Vec<(usize, usize, Option<Owner>)>,
    undecided: Vec<u64>,
}

impl Acc {
    fn new(rules: usize, unknown: bool) -> Acc {
        Acc {
            hits: Vec::new(),
            undecided: if unknown { vec![0; rules] } else { Vec::new() },
        }
    }

    /// `self` then `right`, in order: the hits stay in socket order.
    fn merge(mut self, mut right: Acc) -> Acc {
        self.hits.append(&mut right.hits);
        for (a, b) in self.undecided.iter_mut().zip(right.undecided) {
            *a += b;
        }
        self
    }
}

/// Evaluates `rules` over `snap` using the current rayon pool (on the calling thread for a
/// snapshot of fewer than 64 sockets: a rayon wake-up costs more than that work).
pub fn evaluate(rules: &RuleSet, snap: &Snapshot) -> Vec<Finding> {
    evaluate_all(rules, snap).findings
}

/// [`evaluate`], and in the same pass the subjects each rule leaves undecided on a snapshot
/// whose evidence or views leave fields unknown (a second pass over every socket for them cost
/// a scan without the /proc/net view 160 ms at a million sockets).
pub fn evaluate_all(rules: &RuleSet, snap: &Snapshot) -> Evaluation {
    evaluate_some(rules, snap, &vec![true; rules.rules.len()])
}

/// [`evaluate_all`] for the rules `picked` (by index into `rules.rules`) only: findings and
/// undecided counts as [`evaluate_all`] gives them for those rules. Two evaluations of
/// complementary picks, [`Evaluation::merge`]d, equal one of every rule (a scan evaluates the
/// rules that read no view while the /proc/net view is read, and the others after it).
pub fn evaluate_some(rules: &RuleSet, snap: &Snapshot, picked: &[bool]) -> Evaluation {
    let eph = snap.ephemeral_ports();
    let mut namespaces: Vec<Option<u64>> = Vec::new();
    for s in &snap.sockets {
        if namespaces.last() != Some(&s.netns) && !namespaces.contains(&s.netns) {
            namespaces.push(s.netns);
        }
    }
    let labels = Labels(
        namespaces
            .into_iter()
            .map(|n| (n, snap.netns_label(n)))
            .collect(),
    );
    let mut facts = Facts::default();
    let plans: Vec<Plan> = rules
        .rules
        .iter()
        .map(|r| plan(r, snap, &mut facts))
        .collect();
    let facts = facts.tests;
    let gate = Gate::new(&plans, snap.processes.len());
    // Directions and the process tree: at most once per snapshot, on first use, never per
    // socket.
    let world = World::of(snap);
    let unknown = Unknowns::of(rules, snap);
    let ctx = Ctx {
        snap,
        world: &world,
        eph,
    };
    // The rules that can match each (protocol, state) pair, computed once.
    // Indexed by `candidate_slot`.
    // As bits, `gate.words` words per slot; `any` tells the slots with a candidate.
    let words = gate.words;
    let mut candidates = vec![0u64; words * Protocol::ALL.len() * State::ALL.len()];
    let mut any = vec![false; Protocol::ALL.len() * State::ALL.len()];
    for &p in &Protocol::ALL {
        for &st in &State::ALL {
            let slot = candidate_slot(p, st);
            for (ri, r) in rules.rules.iter().enumerate() {
                if picked[ri] && r.protocol_mask & p.bit() != 0 && r.state_mask & st.bit() != 0 {
                    candidates[slot * words + ri / 64] |= 1 << (ri % 64);
                    any[slot] = true;
                }
            }
        }
    }
    // Per protocol, the rules decided in three-valued logic (fields unknown for it).
    let undecidable: Vec<u64> = Protocol::ALL
        .iter()
        .flat_map(|&p| {
            let masks = &unknown.masks;
            (0..words).map(move |w| {
                (0..64)
                    .filter(|b| masks.get(w * 64 + b).is_some_and(|m| m & p.bit() != 0))
                    .fold(0u64, |acc, b| acc | 1 << b)
            })
        })
        .collect();
    let pids: Vec<u32> = snap.processes.iter().map(|p| p.pid).collect();
    let per_socket = |mut acc: Acc, (si, s): (usize, &Socket)| {
        let cslot = candidate_slot(s.protocol, s.state);
        if !any[cslot] {
            return acc;
        }
        let cands = &candidates[cslot * words..][..words];
        let undec = &undecidable[s.protocol.index() * words..][..words];
        let mut eval_owner = |owner: Option<Owner>| {
            // The pids alone: a search through the processes themselves touches a cache line
            // of a large struct at every step.
            let pi = owner.and_then(|o| pids.binary_search(&o.pid).ok());
            // Every predicate on parent fields sits in a memo table (see `Plan`); the
            // process is still needed by fields that compare it with the socket
            // (socket.uid_is_holder).
            let subject = Subject {
                socket: s,
                owner,
                process: pi.map(|i| &snap.processes[i]),
                parent: None,
                ephemeral: eph,
                netns: labels.get(s.netns),
                world: Some(&world),
            };
            let mut known = Known::default();
            let slot = pi.unwrap_or(snap.processes.len());
            // Word by word: the candidates decided in three-valued logic, and those whose
            // process passes their `first` conjuncts; the others are never looked at.
            for (w, (&c, &u)) in cands.iter().zip(undec).enumerate() {
                if c == 0 {
                    continue;
                }
                let mut go = (c & u) | gate.open_word(w, c & !u, &plans, pi, ctx, slot);
                while go != 0 {
                    let ri = w * 64 + go.trailing_zeros() as usize;
                    go &= go - 1;
                    let hit = if u & (1 << (ri % 64)) != 0
                        && unknown.always[ri] & s.protocol.bit() != 0
                    {
                        acc.undecided[ri] += 1;
                        false
                    } else if u & (1 << (ri % 64)) != 0 {
                        let x = Subject {
                            parent: subject.process.and_then(|p| snap.process(p.ppid)),
                            ..subject
                        };
                        match unknown.matches3(ri, &rules.rules[ri], &x) {
                            Some(hit) => hit,
                            None => {
                                acc.undecided[ri] += 1;
                                false
                            }
                        }
                    } else {
                        plans[ri].matches(&subject, pi, ctx, &mut known, &facts)
                    };
                    if hit {
                        acc.hits.push((ri, si, owner));
                    }
                }
            }
        };
        if s.owners.is_empty() {
            eval_owner(None);
        } else {
            s.owners.iter().for_each(|o| eval_owner(Some(*o)));
        }
        acc
    };
    let any_unknown = unknown.masks.iter().any(|&m| m != 0);
    let new_acc = || Acc::new(rules.rules.len(), any_unknown);
    // A handful of sockets (watch judges one at a time) is cheaper here than the wake-up of a
    // rayon worker; the order of the hits is the same either way (fold and reduce keep it).
    let acc = if snap.sockets.len() < PARALLEL_FROM {
        snap.sockets.iter().enumerate().fold(new_acc(), per_socket)
    } else {
        snap.sockets
            .par_iter()
            .enumerate()
            .fold(new_acc, per_socket)
            .reduce(new_acc, Acc::merge)
    };
    Evaluation {
        findings: group(rules, snap, acc.hits, eph, &labels, &world),
        undetermined: undetermined_of(&unknown, &acc.undecided),
    }
}

/// Per rule, what the snapshot's evidence or missing views leave unknown: the protocols whose
/// sockets the rule cannot decide by ordinary evaluation (`masks`; all zero for a complete
/// live snapshot), and for each field the rule tests, the protocols it is unknown for, computed
/// once instead of per subject.
struct Unknowns {
    masks: Vec<u32>,
    fields: Vec<Vec<(&'static str, u32)>>,
    /// The protocols whose holders the evidence does not tell (`socket.owned` unknown).
    owned: u32,
    /// Per rule, the protocols for which it is undecided for every candidate subject, without
    /// looking at one ([`Unknowns::always_open`]).
    always: Vec<u32>,
}

impl Unknowns {
    fn of(rules: &RuleSet, snap: &Snapshot) -> Unknowns {
        let n = rules.rules.len();
        if !snap.has_unknown_fields() {
            return Unknowns {
                masks: vec![0; n],
                fields: vec![Vec::new(); n],
                owned: 0,
                always: vec![0; n],
            };
        }
        let by_protocol = |f: &str| {
            Protocol::ALL
                .iter()
                .filter(|&&p| snap.field_unknown(f, p))
                .fold(0, |m, p| m | p.bit())
        };
        let fields: Vec<Vec<(&'static str, u32)>> = rules
            .rules
            .iter()
            .map(|r| {
                let mut names = condition_fields(r);
                names.sort_unstable();
                names.dedup();
                names
                    .into_iter()
                    .map(|f| (f, by_protocol(f)))
                    .filter(|&(_, m)| m != 0)
                    .collect()
            })
            .collect();
        let always = rules
            .rules
            .iter()
            .zip(&fields)
            .map(|(r, f)| {
                Protocol::ALL
                    .iter()
                    .filter(|p| Unknowns::always_open(r, f, p.bit()))
                    .fold(0, |m, p| m | p.bit())
            })
            .collect();
        Unknowns {
            masks: fields
                .iter()
                .map(|v| v.iter().fold(0, |m, &(_, b)| m | b))
                .collect(),
            fields,
            owned: by_protocol("socket.owned"),
            always,
        }
    }

    /// Whether `rule` is undecided for every subject of protocol `p` it is a candidate for,
    /// whatever the socket and its holder: it has no exceptions, and each top-level conjunct of
    /// its condition is either enforced by its protocol and state masks (true for every
    /// candidate) or a predicate on a field unknown for `p` that is no process field (unknown
    /// with or without a holder), with at least one of the latter. Then [`decide3`] gives `None`
    /// for each: NET-HID-001/002 on every TCP and UDP socket of a scan without the /proc/net
    /// view, 800k three-valued evaluations at a million sockets (issue 19, session 10).
    fn always_open(rule: &Rule, fields: &[(&'static str, u32)], p: u32) -> bool {
        if !rule.doc.exceptions.is_empty() {
            return false;
        }
        let conjuncts: &[Condition] = match &rule.doc.when {
            Condition::All(v) => v,
            c => std::slice::from_ref(c),
        };
        let mut open = false;
        for c in conjuncts {
            if implied_by_masks(c) {
                continue;
            }
            let Condition::Pred(pred) = c else {
                return false;
            };
            let f = pred.field.name;
            let process_field = f.starts_with("process.") || f.starts_with("parent.") || f == "fd";
            if process_field || !fields.iter().any(|&(g, m)| m & p != 0 && g == f) {
                return false;
            }
            open = true;
        }
        open
    }

    /// Rule `ri` on one subject in three-valued logic: `Some(true)` a certain match,
    /// `Some(false)` certainly none (the condition fails, or an exception holds), `None`
    /// undecided. A subject without a holder, on a socket whose holders are known, has no
    /// process: its process fields are absent, not unknown.
    fn matches3(&self, ri: usize, rule: &Rule, x: &Subject) -> Option<bool> {
        let p = x.socket.protocol.bit();
        let no_holder = x.owner.is_none() && self.owned & p == 0;
        let fields = &self.fields[ri];
        let unknown = |f: &str| {
            let holderless =
                no_holder && (f.starts_with("process.") || f.starts_with("parent.") || f == "fd");
            !holderless && fields.iter().any(|&(g, m)| m & p != 0 && g == f)
        };
        decide3(rule, x, &unknown)
    }
}

/// The names of the fields a condition tests.
/// The fields a rule's condition and exceptions test, in order, repeats included.
fn condition_fields(rule: &Rule) -> Vec<&'static str> {
    let mut names = Vec::new();
    fields_of(&rule.doc.when, &mut names);
    rule.doc
        .exceptions
        .iter()
        .for_each(|e| fields_of(e, &mut names));
    names
}

fn fields_of(c: &Condition, out: &mut Vec<&'static str>) {
    match c {
        Condition::All(v) | Condition::Any(v) => v.iter().for_each(|c| fields_of(c, out)),
        Condition::Not(c) => fields_of(c, out),
        Condition::Pred(p) => out.push(p.field.name),
        Condition::Ss(_) => out.extend(crate::rules::condition::SS_FIELDS),
    }
}

/// Kleene's three-valued evaluation: `None` when the unknown fields leave it open.
fn eval3(c: &Condition, x: &Subject, unknown: &dyn Fn(&str) -> bool) -> Option<bool> {
    match c {
        Condition::All(v) => {
            let mut open = false;
            for c in v {
                match eval3(c, x, unknown) {
                    Some(false) => return Some(false),
                    None => open = true,
                    Some(true) => {}
                }
            }
            (!open).then_some(true)
        }
        Condition::Any(v) => {
            let mut open = false;
            for c in v {
                match eval3(c, x, unknown) {
                    Some(true) => return Some(true),
                    None => open = true,
                    Some(false) => {}
                }
            }
            (!open).then_some(false)
        }
        Condition::Not(c) => eval3(c, x, unknown).map(|b| !b),
        Condition::Pred(p) if unknown(p.field.name) => None,
        Condition::Ss(_)
            if crate::rules::condition::SS_FIELDS
                .iter()
                .any(|f| unknown(f)) =>
        {
            None
        }
        Condition::Pred(_) | Condition::Ss(_) => Some(c.eval(x)),
    }
}

/// A rule in three-valued logic, given which fields are unknown for the subject.
fn decide3(rule: &Rule, x: &Subject, unknown: &dyn Fn(&str) -> bool) -> Option<bool> {
    let when = eval3(&rule.doc.when, x, unknown);
    if when == Some(false) {
        return Some(false);
    }
    let mut open = when.is_none();
    for e in &rule.doc.exceptions {
        match eval3(e, x, unknown) {
            Some(true) => return Some(false),
            None => open = true,
            Some(false) => {}
        }
    }
    (!open).then_some(true)
}

/// A rule that imported evidence leaves undecided for some sockets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undetermined {
    /// The index of the rule in the rule set.
    pub rule: usize,
    /// How many (socket, holder) subjects it could not decide.
    pub subjects: u64,
    /// The unknown fields it tests, sorted.
    pub fields: Vec<&'static str>,
}

/// The rules the snapshot's unknown fields leave undecided, and for how many subjects:
/// [`Evaluation::undetermined`] (this evaluates every rule; a scan takes both from
/// [`evaluate_all`]).
pub fn undetermined(rules: &RuleSet, snap: &Snapshot) -> Vec<Undetermined> {
    evaluate_all(rules, snap).undetermined
}

/// The [`Undetermined`] entries of the rules with undecided subjects (`counts`, per rule).
fn undetermined_of(unknown: &Unknowns, counts: &[u64]) -> Vec<Undetermined> {
    let mut out = Vec::new();
    for (ri, &count) in counts.iter().enumerate() {
        if count == 0 {
            continue;
        }
        // `Unknowns::of` kept each rule's fields (sorted, once each) that some protocol leaves
        // unknown.
        let fields = unknown.fields[ri].iter().map(|&(f, _)| f).collect();
        out.push(Undetermined {
            rule: ri,
            subjects: count,
            fields,
        });
    }
    out
}

/// Whether one rule matches one subject (its condition, and none of its exceptions): the rule
/// language's meaning, evaluated directly. [`evaluate`] computes the same through masks, plans
/// and memo tables; a property test compares the two.
pub fn matches(rule: &Rule, x: &Subject) -> bool {
    rule.doc.when.eval(x) && !rule.doc.exceptions.iter().any(|e| e.eval(x))
}

fn group(
    rules: &RuleSet,
    snap: &Snapshot,
    hits: Vec<(usize, usize, Option<Owner>)>,
    eph: (u16, u16),
    labels: &Labels,
    world: &World,
) -> Vec<Finding> {
    let mut per_socket: BTreeMap<(usize, usize), Vec<Owner>> = BTreeMap::new();
    let mut per_group: Groups = BTreeMap::new();
    for (ri, si, owner) in hits {
        let rule = &rules.rules[ri];
        match &rule.doc.aggregate {
            None => per_socket.entry((ri, si)).or_default().extend(owner),
            Some(agg) => {
                let x = subject(snap, si, owner, eph, labels, world);
                let key = value_key(&(agg.by.0.get)(&x));
                per_group.entry((ri, key)).or_default().push((si, owner));
            }
        }
    }
    let mut out = Vec::new();
    for ((ri, si), owners) in per_socket {
        let rule = &rules.rules[ri];
        let s = &snap.sockets[si];
        out.push(Finding {
            id: finding_id(rule.id(), s, &owners, snap),
            rule: ri,
            socket: si,
            owners,
            count: None,
            related: Vec::new(),
        });
    }
    for ((ri, _group), members) in per_group {
        out.extend(aggregate_finding(
            rules, snap, ri, &members, eph, labels, world,
        ));
    }
    out.sort_by(|a, b| finding_order(rules, a, b));
    out
}

/// The order of findings in an evaluation: most severe first, then by rule id, socket and
/// holders.
fn finding_order(rules: &RuleSet, a: &Finding, b: &Finding) -> std::cmp::Ordering {
    let ra = &rules.rules[a.rule];
    let rb = &rules.rules[b.rule];
    rb.doc
        .severity
        .cmp(&ra.doc.severity)
        .then_with(|| ra.id().cmp(rb.id()))
        .then_with(|| a.socket.cmp(&b.socket))
        .then_with(|| a.owners.cmp(&b.owners))
}

impl Evaluation {
    /// One evaluation of the rules of both, which [`evaluate_some`] evaluated over the same
    /// snapshot with disjoint picks: findings and undecided rules in the order of one.
    pub fn merge(mut self, other: Evaluation, rules: &RuleSet) -> Evaluation {
        self.findings.extend(other.findings);
        self.findings.sort_by(|a, b| finding_order(rules, a, b));
        self.undetermined.extend(other.undetermined);
        self.undetermined.sort_by_key(|u| u.rule);
        self
    }
}

/// Per rule, whether [`reads_views`] answers `views`: the picks of [`evaluate_some`] before
/// the /proc/net view is compared (`false`) and after (`true`).
pub fn view_picks(rules: &RuleSet, views: bool) -> Vec<bool> {
    rules
        .rules
        .iter()
        .map(|r| reads_views(r) == views)
        .collect()
}

/// Whether `rule` reads a field whose value the cross-view comparisons decide
/// ([`crate::model::ViewCoverage::decides`]), in its condition, exceptions or aggregation.
pub fn reads_views(rule: &Rule) -> bool {
    let mut names = condition_fields(rule);
    if let Some(a) = &rule.doc.aggregate {
        names.push(a.by.0.name);
        names.extend(a.distinct.as_ref().map(|d| d.0.name));
    }
    names.into_iter().any(crate::model::ViewCoverage::decides)
}

/// The finding of one aggregate group, when its count passes the rule's threshold.
fn aggregate_finding(
    rules: &RuleSet,
    snap: &Snapshot,
    ri: usize,
    members: &[(usize, Option<Owner>)],
    eph: (u16, u16),
    labels: &Labels,
    world: &World,
) -> Option<Finding> {
    let rule = &rules.rules[ri];
    let agg = rule.doc.aggregate.as_ref()?;
    let n = match &agg.distinct {
        None => members.len() as u64,
        Some(f) => members
            .iter()
            .map(|&(si, o)| value_key(&(f.0.get)(&subject(snap, si, o, eph, labels, world))))
            .collect::<BTreeSet<_>>()
            .len() as u64,
    };
    if !agg.count.passes(n) {
        return None;
    }
    let related: Vec<usize> = members
        .iter()
        .map(|m| m.0)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let owners: Vec<Owner> = members
        .iter()
        .filter_map(|m| m.1)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    Some(Finding {
        id: aggregate_id(rule.id(), agg.by.0.name, &owners, snap),
        rule: ri,
        socket: related[0],
        owners,
        count: Some(n),
        related,
    })
}

/// An aggregate finding's id: `RULE NUL aggregate NUL FIELD`, then NUL and each holder's
/// executable (sorted, once). The group's value is left out, so a scan from another address
/// keeps its finding.
fn aggregate_id(rule: &str, field: &str, owners: &[Owner], snap: &Snapshot) -> String {
    let mut h = Sha256::new();
    h.update(rule.as_bytes());
    h.update(b"\0aggregate\0");
    h.update(field.as_bytes());
    let exes: BTreeSet<&[u8]> = owners
        .iter()
        .filter_map(|o| snap.process(o.pid)?.exe.as_ref().map(|e| e.as_bytes()))
        .collect();
    for e in exes {
        h.update(b"\0");
        h.update(e);
    }
    hex16(&h.finalize())
}

fn subject<'a>(
    snap: &'a Snapshot,
    si: usize,
    owner: Option<Owner>,
    eph: (u16, u16),
    labels: &'a Labels,
    world: &'a World<'a>,
) -> Subject<'a> {
    let s = &snap.sockets[si];
    Subject::held(snap, s, owner, eph, labels.get(s.netns), Some(world))
}

fn value_key(v: &Value) -> String {
    match v {
        Value::Missing => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Str(s) => s.to_string(),
        Value::Ip(ip) => ip.to_string(),
        Value::Ints(v) => v.iter().map(i64::to_string).collect::<Vec<_>>().join(","),
        Value::Strs(v) => v.join(","),
    }
}

/// A finding's identity: the rule, what identifies the socket across restarts (protocol,
/// addresses, unix name, packet ethertype and interface; not inode, cookie or pid), and the
/// holders' executables. See [`finding_key`] for the exact text.
fn finding_id(rule: &str, s: &Socket, owners: &[Owner], snap: &Snapshot) -> String {
    hex16(&Sha256::digest(finding_key(rule, s, owners, snap)))
}

/// The text a finding id hashes, documented in docs/report.md and stable across releases:
/// `RULE`, `PROTOCOL` (its snapshot name), `LOCAL`, `REMOTE` (`ADDRESS PORT`, or empty), the
/// unix name (lossy UTF-8, or empty), `ETHERTYPE INTERFACE` for packet sockets (else empty),
/// then each holder's executable (exact bytes, sorted, each once), then `netns=LABEL` when the
/// socket is in another namespace than the host's ([`Snapshot::netns_label`]): every part
/// followed by NUL.
pub fn finding_key(rule: &str, s: &Socket, owners: &[Owner], snap: &Snapshot) -> Vec<u8> {
    let endpoint = |e: Option<crate::model::Endpoint>| {
        e.map(|e| format!("{} {}", e.address, e.port))
            .unwrap_or_default()
    };
    let unix = s
        .unix
        .as_ref()
        .and_then(|u| u.name.as_ref())
        .map(|n| n.to_str_lossy().into_owned())
        .unwrap_or_default();
    let packet = s
        .packet
        .as_ref()
        .map(|p| format!("{} {}", p.ethertype, s.interface.as_deref().unwrap_or("")))
        .unwrap_or_default();
    let mut key = Vec::new();
    for part in [
        rule,
        s.protocol.name(),
        &endpoint(s.local),
        &endpoint(s.remote),
        &unix,
        &packet,
    ] {
        key.extend_from_slice(part.as_bytes());
        key.push(0);
    }
    let exes: BTreeSet<&[u8]> = owners
        .iter()
        .filter_map(|o| snap.process(o.pid)?.exe.as_ref().map(|e| e.as_bytes()))
        .collect();
    for e in exes {
        key.extend_from_slice(e);
        key.push(0);
    }
    // A socket in another namespace than the scanned host's (`--all-netns`): the same listener in
    // two containers is two findings. Absent for the host's own sockets, so their ids are those
    // of a single-namespace scan.
    let netns = snap.netns_label(s.netns);
    if netns != "host" {
        key.extend_from_slice(format!("netns={netns}").as_bytes());
        key.push(0);
    }
    key
}

/// The (protocol, state) pair's place in the engine's candidate table.
fn candidate_slot(p: Protocol, st: State) -> usize {
    p.index() * State::ALL.len() + st.index()
}

fn hex16(digest: &[u8]) -> String {
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Endpoint, Family, Meta, SCHEMA_VERSION};

    /// The default pack's rules that a scan evaluates after the /proc/net view (they read a
    /// cross-view field); every other rule runs while the view is read. A rule added to the pack
    /// that reads a view changes this on purpose.
    #[test]
    fn the_default_packs_view_rules_are_the_hiding_rules() {
        let (rules, lists) = crate::rules::default_sources();
        let mut set = crate::rules::load(&rules, &lists, &[], &[]).unwrap();
        set.rules.append(&mut set.disabled);
        let late: Vec<&str> = set
            .rules
            .iter()
            .filter(|r| reads_views(r))
            .map(|r| r.id())
            .collect();
        assert_eq!(
            late,
            ["NET-HID-001", "NET-HID-002", "NET-HID-003", "NET-HID-004"]
        );
        let picks = view_picks(&set, true);
        assert_eq!(picks.iter().filter(|&&p| p).count(), late.len());
        assert!(
            view_picks(&set, false)
                .iter()
                .zip(&picks)
                .all(|(a, b)| a != b)
        );
    }

    /// Every field the engine reads through a [`Small`] table agrees with its getter: the
    /// reader's index names the value the getter gives, on sockets of every protocol and state,
    /// with addresses of every class, with and without a listener on their port.
    #[test]
    fn small_readers_agree_with_the_getters() {
        let addrs = [
            "0.0.0.0",
            "127.0.0.1",
            "10.1.2.3",
            "8.8.8.8",
            "169.254.1.1",
            "100.64.0.1",
            "192.0.2.1",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fd00::1",
            "fe80::1",
            "2001:db8::1",
            "ff02::1",
            "2606:4700::1",
            "::ffff:127.0.0.1",
            "::ffff:8.8.8.8",
        ];
        let mut sockets = Vec::new();
        for p in Protocol::ALL {
            for st in State::ALL {
                for (i, a) in addrs.iter().enumerate() {
                    let address: std::net::IpAddr = a.parse().unwrap();
                    let family = match p.kind() {
                        Kind::Unix => Family::Unix,
                        Kind::Packet => Family::Packet,
                        _ if address.is_ipv6() => Family::Inet6,
                        _ => Family::Inet,
                    };
                    let mut s = Socket::new(p, family, st, i as u64);
                    if p.is_inet() && i % 7 != 6 {
                        s.local = Some(Endpoint {
                            address,
                            port: [80, 40000, 22][i % 3],
                        });
                        s.remote = (i % 5 != 4).then(|| Endpoint {
                            address: addrs[(i + 3) % addrs.len()].parse().unwrap(),
                            port: [0, 443, 50000][i % 3],
                        });
                    }
                    sockets.push(s);
                }
            }
        }
        let snap = Snapshot {
            schema_version: SCHEMA_VERSION,
            meta: Meta::blank("h"),
            sockets,
            processes: vec![],
            namespaces: vec![],
            warnings: vec![],
            gaps: vec![],
        };
        let world = World::of(&snap);
        let mut read = Vec::new();
        for f in crate::rules::fields::all() {
            let Some((reader, values)) = Small::of(f) else {
                continue;
            };
            read.push(f.name);
            for s in &snap.sockets {
                let x = Subject {
                    socket: s,
                    owner: None,
                    process: None,
                    parent: None,
                    ephemeral: (32768, 60999),
                    netns: Some("host"),
                    world: Some(&world),
                };
                let got = reader
                    .read(&x)
                    .map_or(Value::Missing, |i| values[i].clone());
                assert_eq!(got, (f.get)(&x), "{} on {s:?}", f.name);
            }
        }
        for name in [
            "socket.protocol",
            "socket.kind",
            "socket.family",
            "socket.state",
            "socket.local.class",
            "socket.remote.class",
            "socket.direction",
            "socket.local.ephemeral",
        ] {
            assert!(read.contains(&name), "{name} is not read directly");
        }
    }

    /// Finding ids are a contract (SARIF fingerprints, `--accept`): their key text and a few
    /// values are pinned here; a change is a breaking change recorded in CHANGELOG.
    #[test]
    fn finding_ids_are_pinned() {
        let mut s = Socket::new(Protocol::Tcp, Family::Inet, State::Listen, 77);
        s.local = Some(Endpoint {
            address: "0.0.0.0".parse().unwrap(),
            port: 4444,
        });
        s.owners = smallvec::smallvec![Owner { pid: 9, fd: 3 }];
        let mut p: crate::model::Process = serde_json::from_value(serde_json::json!({
            "pid": 9, "ppid": 1, "comm": "x", "exe_deleted": false, "exe_memfd": false,
            "cmdline": [], "uid": 0, "euid": 0, "start_ticks": 0
        }))
        .unwrap();
        p.exe = Some(crate::model::ByteString::from("/tmp/x"));
        let snap = Snapshot {
            schema_version: SCHEMA_VERSION,
            meta: Meta::blank("h"),
            sockets: vec![s.clone()],
            processes: vec![p],
            namespaces: vec![],
            warnings: vec![],
            gaps: vec![],
        };
        let owners = [Owner { pid: 9, fd: 3 }];
        assert_eq!(
            finding_key("NET-PRC-001", &s, &owners, &snap),
            b"NET-PRC-001\0tcp\x000.0.0.0 4444\0\0\0\0/tmp/x\0"
        );
        assert_eq!(
            finding_id("NET-PRC-001", &s, &owners, &snap),
            "e57397acecdc5811" // sha256 of the key above, computed independently (Python hashlib)
        );
        // The same socket in another namespace (`--all-netns`): another finding.
        let mut in_ns = snap.clone();
        in_ns.meta.netns = Some(1);
        in_ns.namespaces = ["host", "blue"]
            .iter()
            .zip([1, 2])
            .map(|(n, inode)| crate::model::Namespace {
                inode,
                name: (*n != "host").then(|| n.to_string()),
                current: *n == "host",
                pids: Vec::new(),
                containers: Vec::new(),
            })
            .collect();
        let mut blue = s.clone();
        blue.netns = Some(2);
        assert_eq!(
            finding_key("NET-PRC-001", &blue, &owners, &in_ns),
            b"NET-PRC-001\0tcp\x000.0.0.0 4444\0\0\0\0/tmp/x\0netns=blue\0"
        );
        let mut host = s.clone();
        host.netns = Some(1);
        assert_eq!(
            finding_id("NET-PRC-001", &host, &owners, &in_ns),
            finding_id("NET-PRC-001", &s, &owners, &snap),
            "the host's own sockets keep their single-namespace ids"
        );
        // Another pid, inode or fd: the same finding.
        let mut other = s.clone();
        other.inode = 78;
        assert_eq!(
            finding_id("NET-PRC-001", &other, &owners, &snap),
            finding_id("NET-PRC-001", &s, &owners, &snap)
        );
    }

    /// The rules that are undecided for every candidate of a protocol are counted without a
    /// three-valued evaluation (`Unknowns::always`): the counts are those of `decide3` run on
    /// every (socket, holder) subject, on a snapshot without the /proc/net view (NET-HID-001 and
    /// -002 undecided for TCP and UDP) and with sockets of every protocol and state, held, shared
    /// and unheld (issue 19, session 10).
    #[test]
    fn rules_undecided_for_a_whole_protocol_are_counted_as_by_decide3() {
        use crate::model::{Process, View, ViewCoverage};
        let rules = crate::rules::discover::load(&crate::rules::discover::RuleInputs {
            defaults: true,
            paths: &[],
            lists: &[],
            picks: &[],
        })
        .unwrap();
        let process = |pid: u32, exe: &str, comm: &str| Process {
            pid,
            ppid: 1,
            comm: comm.into(),
            exe: Some(exe.into()),
            ..Process::default()
        };
        let processes = vec![
            process(1, "/usr/lib/systemd/systemd", "systemd"),
            process(20, "/usr/bin/bash", "bash"),
            process(30, "/tmp/x", "x"),
        ];
        let mut sockets = Vec::new();
        for p in Protocol::ALL {
            for st in State::ALL {
                for i in 0..4u64 {
                    let family = match p.kind() {
                        Kind::Unix => Family::Unix,
                        Kind::Packet => Family::Packet,
                        _ => Family::Inet,
                    };
                    let mut s = Socket::new(p, family, st, 1000 + sockets.len() as u64);
                    if p.is_inet() {
                        s.local = Some(Endpoint {
                            address: "0.0.0.0".parse().unwrap(),
                            port: [22, 4444, 40000, 53][i as usize],
                        });
                        s.remote = Some(Endpoint {
                            address: ["192.0.2.7", "0.0.0.0"][i as usize % 2].parse().unwrap(),
                            port: [443, 0][i as usize % 2],
                        });
                    }
                    s.views.add(View::Netlink);
                    s.owners = match i {
                        0 => smallvec::smallvec![],
                        1 => smallvec::smallvec![Owner { pid: 20, fd: 3 }],
                        2 => smallvec::smallvec![Owner { pid: 30, fd: 4 }],
                        _ => smallvec::smallvec![Owner { pid: 1, fd: 5 }, Owner { pid: 30, fd: 6 }],
                    };
                    sockets.push(s);
                }
            }
        }
        let all: Vec<Protocol> = Protocol::ALL.to_vec();
        let mut meta = Meta::blank("h");
        meta.views = Some(ViewCoverage {
            read: [View::Netlink, View::Fdwalk, View::Taskfiles]
                .into_iter()
                .map(|v| (v, all.clone()))
                .collect(),
            missing: BTreeMap::from([(View::Procnet, "switched off".into())]),
            rechecked: 0,
            churn: 0,
        });
        let mut snap = Snapshot {
            schema_version: SCHEMA_VERSION,
            meta,
            sockets,
            processes,
            namespaces: vec![],
            warnings: vec![],
            gaps: vec![],
        };
        snap.canonicalize();
        let unknown = Unknowns::of(&rules, &snap);
        let hid = |id: &str| rules.rules.iter().position(|r| r.id() == id).unwrap();
        for id in ["NET-HID-001", "NET-HID-002"] {
            let always = unknown.always[hid(id)];
            assert_ne!(
                always & Protocol::Tcp.bit(),
                0,
                "{id} is undecided for all of TCP"
            );
            assert_ne!(
                always & Protocol::Udp.bit(),
                0,
                "{id} is undecided for all of UDP"
            );
        }
        let world = World::of(&snap);
        let eph = snap.ephemeral_ports();
        let mut want = vec![0u64; rules.rules.len()];
        for s in &snap.sockets {
            let owners: Vec<Option<Owner>> = if s.owners.is_empty() {
                vec![None]
            } else {
                s.owners.iter().map(|&o| Some(o)).collect()
            };
            for owner in owners {
                let x = Subject::held(&snap, s, owner, eph, None, Some(&world));
                for (ri, r) in rules.rules.iter().enumerate() {
                    let candidate = r.protocol_mask & s.protocol.bit() != 0
                        && r.state_mask & s.state.bit() != 0;
                    if candidate
                        && unknown.masks[ri] & s.protocol.bit() != 0
                        && unknown.matches3(ri, r, &x).is_none()
                    {
                        want[ri] += 1;
                    }
                }
            }
        }
        let got = evaluate_all(&rules, &snap).undetermined;
        let want: Vec<(usize, u64)> = want
            .into_iter()
            .enumerate()
            .filter(|&(_, n)| n > 0)
            .collect();
        assert!(want.iter().any(|&(ri, _)| ri == hid("NET-HID-001")));
        assert_eq!(
            got.iter().map(|u| (u.rule, u.subjects)).collect::<Vec<_>>(),
            want
        );
    }
}
