#!/bin/bash
# bench/image.sh [RUNS]: time `husk image unpack` of a Debian bookworm minbase image (2 gzip layers)
# against `umoci raw unpack` and `umoci unpack` of the same OCI layout, on tmpfs, in one run.
#
# Needs root, debootstrap, umoci, hyperfine, jq, python3 and a built husk + husk-image
# (HUSK=path/to/husk to use another).  Not part of `make check`.
#
# The rootfs (debootstrap --variant=minbase bookworm) and its OCI layout are cached under
# /var/tmp/husk-bench-debian (CACHE=...), so reruns skip the download; delete it to rebuild.
# The layout has two gzip layers: everything but usr/share and var (layer 1), then those (layer 2).
#
# Measured, each RUNS times (default 10) after a warm-up:
#   husk cold     husk image unpack into an empty store (every layer extracted)
#   husk warm     husk image unpack when the layers are already in the store (config + bundle only)
#   umoci raw     umoci raw unpack (the rootfs only)
#   umoci unpack  umoci unpack (rootfs + config.json + mtree manifest)
# and printed: the means, husk cold / umoci raw (goal <= 0.5), husk cold / umoci unpack, the warm time.
# Before timing, the tree husk gives is compared with umoci's (tests/image/treecmp.py).
set -euo pipefail

RUNS=${1:-10}
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
HUSK=${HUSK:-$TOP/husk}
CACHE=${CACHE:-/var/tmp/husk-bench-debian}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
PYTHON=${PYTHON:-/usr/bin/python3}
MKIMAGE=$TOP/tests/image/mkimage.py
TREECMP=$TOP/tests/image/treecmp.py

die() {
	echo "bench/image.sh: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "run as root"
for t in debootstrap umoci hyperfine jq "$PYTHON"; do
	command -v "$t" >/dev/null || die "needs $t"
done
[ -x "$HUSK" ] || die "no husk at $HUSK (make husk husk-image)"
"$HUSK" image unpack --help >/dev/null 2>&1 || die "$HUSK has no working 'image' command (make husk-image)"

# ---- the cached rootfs and layout ---------------------------------------------------------------
mkdir -p "$CACHE"
if [ ! -e "$CACHE/rootfs.done" ]; then
	echo "debootstrap --variant=minbase bookworm (cached in $CACHE/rootfs) ..."
	rm -rf "$CACHE/rootfs"
	debootstrap --variant=minbase bookworm "$CACHE/rootfs" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
		die "debootstrap failed, see $CACHE/debootstrap.log"
	touch "$CACHE/rootfs.done"
	rm -f "$CACHE/layout.done"
fi
if [ ! -e "$CACHE/layout.done" ]; then
	echo "packing the OCI layout (2 gzip layers) ..."
	rm -rf "$CACHE/layout"
	"$PYTHON" "$MKIMAGE" dir "$CACHE/rootfs" "$CACHE/layout" --ref debian --split usr/share --split var \
		>"$CACHE/layout.json"
	touch "$CACHE/layout.done"
fi

# ---- a tmpfs for everything timed ---------------------------------------------------------------
T=$(mktemp -d /tmp/husk-bench-image.XXXXXX)
cleanup() {
	local m
	for m in $(awk -v d="$T/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
		umount -l "$m" 2>/dev/null || true
	done
	umount -l "$T" 2>/dev/null || true
	rmdir "$T" 2>/dev/null || true
}
trap cleanup EXIT
mount -t tmpfs -o size=8g,mode=0700 husk-bench "$T"
cp -a "$CACHE/layout" "$T/layout"
SRC=$T/layout:debian
blobs=$(jq -r '.layers[]' "$CACHE/layout.json" | while read -r d; do stat -c %s "$T/layout/blobs/sha256/${d#sha256:}"; done | paste -sd+ | bc)
echo "image: $(jq -r '.layers | length' "$CACHE/layout.json") gzip layers, $((blobs / 1024 / 1024)) MiB compressed," \
	"$(du -sm "$CACHE/rootfs" | cut -f1) MiB unpacked; tmpfs at $T"

# ---- the trees agree (so both sides do the same work) --------------------------------------------
"$HUSK" image unpack --quiet --store "$T/store-check" "$SRC" "$T/check-bundle" >/dev/null
umoci raw unpack --image "$SRC" "$T/check-umoci" >/dev/null 2>&1
mkdir "$T/check-mnt"
"$HUSK" image mount --store "$T/store-check" "$T/check-bundle" "$T/check-mnt"
if "$PYTHON" "$TREECMP" "$T/check-mnt" "$T/check-umoci" >"$T/treecmp.out"; then
	echo "tree check: $(cat "$T/treecmp.out")"
else
	echo "tree check: husk's tree differs from umoci's:"
	head -20 "$T/treecmp.out"
fi
"$HUSK" image umount "$T/check-mnt"
rm -rf "$T/check-bundle" "$T/check-umoci" "$T/store-check"

# ---- timing -------------------------------------------------------------------------------------
# the warm store: the layers are in it once, each run writes a new bundle only
"$HUSK" image unpack --quiet --store "$T/store-warm" "$SRC" "$T/warm-seed" >/dev/null

hyperfine --runs "$RUNS" --warmup 1 --export-json "$T/results.json" --style basic \
	--prepare "rm -rf $T/store-cold $T/b-cold" \
	--prepare "rm -rf $T/b-warm" \
	--prepare "rm -rf $T/u-raw" \
	--prepare "rm -rf $T/u-full" \
	-n "husk cold" "$HUSK image unpack --quiet --store $T/store-cold $SRC $T/b-cold" \
	-n "husk warm" "$HUSK image unpack --quiet --store $T/store-warm $SRC $T/b-warm" \
	-n "umoci raw" "umoci raw unpack --image $SRC $T/u-raw" \
	-n "umoci unpack" "umoci unpack --image $SRC $T/u-full"

mean() { jq -r --arg n "$1" '.results[] | select(.command == $n) | .mean' "$T/results.json"; }
cold=$(mean "husk cold")
warm=$(mean "husk warm")
raw=$(mean "umoci raw")
full=$(mean "umoci unpack")
echo
printf '%-14s %9.1f ms\n' "husk cold" "$(bc -l <<<"$cold * 1000")" "husk warm" "$(bc -l <<<"$warm * 1000")" \
	"umoci raw" "$(bc -l <<<"$raw * 1000")" "umoci unpack" "$(bc -l <<<"$full * 1000")"
printf 'husk cold / umoci raw unpack: %.2f (goal <= 0.5)\n' "$(bc -l <<<"$cold / $raw")"
printf 'husk cold / umoci unpack:     %.2f\n' "$(bc -l <<<"$cold / $full")"
printf 'husk warm (layers in store):  %.1f ms\n' "$(bc -l <<<"$warm * 1000")"
