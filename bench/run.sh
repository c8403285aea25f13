#!/bin/bash
# Benchmark: `husk run` against runc and crun on the same busybox bundle, in the same run, interleaved
# by hyperfine.  Reports wall time ratios (husk/runc, husk/crun) and peak RSS.  Not part of `make check`.
#
# Usage: bench/run.sh [RUNS]        (as root; needs hyperfine, runc, crun, busybox-static, jq)
#
# crun 1.8.1 refuses hybrid cgroup hosts; as on ../shared/README.md it runs inside a private mount
# namespace where /sys/fs/cgroup/unified is hidden under an empty tmpfs (that wrapper does not change
# runc's timings).  Every container gets an absolute cgroupsPath under /husk-bench, removed at the end.
set -euo pipefail
runs=${1:-30}
top=$(cd "$(dirname "$0")/.." && pwd)
husk=$top/husk
work=$(mktemp -d /tmp/husk-bench.XXXXXX)
cleanup() {
  for d in /sys/fs/cgroup/*/husk-bench /sys/fs/cgroup/husk-bench; do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/bundle/rootfs/bin" "$work/bundle/rootfs/proc" "$work/bundle/rootfs/sys" \
  "$work/bundle/rootfs/dev" "$work/bundle/rootfs/tmp"
cp /bin/busybox "$work/bundle/rootfs/bin/busybox"
for t in sh true; do ln -s busybox "$work/bundle/rootfs/bin/$t"; done
"$husk" spec --bundle "$work/bundle"
# ociVersion 1.0.2: crun 1.8.1 refuses "1.2.0" ("unknown version specified").
jq '.ociVersion = "1.0.2" | .process.args = ["/bin/true"] | .linux.cgroupsPath = "/husk-bench/c"' \
  "$work/bundle/config.json" \
  > "$work/c.json" && mv "$work/c.json" "$work/bundle/config.json"

cat > "$work/crun-wrap" <<'W'
#!/bin/bash
exec unshare -m --propagation private bash -c 'mount -t tmpfs none /sys/fs/cgroup/unified && exec crun "$@"' crun "$@"
W
chmod +x "$work/crun-wrap"

cd "$work/bundle"
hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/run.json" \
  -n husk "$husk --root $work/husk-root run b1" \
  -n runc "runc --root $work/runc-root run b2" \
  -n crun "$work/crun-wrap --root $work/crun-root run b3" >&2

# Spaced: a pause before each run, as when containers start now and then.  Back-to-back runs hide
# costs that the kernel amortises over a burst (an RCU grace period when a task first moves into a v1
# cgroup through cgroup.procs: 10-30 ms here).
hyperfine -N --warmup 2 --runs "$runs" --prepare 'sleep 0.2' --export-json "$work/spaced.json" \
  -n husk "$husk --root $work/husk-root run s1" \
  -n runc "runc --root $work/runc-root run s2" \
  -n crun "$work/crun-wrap --root $work/crun-root run s3" >&2

report() {
  jq -r --arg what "$1" '.results | (map({(.command): .mean}) | add) as $m |
    "\($what): husk \($m.husk*1000|.*100|round/100) ms, runc \($m.runc*1000|.*100|round/100) ms, crun \($m.crun*1000|.*100|round/100) ms; husk/runc \($m.husk/$m.runc*100|round/100), husk/crun \($m.husk/$m.crun*100|round/100)"' "$2"
}
report "back-to-back" "$work/run.json"
report "spaced" "$work/spaced.json"

# Peak RSS of the runtime's own process tree (GNU time, package "time"), in KiB.
rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1; }
echo "peak RSS (KiB): husk $(rss "$husk" --root "$work/husk-root" run r1)" \
  "runc $(rss runc --root "$work/runc-root" run r2)" \
  "crun $(rss "$work/crun-wrap" --root "$work/crun-root" run r3)"
