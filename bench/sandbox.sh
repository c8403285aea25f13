#!/bin/bash
# Benchmark: `husk sandbox -- /bin/true` against bubblewrap (Debian's bwrap) doing the same job, in
# the same run, interleaved by hyperfine.  Reports mean wall times and the ratio husk/bwrap.  Not part
# of `make check`.
#
# Usage: bench/sandbox.sh [RUNS]     (as root; needs hyperfine, bubblewrap and jq)
#
# Both get: the host's / read-only (mounts below it included), a fresh /proc, a minimal /dev, a
# private /tmp, the current directory read-write, new pid/mount/ipc/uts/cgroup/network namespaces
# (no user namespace: both run as root), no new privileges, and husk's default capability set
# (CAP_KILL, CAP_NET_BIND_SERVICE, CAP_AUDIT_WRITE; bwrap as root would keep them all).  husk also
# makes a cgroup (under /husk-bench, removed at the end), its state directory, a watchdog process and
# a seccomp filter; the husk-unconfined line shows what the seccomp profile costs.  bwrap makes no
# cgroup, so the spaced run (a pause before each start, as run.sh does) shows the v1 cgroup cost
# that a burst hides.
set -euo pipefail
runs=${1:-50}
top=$(cd "$(dirname "$0")/.." && pwd)
husk=${HUSK:-$top/husk}
work=$(mktemp -d /tmp/husk-bench.XXXXXX)
cleanup() {
  for d in /sys/fs/cgroup/*/husk-bench /sys/fs/cgroup/husk-bench; do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

sandbox="$husk --root $work/root sandbox --cgroup-parent /husk-bench"
bwrap="bwrap --ro-bind / / --proc /proc --dev /dev --tmpfs /tmp --bind $work $work --unshare-ipc --unshare-pid
  --unshare-net --unshare-uts --unshare-cgroup --die-with-parent --cap-drop ALL --cap-add CAP_KILL
  --cap-add CAP_NET_BIND_SERVICE --cap-add CAP_AUDIT_WRITE"
bwrap=${bwrap//$'\n'/}

# The same isolation, checked once: both see a read-only host, a writable current directory, only lo.
probe='grep -E "^(CapEff|NoNewPrivs)" /proc/self/status; touch /etc/husk-bench 2>/dev/null || echo ro;
  touch ok && echo rw; grep -c : /proc/net/dev; ls /tmp'
echo "husk:  $($sandbox -- sh -c "$probe" | tr '\n' ' ')" >&2
echo "bwrap: $($bwrap sh -c "$probe" | tr '\n' ' ')" >&2
rm -f ok

hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/sandbox.json" \
  -n husk "$sandbox -- /bin/true" \
  -n husk-unconfined "$sandbox --seccomp unconfined -- /bin/true" \
  -n bwrap "$bwrap /bin/true" >&2

hyperfine -N --warmup 2 --runs "$runs" --prepare 'sleep 0.2' --export-json "$work/spaced.json" \
  -n husk "$sandbox -- /bin/true" \
  -n husk-unconfined "$sandbox --seccomp unconfined -- /bin/true" \
  -n bwrap "$bwrap /bin/true" >&2

report() {
  jq -r --arg what "$1" '.results | (map({(.command): .mean}) | add) as $m |
    "\($what): husk sandbox \($m.husk*1000|.*100|round/100) ms (unconfined \($m["husk-unconfined"]*1000|.*100|round/100) ms), bwrap \($m.bwrap*1000|.*100|round/100) ms; husk/bwrap \($m.husk/$m.bwrap*100|round/100) (unconfined \($m["husk-unconfined"]/$m.bwrap*100|round/100))"' "$2"
}
report "back-to-back" "$work/sandbox.json"
report "spaced" "$work/spaced.json"
