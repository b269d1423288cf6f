//! `sockwarden history timeline QUERY`: when the sockets a query names first appeared, who held
//! them, and when they went; answered from the intervals with indexed SQL (schema version 2's
//! indexes), never by rebuilding runs.
//!
//! A query is `KEY=VALUE` terms: the same key twice is either value, different keys must all
//! hold (`port=22 port=2222 user=root`: port 22 or 2222, held by root). The `list` filter
//! language (`ss`'s) is not used: it has no executable, user, container or pid, and its
//! expressions are evaluated on sockets in memory, which no index can answer.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::IpAddr;
use std::path::Path;

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, params_from_iter};
use serde::Serialize;

use super::rebuild::{PROCESS_COLUMNS, SOCKET_COLUMNS, process_row, socket_row};
use super::schema::{self, Mode};
use super::{HistoryError, from_sql};
use crate::model::{Process, Protocol, Socket, State};

crate::model::vocabulary! {
    /// The keys of a timeline query's `KEY=VALUE` terms.
    pub enum Key {
        /// Either end's port.
        Port => "port",
        /// The local port.
        Lport => "lport",
        /// The remote port.
        Rport => "rport",
        /// Either end's address (an IPv4 address also matches its v4-mapped IPv6 form).
        Addr => "addr",
        /// The local address.
        Laddr => "laddr",
        /// The remote address.
        Raddr => "raddr",
        /// The protocol (`tcp`, `udp`, `unix_stream`, ...).
        Proto => "proto",
        /// The state (`listen`, `established`, ... or `ss`'s `LISTEN`, `ESTAB`).
        State => "state",
        /// A holder's executable, the exact path.
        Exe => "exe",
        /// A holder's kernel name (`comm`), exactly.
        Comm => "comm",
        /// A holder's user name, or its uid as a number.
        User => "user",
        /// A holder's container id (or a prefix of it, such as `docker ps`'s 12 characters).
        Container => "container",
        /// A holder's pid.
        Pid => "pid",
    }
}

impl Key {
    /// Whether the key tests the holder rather than the socket.
    fn of_holder(self) -> bool {
        matches!(
            self,
            Key::Exe | Key::Comm | Key::User | Key::Container | Key::Pid
        )
    }
}

/// One term of a query that is not understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadTerm {
    /// The term as given.
    pub term: String,
    /// What is wrong with it.
    pub why: String,
}

impl fmt::Display for BadTerm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Both may quote what was typed: escaped, as anything from outside on a terminal.
        let esc = crate::text::escape_str;
        write!(f, "`{}`: {}", esc(&self.term), esc(&self.why))
    }
}

/// Every problem of a query, at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad timeline query: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct BadQuery(pub Vec<BadTerm>);

/// A parsed query: each key with its values, in key order.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    terms: BTreeMap<Key, Vec<SqlValue>>,
}

impl Query {
    /// Parses `KEY=VALUE` terms; every bad term is reported.
    pub fn parse<S: AsRef<str>>(terms: &[S]) -> Result<Query, BadQuery> {
        let mut q = Query {
            terms: BTreeMap::new(),
        };
        let mut bad = Vec::new();
        for t in terms {
            let t = t.as_ref();
            match term(t) {
                Ok((k, vals)) => q.terms.entry(k).or_default().extend(vals),
                Err(why) => bad.push(BadTerm {
                    term: t.to_string(),
                    why,
                }),
            }
        }
        if terms.is_empty() {
            bad.push(BadTerm {
                term: String::new(),
                why: format!(
                    "give at least one KEY=VALUE term; keys: {}",
                    Key::NAMES.join(", ")
                ),
            });
        }
        for (k, v) in &q.terms {
            // Each value of the key is a parameter; SQLite allows 32766 of them in all.
            if v.len() > 1000 {
                bad.push(BadTerm {
                    term: k.name().into(),
                    why: "more than 1000 values".into(),
                });
            }
        }
        if bad.is_empty() {
            Ok(q)
        } else {
            Err(BadQuery(bad))
        }
    }

    fn has_holder_terms(&self) -> bool {
        self.terms.keys().any(|k| k.of_holder())
    }

