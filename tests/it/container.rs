//! The container image (packaging/container/Containerfile, issue 13) under a dockerd of the
//! test's own: built FROM scratch from the static binary, it scans two workload containers'
//! network namespaces through /proc (`--pid host`, no network of its own) and attributes their
//! listeners to the container ids `docker inspect` reports; its findings name the namespace and
//! the container. Nothing is pulled: both images are built FROM scratch here.
//!
//! dockerd gets a private data root, exec root, socket and pid file in a temporary directory,
//! no bridge and no iptables rules (every container runs with `--network none`), the vfs storage
//! driver (no overlay mounts to leak) and the cgroupfs driver (no systemd here). The guard stops
//! it and removes every container, image and the data root, even when an assertion fails.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{require_root, static_bin};

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// A dockerd of the test's own, stopped and cleaned up on drop.
struct Dockerd {
    dir: tempfile::TempDir,
    child: Option<Child>,
    client: &'static str,
}

impl Dockerd {
    fn sock(&self) -> PathBuf {
        self.dir.path().join("docker.sock")
    }

    /// Starts dockerd and waits (up to 60 s) until it answers; the error carries its log.
    fn start() -> Result<Dockerd, String> {
        let dir = tempfile::Builder::new()
            .prefix("swdocker-")
            .tempdir()
            .unwrap();
        let p = |n: &str| dir.path().join(n).display().to_string();
        let log = std::fs::File::create(dir.path().join("dockerd.log")).unwrap();
        let child = Command::new("dockerd")
            .args(["--data-root", &p("data"), "--exec-root", &p("exec")])
            .args(["--pidfile", &p("docker.pid")])
            .args(["-H", &format!("unix://{}", p("docker.sock"))])
            .args(["--iptables=false", "--ip6tables=false", "--bridge=none"])
            .args(["--storage-driver=vfs"])
            .args(["--exec-opt", "native.cgroupdriver=cgroupfs"])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("dockerd: {e}"))?;
        // The client that came with the daemon (Debian's docker.io), else any on PATH.
        let client = if Path::new("/usr/bin/docker").exists() {
            "/usr/bin/docker"
        } else {
            "docker"
        };
        let mut d = Dockerd {
            dir,
            child: Some(child),
            client,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if d.docker(&["version"]).status.success() {
                return Ok(d);
            }
            let exited = d.child.as_mut().unwrap().try_wait().ok().flatten();
            if exited.is_some() || Instant::now() > deadline {
                let log =
                    std::fs::read_to_string(d.dir.path().join("dockerd.log")).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(15).collect();
                return Err(format!(
                    "dockerd did not come up ({exited:?}); log tail:\n{}",
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                ));
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    fn docker(&self, args: &[&str]) -> Output {
        Command::new(self.client)
            .args(args)
            .env("DOCKER_HOST", format!("unix://{}", self.sock().display()))
            .env("DOCKER_CONFIG", self.dir.path().join("client"))
            // The legacy builder: FROM scratch needs no BuildKit, and no buildx plugin is assumed.
            .env("DOCKER_BUILDKIT", "0")
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("{}: {e}", self.client))
    }

    /// `docker ARGS`, which must succeed; its stdout, trimmed.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.docker(args);
        assert!(
            out.status.success(),
            "docker {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Builds an image from a Containerfile and a context directory.
    fn build(&self, tag: &str, file: &Path, ctx: &Path) {
        self.ok(&[
            "build",
            "-q",
            "-t",
            tag,
            "-f",
            &file.display().to_string(),
            &ctx.display().to_string(),
        ]);
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        // Every container (running or not), then every image, then the daemon.
        let ids = self.docker(&["ps", "-aq"]);
        for id in String::from_utf8_lossy(&ids.stdout).split_whitespace() {
            let _ = self.docker(&["rm", "-f", "-v", id]);
        }
        let ids = self.docker(&["images", "-aq"]);
        for id in String::from_utf8_lossy(&ids.stdout).split_whitespace() {
            let _ = self.docker(&["rmi", "-f", id]);
        }
        let _ = self.docker(&["network", "prune", "-f"]);
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while child.try_wait().ok().flatten().is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        // Whatever dockerd or its containerd left mounted under the directory, innermost first,
        // before the directory goes.
        let root = self.dir.path().display().to_string();
        let mut mounts: Vec<String> = std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split(' ').nth(4).map(str::to_string))
            .filter(|m| m.starts_with(&root))
            .collect();
        mounts.sort_by_key(|m| std::cmp::Reverse(m.len()));
        for m in mounts {
            let _ = Command::new("umount").args(["-l", &m]).status();
        }
    }
}

/// A container of the test: its id, its init's host pid and its network namespace's inode.
struct Workload {
    id: String,
    pid: u32,
    netns: u64,
    port: u16,
}

/// Starts `busybox httpd` on `port` in a container with no network but its loopback, and waits
/// until it listens.
fn workload(d: &Dockerd, image: &str, port: u16) -> Workload {
    let id = d.ok(&[
        "run",
        "-d",
        "--network",
        "none",
        image,
        "httpd",
        "-f",
        "-p",
        &port.to_string(),
        "-h",
        "/",
    ]);
    let pid: u32 = d
        .ok(&["inspect", "-f", "{{.State.Pid}}", &id])
        .parse()
        .unwrap();
    let link = std::fs::read_link(format!("/proc/{pid}/ns/net")).unwrap();
    let netns = link
        .to_string_lossy()
        .trim_start_matches("net:[")
        .trim_end_matches(']')
        .parse()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = Command::new("nsenter")
            .args([&format!("--net=/proc/{pid}/ns/net"), "ss", "-Htln"])
            .arg(format!("sport = :{port}"))
            .output()
            .unwrap();
        if !out.stdout.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "{id} never listened on {port}");
        std::thread::sleep(Duration::from_millis(200));
    }
    Workload {
        id,
        pid,
        netns,
        port,
    }
}

