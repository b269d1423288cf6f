#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian/Ubuntu machine (as root); ci/test.sh runs it
# first, so the README's test command works on a new machine. Installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
missing=()
command -v ip >/dev/null || missing+=(iproute2)
command -v ss >/dev/null || missing+=(iproute2)
command -v python3 >/dev/null || missing+=(python3)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)            # the benign scan scenario runs a real sshd
command -v ssh-keygen >/dev/null || missing+=(openssh-client)
command -v setpriv >/dev/null || missing+=(util-linux)                  # the unprivileged snapshot test
command -v nsenter >/dev/null || missing+=(util-linux)                  # ss parity: -e cgroup paths (nsenter --net)
command -v unshare >/dev/null || missing+=(util-linux)                  # ss parity: -r with a private /etc/hosts
command -v mount >/dev/null || missing+=(mount)                         # its bind mounts
command -v modprobe >/dev/null || missing+=(kmod)                       # ss parity: -i loads tcp_bbr when it is a module
command -v strace >/dev/null || missing+=(strace)
command -v systemd-analyze >/dev/null || missing+=(systemd)                # verify the units
command -v man >/dev/null || missing+=(man-db)                           # render the man pages                       # delays a read in the churn test
command -v promtool >/dev/null || missing+=(prometheus)                 # promtool check metrics
command -v prometheus-node-exporter >/dev/null || missing+=(prometheus-node-exporter)
command -v lintian >/dev/null || missing+=(lintian)                     # checks the Debian package
command -v deb-systemd-helper >/dev/null || missing+=(init-system-helpers) # its maintainer scripts
command -v dockerd >/dev/null || missing+=(docker.io)                   # the container-image test's own dockerd
[ -x /bin/busybox ] || missing+=(busybox-static)                        # its workload image, FROM scratch
command -v gcc >/dev/null || missing+=(gcc)                             # the LD_PRELOAD libraries of the static-build and cross-view tests
[ -e /usr/include/linux/inet_diag.h ] || missing+=(linux-libc-dev)      # the cross-view test's hook reads sock_diag replies
[ -x /usr/bin/chromium ] || missing+=(chromium)                          # the HTML report's browser test
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)               # drives it (WebDriver)
# The behaviour tests (tests/it/behaviour.rs) build each technique with the real program.
command -v socat >/dev/null || missing+=(socat)
command -v gawk >/dev/null || missing+=(gawk)
command -v nc.openbsd >/dev/null || missing+=(netcat-openbsd)
command -v perl >/dev/null || missing+=(perl)
[ -x /usr/bin/python3 ] || missing+=(python3)                            # pty.spawn, AF_PACKET
[ -x /usr/sbin/nginx ] || missing+=(nginx-light)                         # the public web server
command -v dhclient >/dev/null || missing+=(isc-dhcp-client)             # the benign side: its BPF filter
command -v tcpdump >/dev/null || missing+=(tcpdump)
[ -x /usr/sbin/avahi-daemon ] || missing+=(avahi-daemon)                # mDNS (run without D-Bus)
command -v rsyslogd >/dev/null || missing+=(rsyslog)                    # a log forwarder and its collector
command -v chronyd >/dev/null || missing+=(chrony)
command -v dnsmasq >/dev/null || missing+=(dnsmasq-base)                 # a local DNS stub (no service)
command -v netstat >/dev/null || missing+=(net-tools)                   # import: netstat captures of a live namespace
command -v lsof >/dev/null || missing+=(lsof)                           # import: lsof captures (text and -F)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  # Install only: the tests start their own daemons (docker.io would otherwise start the
  # system's dockerd and containerd, with a bridge and iptables rules).
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get install -y -qq "${missing[@]}"
fi
# The real consumers of the report formats: the JSON Schema validator (SARIF's schema, and
# sockwarden's own draft 2020-12 schemas, tests/it/schema.rs) and a JUnit reader.
python3 -c "import jsonschema, junitparser" 2>/dev/null ||
  python3 -m pip install -q --disable-pip-version-check jsonschema junitparser
# The HTML report's browser test drives Chromium through its driver with selenium.
python3 -c "import selenium" 2>/dev/null ||
  python3 -m pip install -q --disable-pip-version-check selenium
# The Kubernetes schemas, offline, to validate the DaemonSet (no cluster here).
command -v kubernetes-validate >/dev/null ||
  python3 -m pip install -q --disable-pip-version-check kubernetes-validate
# The Debian package (packaging/deb/build.sh, tests/it/package.rs): the static musl target and
# cargo-deb, pinned; built once (4 min on 2 shared vCPUs) and only when missing.
rustup target list --installed | grep -qx x86_64-unknown-linux-musl ||
  rustup target add x86_64-unknown-linux-musl
# --debug: a packaging tool run once per CI; skipping optimization shortens its build.
command -v cargo-deb >/dev/null || cargo install --debug cargo-deb --version 3.8.0 --locked
echo "toolchain: $(rustc --version); kernel: $(uname -r); ss: $(ss -V)"
# The task-file BPF iterator tests need kernel BTF (and root's CAP_BPF); say so up front.
ls -l /sys/kernel/btf/vmlinux || echo "no kernel BTF: the BPF iterator tests will fail"
# The watch tests read the TCP state-change tracepoint's format and id from tracefs.
[ -e /sys/kernel/tracing/events/sock/inet_sock_set_state ] ||
  mount -t tracefs nodev /sys/kernel/tracing ||
  echo "no tracefs: the watch tests will fail"