    /// `WHERE` of the query over `s` (socket_versions), `h` (holdings) and `p`
    /// (process_versions), with its parameters.
    fn sql(&self) -> (String, Vec<SqlValue>) {
        let mut params = Vec::new();
        let mut parts = Vec::new();
        for (k, vals) in &self.terms {
            let mut list = |vals: &[SqlValue]| {
                params.extend(vals.iter().cloned());
                vec!["?"; vals.len()].join(", ")
            };
            let either = |a: &str, b: &str, list: &mut dyn FnMut(&[SqlValue]) -> String| {
                let (x, y) = (list(vals), list(vals));
                format!("({a} IN ({x}) OR {b} IN ({y}))")
            };
            parts.push(match k {
                Key::Port => either("s.local_port", "s.remote_port", &mut list),
                Key::Addr => either("s.local_address", "s.remote_address", &mut list),
                Key::Lport => format!("s.local_port IN ({})", list(vals)),
                Key::Rport => format!("s.remote_port IN ({})", list(vals)),
                Key::Laddr => format!("s.local_address IN ({})", list(vals)),
                Key::Raddr => format!("s.remote_address IN ({})", list(vals)),
                Key::Proto => format!("s.protocol IN ({})", list(vals)),
                Key::State => format!("s.state IN ({})", list(vals)),
                Key::Exe => format!("p.exe IN ({})", list(vals)),
                Key::Comm => format!("p.comm IN ({})", list(vals)),
                Key::Pid => format!("p.pid IN ({})", list(vals)),
                Key::User => {
                    let (uids, names): (Vec<SqlValue>, Vec<SqlValue>) = vals
                        .iter()
                        .cloned()
                        .partition(|v| matches!(v, SqlValue::Integer(_)));
                    let mut any = Vec::new();
                    if !uids.is_empty() {
                        any.push(format!("p.uid IN ({})", list(&uids)));
                    }
                    if !names.is_empty() {
                        any.push(format!("p.user IN ({})", list(&names)));
                    }
                    format!("({})", any.join(" OR "))
                }
                // GLOB with a binary collation uses the index for a prefix.
                Key::Container => {
                    let any: Vec<&str> = vals.iter().map(|_| "p.container_id GLOB ?").collect();
                    params.extend(vals.iter().cloned());
                    format!("({})", any.join(" OR "))
                }
            });
        }
        (parts.join(" AND "), params)
    }
}

/// One `KEY=VALUE` term: its key and the values it matches in the database.
fn term(t: &str) -> Result<(Key, Vec<SqlValue>), String> {
    let Some((k, v)) = t.split_once('=') else {
        return Err(format!(
            "expected KEY=VALUE, with KEY one of {}",
            Key::NAMES.join(", ")
        ));
    };
    let key = Key::parse(k).ok_or_else(|| {
        let hint = crate::rules::fields::closest(k, Key::NAMES)
            .map(|c| format!(" (did you mean `{c}`?)"))
            .unwrap_or_default();
        format!("unknown key `{k}`{hint}; keys: {}", Key::NAMES.join(", "))
    })?;
    if v.is_empty() {
        return Err(format!("`{k}` needs a value"));
    }
    let text = |s: &str| SqlValue::Text(s.to_string());
    let vals = match key {
        Key::Port | Key::Lport | Key::Rport => {
            let p: u16 = v.parse().map_err(|_| format!("`{v}` is not a port"))?;
            vec![SqlValue::Integer(i64::from(p))]
        }
        Key::Addr | Key::Laddr | Key::Raddr => addresses(v)?,
        Key::Proto => {
            let p = Protocol::parse(v)
                .or_else(|| Protocol::ALL.into_iter().find(|p| p.netid() == v))
                .ok_or_else(|| {
                    format!("unknown protocol; one of {}", Protocol::NAMES.join(", "))
                })?;
            vec![text(p.name())]
        }
        Key::State => {
            let s = State::parse(v)
                .or_else(|| State::ALL.into_iter().find(|s| s.ss_name() == v))
                .ok_or_else(|| format!("unknown state; one of {}", State::NAMES.join(", ")))?;
            vec![text(s.name())]
        }
        Key::Exe | Key::Comm => vec![SqlValue::Blob(v.as_bytes().to_vec())],
        Key::User => match v.parse::<u32>() {
            Ok(uid) => vec![SqlValue::Integer(i64::from(uid))],
            Err(_) => vec![text(v)],
        },
        Key::Pid => {
            let p: u32 = v.parse().map_err(|_| format!("`{v}` is not a pid"))?;
            vec![SqlValue::Integer(i64::from(p))]
        }
        Key::Container => vec![text(&format!("{}*", escape_glob(v)))],
    };
    Ok((key, vals))
}