/// `docker run` of the sockwarden image as docs/operations.md runs it: the host's PID namespace
/// (to reach every process's /proc entry and, through it, every network namespace), no network
/// of its own, a read-only root, every capability dropped but `caps`, the host's cgroup
/// namespace (cgroup paths as the host names them, so containers are recognised on cgroup v2
/// too) and UTS namespace (the report's `host` is the machine's name).
fn run_sockwarden(d: &Dockerd, image: &str, caps: &[String], args: &[&str]) -> Output {
    let mut a: Vec<String> = [
        "run",
        "--rm",
        "--pid",
        "host",
        "--network",
        "none",
        "--cgroupns",
        "host",
        "--uts",
        "host",
        "--read-only",
        "--cap-drop",
        "ALL",
    ]
    .map(String::from)
    .to_vec();
    for c in caps {
        a.push("--cap-add".into());
        a.push(c.to_ascii_uppercase());
    }
    a.push(image.into());
    a.extend(args.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = a.iter().map(String::as_str).collect();
    d.docker(&refs)
}

/// The scan unit's capability set and CAP_SYS_ADMIN (setns into other namespaces), as this
/// docker accepts it: Docker 20.10 (Debian 12's docker.io) refuses CAP_BPF and CAP_PERFMON
/// ("unknown capability"), and the kernel grants what they allow to CAP_SYS_ADMIN as well
/// (bpf_capable, perfmon_capable), so they are left out there.
fn caps(d: &Dockerd, image: &str) -> Vec<String> {
    let mut caps = crate::operations::unit_caps();
    caps.push("sys_admin".into());
    let out = run_sockwarden(d, image, &caps, &["--version"]);
    let err = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() && err.contains("unknown capability") {
        eprintln!(
            "docker refuses a capability ({}); CAP_SYS_ADMIN covers CAP_BPF and CAP_PERFMON",
            err.trim()
        );
        caps.retain(|c| c != "bpf" && c != "perfmon");
    }
    caps
}

fn stdout_json(out: &Output, code: i32) -> Value {
    crate::common::expect_exit(out, code);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// Builds the image from packaging/container/Containerfile exactly as docs/operations.md does
/// (context: the static binary and the default configuration), and a workload image FROM
/// scratch holding Debian's static busybox.
fn build_images(d: &Dockerd, stat: &Path) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ctx = d.dir.path().join("ctx");
    std::fs::create_dir(&ctx).unwrap();
    std::fs::copy(stat, ctx.join("sockwarden")).unwrap();
    std::fs::copy(
        repo.join("packaging/etc/config.yaml"),
        ctx.join("config.yaml"),
    )
    .unwrap();
    d.build(
        "sockwarden:test",
        &repo.join("packaging/container/Containerfile"),
        &ctx,
    );
    let wl = d.dir.path().join("workload");
    std::fs::create_dir(&wl).unwrap();
    std::fs::copy("/bin/busybox", wl.join("busybox"))
        .expect("/bin/busybox (ci/deps.sh installs busybox-static)");
    std::fs::write(
        wl.join("Containerfile"),
        "FROM scratch\nCOPY busybox /bin/busybox\nENTRYPOINT [\"/bin/busybox\"]\n",
    )
    .unwrap();
    d.build("swtest-workload:test", &wl.join("Containerfile"), &wl);
}

#[test]
fn the_image_scans_other_containers_and_names_them() {
    if !require_root("the_image_scans_other_containers_and_names_them") {
        return;
    }
    let Some(stat) = static_bin("the_image_scans_other_containers_and_names_them") else {
        return;
    };
    if Command::new("dockerd").arg("--version").output().is_err() {
        assert!(!ci(), "dockerd is missing; ci/deps.sh installs docker.io");
        eprintln!("skipping the_image_scans_other_containers_and_names_them: no dockerd");
        return;
    }
    let d = Dockerd::start().unwrap_or_else(|e| panic!("{e}"));
    build_images(&d, &stat);
    // The image holds the binary and the configuration (and what docker adds to every container).
    let files = d.ok(&["create", "sockwarden:test"]);
    let export = d.docker(&["export", &files]);
    assert!(export.status.success());
    let names = tar_names(&export.stdout);
    for want in ["sockwarden", "etc/sockwarden/config.yaml"] {
        assert!(names.iter().any(|n| n == want), "{want} not in {names:?}");
    }
    d.ok(&["rm", &files]);

    // Two services on ports the built-in NET-EXP-002 knows (redis, mongodb), each listening on
    // every address of its own network namespace.
    let redis = workload(&d, "swtest-workload:test", 6379);
    let mongo = workload(&d, "swtest-workload:test", 27017);
    assert_ne!(redis.netns, mongo.netns);
    let caps = caps(&d, "sockwarden:test");

    // Attribution: the snapshot, with the owners from the BPF iterator (which CAP_SYS_ADMIN or
    // CAP_BPF + CAP_PERFMON allow).
    let snap = stdout_json(
        &run_sockwarden(
            &d,
            "sockwarden:test",
            &caps,
            &["snapshot", "--all-netns", "--owners-from", "bpf"],
        ),
        0,
    );
    assert_eq!(snap["meta"]["privileged"], true, "{}", snap["meta"]);
    assert_eq!(snap["meta"]["sources"]["owners"], "bpf_iter");
    assert!(
        snap["gaps"].as_array().is_none_or(Vec::is_empty),
        "{}",
        snap["gaps"]
    );
    // The host's own namespace (this test's) is scanned too; the namespace sockwarden runs in
    // (its empty one, --network none) is the one labelled `host`.
    let ino = |pid: &str| -> u64 {
        let l = std::fs::read_link(format!("/proc/{pid}/ns/net")).unwrap();
        let l = l.to_string_lossy();
        l.trim_start_matches("net:[")
            .trim_end_matches(']')
            .parse()
            .unwrap()
    };
    let host_ns = ino("self");
    let nss = snap["namespaces"].as_array().unwrap();
    let host = nss
        .iter()
        .find(|n| n["inode"] == host_ns)
        .expect("the host's netns");
    assert!(host["current"].is_null(), "{host}");
    assert!(
        nss.iter()
            .any(|n| n["current"] == true && n["inode"] != host_ns)
    );
    for w in [&redis, &mongo] {
        let sock = snap["sockets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| {
                s["netns"] == w.netns && s["state"] == "listen" && s["local"]["port"] == w.port
            })
            .unwrap_or_else(|| panic!("no listener on {} in netns {}", w.port, w.netns));
        let pid = sock["owners"][0]["pid"].as_u64().unwrap();
        assert_eq!(pid, u64::from(w.pid), "{sock}");
        let proc_ = snap["processes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["pid"] == pid)
            .unwrap();
        assert_eq!(proc_["container"]["runtime"], "docker", "{proc_}");
        assert_eq!(proc_["container"]["id"], w.id.as_str(), "{proc_}");
        assert_eq!(proc_["netns"], w.netns);
    }

    // The findings name the namespace and the container (exit 1: there are findings).
    let report = stdout_json(
        &run_sockwarden(
            &d,
            "sockwarden:test",
            &caps,
            &["scan", "--all-netns", "--format", "json"],
        ),
        1,
    );
    assert_eq!(
        report["coverage"]["complete"], true,
        "{}",
        report["coverage"]
    );
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(report["host"], hostname.trim(), "--uts host");
    for w in [&redis, &mongo] {
        let f = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule_id"] == "NET-EXP-002" && f["socket"]["local"]["port"] == w.port)
            .unwrap_or_else(|| panic!("NET-EXP-002 did not fire on :{}: {report}", w.port));
        let label = format!("ns:{}", w.netns);
        assert_eq!(f["socket"]["netns"], label.as_str(), "{f}");
        assert_eq!(f["socket"]["netns_inode"], w.netns, "{f}");
        assert_eq!(f["processes"][0]["container"]["id"], w.id.as_str(), "{f}");
        let m = f["message"].as_str().unwrap();
        assert!(
            m.contains(&format!("container docker {}", &w.id[..12])),
            "{m}"
        );
        assert!(m.ends_with(&format!(" in netns {label}")), "{m}");
    }

    // The image's default command (`scan --all-netns --format jsonl`): JSON Lines with ECS
    // `container.id` for each workload's finding.
    let out = run_sockwarden(&d, "sockwarden:test", &caps, &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for w in [&redis, &mongo] {
        assert!(
            lines.iter().any(|l| l["container"]["id"] == w.id.as_str()
                && l["sockwarden"]["socket"]["netns_inode"] == w.netns),
            "no JSON line for {}",
            w.id
        );
    }
}

/// The member names of a tar stream (ustar headers; names only, enough for `docker export`).
fn tar_names(tar: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    let mut off = 0;
    while off + 512 <= tar.len() {
        let h = &tar[off..off + 512];
        if h.iter().all(|&b| b == 0) {
            break;
        }
        let field = |a: usize, n: usize| {
            let f = &h[a..a + n];
            String::from_utf8_lossy(&f[..f.iter().position(|&b| b == 0).unwrap_or(n)]).into_owned()
        };
        let prefix = field(345, 155);
        let name = field(0, 100);
        let name = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let size = usize::from_str_radix(field(124, 12).trim(), 8).unwrap_or(0);
        names.push(name.trim_end_matches('/').to_string());
        off += 512 + size.div_ceil(512) * 512;
    }
    names
}
