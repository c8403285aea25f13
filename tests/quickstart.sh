#!/bin/bash
# Quick start on a fresh Debian 12 machine, as root: install what husk needs, build it, make a busybox
# bundle in a temp dir, and run one container that says hello and shows its security settings.
#
#   bash tests/quickstart.sh
#
# HUSK_QUICKSTART_NO_APT=1 skips apt-get (when the packages are already there).

set -eu
export DEBIAN_FRONTEND=noninteractive
exec </dev/null
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
	echo "quickstart: run me as root" >&2
	exit 1
fi

if [ -z "${HUSK_QUICKSTART_NO_APT:-}" ]; then
	echo "==> installing the build dependencies and busybox-static"
	apt-get update -q
	apt-get install -y -q --no-install-recommends autoconf automake make gcc libc6-dev pkg-config \
		libseccomp-dev libcap-dev libyajl-dev libmnl-dev libarchive-dev libssl-dev busybox-static jq
fi

echo "==> building husk"
[ -f Makefile ] || { ./autogen.sh && ./configure; }
make -j2 husk

echo "==> making a busybox bundle"
bundle=$(mktemp -d /tmp/husk-demo.XXXXXX)
trap 'rm -rf "$bundle"' EXIT
mkdir -p "$bundle"/rootfs/{bin,proc,sys,dev,tmp}
cp /bin/busybox "$bundle/rootfs/bin/busybox"
for applet in sh cat grep hostname unshare true; do
	ln -s busybox "$bundle/rootfs/bin/$applet"
done
./husk spec --bundle "$bundle"
# The process to run, no terminal, and a cgroup of its own at the top of each hierarchy (husk
# removes it when the container exits).
# A small seccomp profile shows the filter at work: the container may not make namespaces or mounts.
jq '.process.args = ["sh", "-c", "echo hello from $(hostname); grep -E \"^(NoNewPrivs|Seccomp|CapEff):\" /proc/self/status; unshare -U true || echo \"(seccomp refused unshare, as configured)\""]
	| .process.terminal = false
	| .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: ["unshare", "setns", "mount",
	    "umount2", "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd"],
	    action: "SCMP_ACT_ERRNO", errnoRet: 1}]}
	| .linux.cgroupsPath = "/husk-demo"' "$bundle/config.json" >"$bundle/config.json.new"
mv "$bundle/config.json.new" "$bundle/config.json"

echo "==> ./husk run --bundle $bundle demo"
./husk run --bundle "$bundle" demo