/// An address as the history stores it, with its other form: an IPv4 address and its
/// v4-mapped IPv6 address (`::ffff:192.0.2.1`) are the same peer to a dual-stack socket.
fn addresses(v: &str) -> Result<Vec<SqlValue>, String> {
    let a: IpAddr = v
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .map_err(|_| format!("`{v}` is not an IP address (a prefix is not supported)"))?;
    let other = match a {
        IpAddr::V4(v4) => Some(IpAddr::V6(v4.to_ipv6_mapped())),
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4),
    };
    Ok([Some(a), other]
        .into_iter()
        .flatten()
        .map(|a| SqlValue::Text(a.to_string()))
        .collect())
}

/// A container id prefix as a GLOB pattern matching only itself.
fn escape_glob(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '*' | '?' | '[' => format!("[{c}]"),
            c => c.to_string(),
        })
        .collect()
}

/// A run a row names: its id and when it started; `at` is `None` for a run deleted by a prune
/// (the row is older than the oldest kept run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Seen {
    /// The run's id.
    pub run: i64,
    /// Its `started_at`; `null` when the run was pruned.
    pub at: Option<String>,
}

/// An interval: the run that first saw it, the last run (of its namespace) that did, and the
/// first that no longer did (`None` while it is present).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Interval {
    /// The run that first saw it.
    pub first_seen: Seen,
    /// The latest run covering its namespace that saw it.
    pub last_seen: Option<Seen>,
    /// The first run covering its namespace that no longer saw it; `null` while present.
    pub gone: Option<Seen>,
}

/// Who held a socket, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Holding {
    /// The holder's pid.
    pub pid: u32,
    /// The descriptor.
    pub fd: u32,
    /// The holder as recorded; `null` when the snapshot could not read it.
    pub process: Option<Process>,
    /// When this process held the socket on this descriptor.
    #[serde(flatten)]
    pub interval: Interval,
}

/// One version of a socket that the query matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Entry {
    /// The network namespace (inode) the row is filed under.
    pub ns: u64,
    /// The socket's kept fields (docs/history.md), without owners.
    pub socket: Socket,
    /// When it was there.
    #[serde(flatten)]
    pub interval: Interval,
    /// Every process that held it, in the order they began to.
    pub holders: Vec<Holding>,
}

/// What `history timeline` answers: the matching socket versions, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Timeline {
    /// The matches, by the run that first saw them (their row ids are in that order).
    pub entries: Vec<Entry>,
    /// More versions matched than the limit: the oldest `limit` are listed.
    pub truncated: bool,
}

/// The socket versions `query` matches, oldest first, at most `limit` of them.
pub fn timeline(path: &Path, query: &Query, limit: usize) -> Result<Timeline, HistoryError> {
    let mut conn = schema::open(path, Mode::Read)?;
    let sql = |e| HistoryError::sql(path, e);
    // One read transaction: a recorder committing meanwhile is not half seen.
    let tx = conn.transaction().map_err(sql)?;
    let mut ids = matching(&tx, query, limit).map_err(sql)?;
    let truncated = ids.len() > limit;
    ids.truncate(limit);
    let mut runs = Runs::default();
    let mut entries = Vec::with_capacity(ids.len());
    for id in ids {
        entries.push(entry(&tx, path, id, &mut runs)?);
    }
    Ok(Timeline { entries, truncated })
}

/// The ids of the matching socket versions, ordered, `limit + 1` at most.
fn matching(conn: &Connection, query: &Query, limit: usize) -> rusqlite::Result<Vec<i64>> {
    let (cond, mut params) = query.sql();
    // A socket with several matching holdings is one match.
    let (select, join) = if query.has_holder_terms() {
        (
            "SELECT DISTINCT s.id",
            "JOIN holdings h ON h.socket_version = s.id \
             JOIN process_versions p ON p.id = h.process_version",
        )
    } else {
        ("SELECT s.id", "")
    };
    params.push(SqlValue::Integer(
        i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX),
    ));
    // Row ids follow the runs: a run's rows are inserted after every row of the runs before it
    // (ids are the largest plus one, and the newest rows are never pruned), so the id order is
    // the `first_run` order. An index on one column lists its equal entries by id: with one
    // value of one key, the oldest `limit` are read and nothing is sorted.
    let mut stmt = conn.prepare(&format!(
        "{select} FROM socket_versions s {join} WHERE {cond} ORDER BY s.id LIMIT ?"
    ))?;
    let rows = stmt.query_map(params_from_iter(params), |r| r.get::<_, i64>(0))?;
    rows.collect()
}

