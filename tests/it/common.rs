//! Test support: private network namespaces, the socket lab, and a parser for `ss` output.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use sockwarden::model::Snapshot;

pub const BIN: &str = env!("CARGO_BIN_EXE_sockwarden");

/// What a workload started by a test must not inherit: cargo runs the test binary with
/// `LD_LIBRARY_PATH` naming the target directory, and under a checkout in /tmp that is a
/// world-writable directory, which NET-PRC-009 rightly reports on every socket holder. Every
/// `ip netns exec` of a workload removes it (`.env_remove(INHERITED_LOADER_PATH)`).
pub const INHERITED_LOADER_PATH: &str = "LD_LIBRARY_PATH";

/// True when the test may run. Without root it skips locally, but fails under CI=true:
/// CI runs as root, and a silent skip there would hide a broken test.
pub fn require_root(test: &str) -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{test} needs root and network namespaces, and CI=true forbids skipping it");
    }
    eprintln!("skipping {test}: needs root");
    false
}

fn sh(args: &[&str]) {
    let st = Command::new(args[0])
        .args(&args[1..])
        .status()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(st.success(), "{args:?} failed: {st}");
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A network namespace that exists for the life of the value, with lo up and a veth pair
/// carrying 192.0.2.1/24 and 2001:db8::1/64 whose neighbours .99/::99 never answer.
pub struct Netns {
    pub name: String,
    pub work: tempfile::TempDir,
    children: Vec<Child>,
}

impl Netns {
    pub fn new() -> Netns {
        let name = format!(
            "swtest-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        sh(&["ip", "netns", "add", &name]);
        let ns = Netns {
            name: name.clone(),
            work: tempfile::tempdir().unwrap(),
            children: Vec::new(),
        };
        for cmd in [
            "link set lo up",
            "link add veth0 type veth peer name veth1",
            "link set veth0 up",
            "link set veth1 up",
            "addr add 192.0.2.1/24 dev veth0",
            "addr add 2001:db8::1/64 dev veth0 nodad",
            "neigh add 192.0.2.99 lladdr 02:00:00:00:00:99 dev veth0 nud permanent",
            "neigh add 2001:db8::99 lladdr 02:00:00:00:00:99 dev veth0 nud permanent",
        ] {
            let mut args = vec!["ip", "-n", &name];
            args.extend(cmd.split(' '));
            sh(&args);
        }
        ns
    }

    /// Runs a command inside the namespace and returns its output.
    /// Runs `script` with `sh -c` in this namespace and in a new PID namespace with its own
    /// /proc, so everything the script starts dies with it.
    pub fn run_script_in_own_pids(&self, script: &str) -> std::process::Output {
        self.run(&[
            "unshare",
            "--pid",
            "--fork",
            "--mount-proc",
            "sh",
            "-c",
            script,
        ])
    }

    pub fn run(&self, args: &[&str]) -> std::process::Output {
        Command::new("ip")
            .env_remove(INHERITED_LOADER_PATH)
            .args(["netns", "exec", &self.name])
            .args(args)
            .output()
            .unwrap()
    }

    /// Runs `python3 tests/scripts/SCRIPT ARGS...` inside the namespace (killed on drop) and
    /// returns its pid and the first line it prints.
    fn launch(&mut self, script: &str, args: &[String]) -> (u32, String) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/scripts")
            .join(script);
        let mut child = Command::new("ip")
            .env_remove(INHERITED_LOADER_PATH)
            .args(["netns", "exec", &self.name, "python3"])
            .arg(&path)
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let pid = child.id();
        self.children.push(child);
        (pid, line)
    }

    /// Starts tests/scripts/SCRIPT with the work dir and `args`, and returns the JSON it prints
    /// after `READY_PREFIX` on its first line.
    fn start_script(
        &mut self,
        script: &str,
        args: &[&str],
        ready_prefix: &str,
    ) -> serde_json::Value {
        let mut all = vec![self.work.path().display().to_string()];
        all.extend(args.iter().map(|a| a.to_string()));
        let (_, line) = self.launch(script, &all);
        let json = line
            .strip_prefix(ready_prefix)
            .unwrap_or_else(|| panic!("{script} {args:?} did not start: {line:?}"));
        serde_json::from_str(json).unwrap()
    }

    /// Starts the socket lab inside the namespace; returns its ground truth.
    pub fn start_lab(&mut self, pairs: usize) -> serde_json::Value {
        self.start_script("lab.py", &["--pairs", &pairs.to_string()], "LAB READY ")
    }

    /// Starts a scan scenario (tests/scripts/scenario.py MODE) inside the namespace.
    pub fn start_scenario(&mut self, mode: &str) -> serde_json::Value {
        self.start_script("scenario.py", &[mode], "SCENARIO READY ")
    }

    /// Starts tests/scripts/svc.py inside the namespace and waits until its socket exists.
    /// Returns its pid (the python process, or the program it execs).
    pub fn service(&mut self, args: &[&str]) -> u32 {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let (pid, line) = self.launch("svc.py", &args);
        assert_eq!(line.trim(), "READY", "svc.py {args:?}");
        pid
    }

    /// Takes a program the caller started in the namespace: it is killed on drop.
    pub fn adopt(&mut self, child: Child) {
        self.children.push(child);
    }

    /// Stops a program started in the namespace.
    pub fn kill(&mut self, pid: u32) {
        if let Some(i) = self.children.iter().position(|c| c.id() == pid) {
            let mut c = self.children.remove(i);
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts a long-running program inside the namespace; it is killed on drop.
    pub fn spawn(&mut self, args: &[&str]) {
        let child = Command::new("ip")
            .env_remove(INHERITED_LOADER_PATH)
            .args(["netns", "exec", &self.name])
            .args(args)
            .spawn()
            .unwrap();
        self.children.push(child);
    }

    /// Runs `ip -n NS ...`.
    pub fn ip(&self, args: &str) {
        let mut v = vec!["ip", "-n", &self.name];
        v.extend(args.split(' '));
        sh(&v);
    }

    /// `sockwarden snapshot` run inside the namespace.
    pub fn snapshot(&self) -> Snapshot {
        self.snapshot_with(&[])
    }

    /// `sockwarden snapshot ARGS...` run inside the namespace.
    pub fn snapshot_with(&self, args: &[&str]) -> Snapshot {
        let mut argv = vec![BIN, "snapshot"];
        argv.extend_from_slice(args);
        let out = self.run(&argv);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout)
            .expect("snapshot is valid JSON of the documented schema")
    }

    pub fn workdir(&self) -> PathBuf {
        self.work.path().to_path_buf()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        // Whatever still runs in the namespace (the lab's exec'd children) goes too.
        if let Ok(out) = Command::new("ip")
            .args(["netns", "pids", &self.name])
            .output()
        {
            for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                let _ = Command::new("kill").args(["-9", pid]).status();
            }
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// A history in a namespace's work dir recorded by scans inside the namespace, `scan
/// --no-config --record --since-last --format json -o jsonl=EVENTS`: the recorded-run steps the
/// history and schema tests share.
pub struct RecordedScans {
    /// The history database.
    pub db: PathBuf,
    /// The JSON Lines file each scan rewrites (findings, then change events).
    pub events: PathBuf,
}

/// What [`RecordedScans::around_tmp_listener`] saw: each scan's exit status and JSON report,
/// and the scenario's ground truth.
pub struct AroundTmpListener {
    pub first: (i32, serde_json::Value),
    pub second: (i32, serde_json::Value),
    pub scenario: serde_json::Value,
}

impl RecordedScans {
    pub fn new(ns: &Netns) -> RecordedScans {
        RecordedScans {
            db: ns.workdir().join("history.db"),
            events: ns.workdir().join("events.jsonl"),
        }
    }

    /// One recorded scan: its exit status (0 or 1: an error fails the test) and its report.
    pub fn scan(&self, ns: &Netns) -> (i32, serde_json::Value) {
        let jsonl = format!("jsonl={}", self.events.display());
        let out = ns.run(&[
            BIN,
            "--history",
            self.db.to_str().unwrap(),
            "scan",
            "--no-config",
            "--record",
            "--since-last",
            "--format",
            "json",
            "-o",
            &jsonl,
        ]);
        let code = out.status.code().unwrap();
        assert!(code < 2, "{}", String::from_utf8_lossy(&out.stderr));
        (code, serde_json::from_slice(&out.stdout).unwrap())
    }

    /// A scan, then a listener run from /tmp (scenario.py `tmp-listener`, which the default
    /// rules report), then a second scan.
    pub fn around_tmp_listener(&self, ns: &mut Netns) -> AroundTmpListener {
        let first = self.scan(ns);
        let scenario = ns.start_scenario("tmp-listener");
        let second = self.scan(ns);
        AroundTmpListener {
            first,
            second,
            scenario,
        }
    }

    /// The JSON Lines the latest scan wrote.
    pub fn events(&self) -> String {
        std::fs::read_to_string(&self.events).unwrap()
    }
}

/// One socket as `ss -Htuawx0npe` printed it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SsRow {
    pub netid: String,
    pub state: String,
    pub local: String,
    pub remote: String,
    pub inode: u64,
    pub pids: Vec<u32>,
}

/// Parses `ss -H -tuawx0npe` output. Unix rows carry the inode as the local "port"; the others
/// as `ino:N`. Names in the test never contain spaces, so whitespace splitting is exact here.
pub fn parse_ss(text: &str) -> Vec<SsRow> {
    let mut rows = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() || line.starts_with('\t') {
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        let netid = f[0].to_string();
        let state = f[1].to_string();
        let (local, remote, inode, rest) = if netid.starts_with("u_") {
            let inode = f[5].parse().unwrap();
            (
                f[4].to_string(),
                format!("{} {}", f[6], f[7]),
                inode,
                &f[8..],
            )
        } else {
            let ino = f
                .iter()
                .find_map(|t| t.strip_prefix("ino:"))
                .map(|v| v.parse().unwrap())
                .unwrap_or(0);
            (f[4].to_string(), f[5].to_string(), ino, &f[6..])
        };
        let mut pids: Vec<u32> = rest
            .iter()
            .filter(|t| t.starts_with("users:"))
            .flat_map(|t| t.split("pid=").skip(1))
            .map(|p| p.split(',').next().unwrap().parse().unwrap())
            .collect();
        pids.sort_unstable();
        pids.dedup();
        rows.push(SsRow {
            netid,
            state,
            local,
            remote,
            inode,
            pids,
        });
    }
    rows
}

/// For every file in tests/fixtures/DIR (at least `min`), whose first line is
/// `# expect: LINE:COL: text`: `run(file)` must exit 2 and print `FILE:LINE:COL: ...text...`,
/// never a panic.
pub fn assert_located_errors(dir: &str, min: usize, run: impl Fn(&Path) -> std::process::Output) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(
        files.len() >= min,
        "only {} files in {}",
        files.len(),
        dir.display()
    );
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let expect = text
            .lines()
            .next()
            .unwrap()
            .strip_prefix("# expect: ")
            .unwrap();
        let (loc, msg) = expect.split_at(expect.find(": ").unwrap());
        let msg = &msg[2..];
        let out = run(f);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {err}", f.display());
        assert!(!err.contains("panicked"), "{err}");
        let want = format!("{}:{loc}: ", f.display());
        let line = err
            .lines()
            .find(|l| l.starts_with(&want))
            .unwrap_or_else(|| panic!("{}: no error at {loc}:\n{err}", f.display()));
        assert!(
            line.contains(msg),
            "{}: {line:?} lacks {msg:?}",
            f.display()
        );
    }
}

/// Asserts a command's exit status, showing its stderr when it differs.
pub fn expect_exit(out: &std::process::Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "exit status {:?}, stderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The static (musl) release binary that `ci/build-static.sh` builds beside this test build:
/// `<target dir>/x86_64-unknown-linux-musl/release/sockwarden`. When it is missing, a test
/// fails under CI=true (ci/test.sh builds it first) and is skipped otherwise, saying why.
pub fn static_bin(test: &str) -> Option<PathBuf> {
    // BIN is <target dir>/<profile>/sockwarden.
    let target = Path::new(BIN).parent()?.parent()?;
    let bin = target.join("x86_64-unknown-linux-musl/release/sockwarden");
    if bin.is_file() {
        return Some(bin);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "{test}: {} is missing; ci/build-static.sh builds it (CI=true forbids skipping)",
            bin.display()
        );
    }
    eprintln!(
        "skipping {test}: no static build at {} (run ci/build-static.sh)",
        bin.display()
    );
    None
}

/// Runs a copy of the binary with `args` as user nobody holding exactly the capabilities `caps`
/// (setpriv's names: `bpf`, `net_admin`, ...) in its inheritable, ambient and bounding sets,
/// with no new privileges; inside the namespace `ns` when given. The copy (mode 0755, in the
/// temporary directory) lets nobody execute it wherever the build tree lives; it is removed
/// afterwards.
pub fn run_with_caps<C: AsRef<str>>(
    caps: &[C],
    ns: Option<&Netns>,
    args: &[&str],
) -> std::process::Output {
    use std::os::unix::fs::PermissionsExt;
    let bin = std::env::temp_dir().join(format!(
        "sockwarden-caps-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::copy(BIN, &bin).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let set: Vec<String> = caps.iter().map(|c| format!("+{}", c.as_ref())).collect();
    let set = set.join(",");
    let mut cmd = match ns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.env_remove(INHERITED_LOADER_PATH)
                .args(["netns", "exec", &ns.name, "setpriv"]);
            c
        }
        None => Command::new("setpriv"),
    };
    let out = cmd
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            &format!("--inh-caps=-all,{set}"),
            &format!("--ambient-caps=-all,{set}"),
            &format!("--bounding-set=-all,{set}"),
            "--no-new-privs",
        ])
        .arg(&bin)
        .args(args)
        .output()
        .unwrap();
    std::fs::remove_file(&bin).unwrap();
    out
}
