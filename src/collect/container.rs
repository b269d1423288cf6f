//! Container attribution from a cgroup path.
//!
//! Runtimes name their cgroups in a few stable shapes (systemd and cgroupfs drivers):
//! `docker-<id>.scope`, `/docker/<id>`, `cri-containerd-<id>.scope`, `crio-<id>.scope`,
//! `libpod-<id>.scope`, `/kubepods/.../pod<uid>/<id>`, `/lxc/<name>`, `lxc.payload.<name>`,
//! `machine-<name>.scope` (systemd-nspawn). The innermost match wins.

use crate::model::Container;

/// The container that a cgroup path (as /proc/PID/cgroup shows it) belongs to, or `None` for a
/// process in no container. The innermost segment that names a runtime wins; `pod_uid` is set for a
/// Kubernetes pod's cgroup (`pod<uid>`, or the systemd driver's `pod<uid_with_underscores>` with
/// its underscores turned back into dashes).
pub fn container_from_cgroup(path: &str) -> Option<Container> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let pod_uid = segments.iter().find_map(|s| pod_uid(s));
    let kube = segments.iter().any(|s| s.starts_with("kubepods"));
    for (i, seg) in segments.iter().enumerate().rev() {
        let seg = seg.strip_suffix(".scope").unwrap_or(seg);
        let found = if let Some(id) = seg.strip_prefix("docker-") {
            Some(("docker", id))
        } else if let Some(id) = seg.strip_prefix("cri-containerd-") {
            Some(("containerd", id))
        } else if let Some(id) = seg.strip_prefix("crio-conmon-") {
            Some(("cri-o", id))
        } else if let Some(id) = seg.strip_prefix("crio-") {
            Some(("cri-o", id))
        } else if let Some(id) = seg.strip_prefix("libpod-conmon-") {
            Some(("podman", id))
        } else if let Some(id) = seg.strip_prefix("libpod-") {
            Some(("podman", id))
        } else if let Some(name) = seg.strip_prefix("lxc.payload.") {
            Some(("lxc", name))
        } else if let Some(name) = seg.strip_prefix("machine-") {
            Some(("systemd-nspawn", name))
        } else if i > 0 && is_hex_id(seg) {
            match segments[i - 1] {
                "docker" => Some(("docker", seg)),
                "libpod_parent" => Some(("podman", seg)),
                p if p.starts_with("pod") || p.contains("-pod") => Some(("kubepods", seg)),
                _ => None,
            }
        } else if i > 0 && segments[i - 1] == "lxc" {
            Some(("lxc", seg))
        } else {
            None
        };
        if let Some((runtime, id)) = found {
            let runtime = if kube && runtime == "kubepods" {
                "kubepods"
            } else {
                runtime
            };
            return Some(Container {
                runtime: runtime.to_string(),
                id: id.to_string(),
                pod_uid: pod_uid.clone(),
            });
        }
    }
    None
}

fn is_hex_id(s: &str) -> bool {
    s.len() >= 12 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `pod<uid>` (cgroupfs) or `kubepods-besteffort-pod<uid_with_underscores>.slice` (systemd).
fn pod_uid(seg: &str) -> Option<String> {
    let seg = seg.strip_suffix(".slice").unwrap_or(seg);
    let idx = seg.rfind("pod")?;
    let uid = &seg[idx + 3..];
    let uid = uid.replace('_', "-");
    (uid.len() == 36 && uid.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')).then_some(uid)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "4f1c9a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7";

    fn rt(path: &str) -> Option<(String, String, Option<String>)> {
        container_from_cgroup(path).map(|c| (c.runtime, c.id, c.pod_uid))
    }

    #[test]
    fn runtimes() {
        assert_eq!(
            rt(&format!("/system.slice/docker-{ID}.scope")),
            Some(("docker".into(), ID.into(), None))
        );
        assert_eq!(
            rt(&format!("/docker/{ID}")),
            Some(("docker".into(), ID.into(), None))
        );
        assert_eq!(
            rt(&format!("/machine.slice/libpod-{ID}.scope/container")),
            Some(("podman".into(), ID.into(), None))
        );
        assert_eq!(
            rt(&format!("/system.slice/crio-{ID}.scope")).unwrap().0,
            "cri-o"
        );
        let k = rt(&format!(
            "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1b2c3d4e_5f60_7182_93a4_b5c6d7e8f901.slice/cri-containerd-{ID}.scope"
        ))
        .unwrap();
        assert_eq!(k.0, "containerd");
        assert_eq!(k.2.as_deref(), Some("1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901"));
        let k = rt(&format!(
            "/kubepods/burstable/pod1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901/{ID}"
        ))
        .unwrap();
        assert_eq!(k.0, "kubepods");
        assert_eq!(k.1, ID);
        assert_eq!(
            rt("/lxc/web01").unwrap(),
            ("lxc".into(), "web01".into(), None)
        );
        assert_eq!(rt("/lxc.payload.web01").unwrap().0, "lxc");
        assert_eq!(
            rt("/machine.slice/machine-debian1.scope").unwrap(),
            ("systemd-nspawn".into(), "debian1".into(), None)
        );
    }

    #[test]
    fn host_cgroups_are_not_containers() {
        for p in [
            "/",
            "/system.slice/sshd.service",
            "/user.slice/user-1000.slice/session-3.scope",
            "/init.scope",
        ] {
            assert_eq!(rt(p), None, "{p}");
        }
    }
}