/// One matched socket version with its interval and holders.
fn entry(conn: &Connection, path: &Path, id: i64, runs: &mut Runs) -> Result<Entry, HistoryError> {
    let sql = |e| HistoryError::sql(path, e);
    let bad = |what: String| HistoryError::Inconsistent {
        path: path.to_path_buf(),
        what: format!("socket version {id}: {what}"),
    };
    let n = SOCKET_COLUMNS.split(',').count();
    let (first, end, ns, socket) = conn
        .query_row(
            &format!(
                "SELECT {SOCKET_COLUMNS}, first_run, end_run, ns FROM socket_versions \
                 WHERE id = ?1"
            ),
            [id],
            |r| {
                let ns = from_sql(r.get(n + 2)?);
                Ok((r.get(n)?, r.get(n + 1)?, ns, socket_row(r, ns)?))
            },
        )
        .map_err(sql)?;
    let socket = socket.map_err(bad)?;
    let interval = runs.interval(conn, ns, first, end).map_err(sql)?;
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT h.first_run, h.end_run, h.pid, h.fd, p.id, {} FROM holdings h \
             LEFT JOIN process_versions p ON p.id = h.process_version \
             WHERE h.socket_version = ?1 ORDER BY h.first_run, h.id",
            PROCESS_COLUMNS
                .split(", ")
                .map(|c| format!("p.{}", c.trim()))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .map_err(sql)?;
    type Row = (i64, Option<i64>, u32, u32, Option<Result<Process, String>>);
    let rows: Vec<Row> = stmt
        .query_map([id], |r| {
            let process = match r.get::<_, Option<i64>>(4)? {
                Some(_) => Some(process_row(r, 5)?),
                None => None,
            };
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, process))
        })
        .map_err(sql)?
        .collect::<Result<_, _>>()
        .map_err(sql)?;
    let mut holders = Vec::with_capacity(rows.len());
    for (first, end, pid, fd, process) in rows {
        holders.push(Holding {
            pid,
            fd,
            process: process.transpose().map_err(bad)?,
            interval: runs.interval(conn, ns, first, end).map_err(sql)?,
        });
    }
    Ok(Entry {
        ns,
        socket,
        interval,
        holders,
    })
}

/// The runs' times and the runs of each namespace, looked up once each.
#[derive(Default)]
struct Runs {
    at: HashMap<i64, Option<String>>,
    last: HashMap<(u64, Option<i64>), Option<Seen>>,
}

impl Runs {
    fn seen(&mut self, conn: &Connection, run: i64) -> rusqlite::Result<Seen> {
        if let Some(at) = self.at.get(&run) {
            return Ok(Seen {
                run,
                at: at.clone(),
            });
        }
        let at: Option<String> = conn
            .query_row("SELECT started_at FROM runs WHERE id = ?1", [run], |r| {
                r.get(0)
            })
            .optional()?;
        self.at.insert(run, at.clone());
        Ok(Seen { run, at })
    }

    /// The latest run covering namespace `ns` before run `end` (before none: the latest).
    fn last(
        &mut self,
        conn: &Connection,
        ns: u64,
        end: Option<i64>,
    ) -> rusqlite::Result<Option<Seen>> {
        if let Some(s) = self.last.get(&(ns, end)) {
            return Ok(s.clone());
        }
        let pattern = format!(",{ns},");
        let found = conn
            .query_row(
                "SELECT id, started_at FROM runs WHERE id < ?1 \
                 AND instr(',' || scope || ',', ?2) > 0 ORDER BY id DESC LIMIT 1",
                rusqlite::params![end.unwrap_or(i64::MAX), pattern],
                |r| {
                    Ok(Seen {
                        run: r.get(0)?,
                        at: Some(r.get(1)?),
                    })
                },
            )
            .optional()?;
        self.last.insert((ns, end), found.clone());
        Ok(found)
    }

    fn interval(
        &mut self,
        conn: &Connection,
        ns: u64,
        first: i64,
        end: Option<i64>,
    ) -> rusqlite::Result<Interval> {
        Ok(Interval {
            first_seen: self.seen(conn, first)?,
            last_seen: self.last(conn, ns, end)?,
            gone: end.map(|e| self.seen(conn, e)).transpose()?,
        })
    }
}
