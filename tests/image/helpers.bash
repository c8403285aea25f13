# Helpers shared by tests/integration/image.bats and image-hostile.bats, loaded after
# tests/integration/helpers.bash (`load helpers` then `load ../image/helpers`).
#
# Each test gets $TEST_DIR (a fresh temp dir under /tmp), $STORE (its private layer store, given to
# every `husk image` command with --store), $BUNDLE (not created: `husk image unpack` makes it),
# $MNT (a mount point for `husk image mount`), $HUSK_ROOT, $ID and $CGROUP_PATH as setup_bundle
# gives them.  teardown_bundle (helpers.bash) removes everything, host mounts under $TEST_DIR
# included.  The images are built at test time by tests/image/mkimage.py (busybox from
# Debian's busybox-static at $BUSYBOX, the probe at $HUSK_PROBE).

IMAGE_TOOLS=$(cd "$BATS_TEST_DIRNAME/../image" && pwd)
MKIMAGE=$IMAGE_TOOLS/mkimage.py
TREECMP=$IMAGE_TOOLS/treecmp.py
PYTHON=${PYTHON:-/usr/bin/python3}
HUSK_IMAGE_TIMEOUT=${HUSK_IMAGE_TIMEOUT:-120} # seconds for one `husk image` command

# Per-test dirs and names (see above); nothing is created but $TEST_DIR.
setup_image_test() {
	requires root
	if is_runc; then
		skip "husk image is husk's own command"
	fi
	[ -x "$HUSK" ] || fail "no runtime at HUSK='$HUSK' (build husk first)"
	[ -x "$HUSK_PROBE" ] || fail "no probe at HUSK_PROBE='$HUSK_PROBE' (make tests/probe/probe)"
	[ -x "$BUSYBOX" ] || fail "no static busybox at '$BUSYBOX' (apt-get install busybox-static)"
	[ -x "$PYTHON" ] || fail "no python3 at '$PYTHON'"
	TEST_DIR=$(mktemp -d /tmp/husk-test.XXXXXX)
	chmod 755 "$TEST_DIR"
	BUNDLE=$TEST_DIR/bundle
	STORE=$TEST_DIR/store
	MNT=$TEST_DIR/mnt
	HUSK_ROOT=$TEST_DIR/root
	ID=t-${TEST_DIR##*.}
	CGROUP_PATH=/$CGROUP_PARENT/$ID
}

# mkimage ARGS...: run tests/image/mkimage.py (fails the test when it fails).
mkimage() {
	"$PYTHON" "$MKIMAGE" --busybox "$BUSYBOX" --probe "$HUSK_PROBE" "$@" || fail "mkimage.py $* failed"
}

# himg SUBCOMMAND ARGS...: `husk image SUBCOMMAND --store $STORE ARGS` (no --store for umount), like
# bats `run`: sets $status, $output and $lines, and prints them.
himg() {
	local sub=$1
	shift
	if [ "$sub" = umount ]; then
		run timeout --kill-after=5 "$HUSK_IMAGE_TIMEOUT" "$HUSK" image "$sub" "$@" </dev/null
	else
		run timeout --kill-after=5 "$HUSK_IMAGE_TIMEOUT" "$HUSK" image "$sub" --store "$STORE" "$@" </dev/null
	fi
	mapfile -t lines <<<"$output"
	echo "husk image $sub $* -> status $status"
	[ -z "$output" ] || printf '%s\n' "$output" | sed 's/^/  | /'
}

# unpack SOURCE[:REF] [BUNDLE] [OPTIONS...]: `husk image unpack`, which must succeed; then the
# bundle's config.json (if any) gets terminal=false and this test's cgroup path.
unpack() {
	local src=$1 bundle=${2:-$BUNDLE}
	shift
	[ $# -gt 0 ] && shift
	himg unpack "$@" "$src" "$bundle"
	[ "$status" -eq 0 ] || fail "husk image unpack $src failed"
	if [ -f "$bundle/config.json" ]; then
		BUNDLE=$bundle update_config '.process.terminal = false | .linux.cgroupsPath = $cg' \
			--arg cg "$CGROUP_PATH${CG_SUFFIX:-}"
	fi
}

# The layer ChainIDs (hex, base first) a bundle's husk-rootfs.json lists, one per line.
bundle_layers() {
	jq -r '.layers[]' "${1:-$BUNDLE}/husk-rootfs.json"
}

# facts FILE QUERY: a jq query on a facts JSON written by mkimage.py (digests as "sha256:<hex>").
facts() {
	jq -r "$2" "$1"
}

# The ChainIDs (hex) of a facts file's image, base first.
fact_chains() {
	jq -r '.chain_ids[] | ltrimstr("sha256:")' "$1"
}

# Number of committed layers in the store.
layer_count() {
	find "$STORE/layers" -mindepth 1 -maxdepth 1 | wc -l
}

# The store holds no half-made state: tmp/ is empty; every layers/ entry is a 64-hex ChainID with
# fs/ and layer.json; containers/ is empty unless $1 = "containers-ok".
assert_store_clean() {
	local left e
	[ -d "$STORE" ] || return 0
	if [ -d "$STORE/tmp" ]; then
		left=$(ls -A "$STORE/tmp")
		[ -z "$left" ] || fail "left in $STORE/tmp: $left"
	fi
	for e in "$STORE"/layers/* "$STORE"/layers/.[!.]*; do
		[ -e "$e" ] || continue
		[[ $(basename "$e") =~ ^[0-9a-f]{64}$ ]] || fail "not a ChainID in $STORE/layers: $(basename "$e")"
		[ -d "$e/fs" ] && [ -f "$e/layer.json" ] || fail "half a layer in the store: $e"
	done
	if [ "${1:-}" != containers-ok ] && [ -d "$STORE/containers" ]; then
		left=$(ls -A "$STORE/containers")
		[ -z "$left" ] || fail "left in $STORE/containers: $left"
	fi
}

# No mount of the host mentions the store or the test dir.
assert_no_store_mounts() {
	if grep -F -- "$TEST_DIR" /proc/self/mountinfo; then
		fail "host mounts under '$TEST_DIR'"
	fi
}

# mount_image [BUNDLE]: `husk image mount` of the bundle on $MNT (read-only overlay).
mount_image() {
	mkdir -p "$MNT"
	himg mount "${1:-$BUNDLE}" "$MNT"
	[ "$status" -eq 0 ] || fail "husk image mount failed"
	grep -qF -- " $MNT " /proc/self/mountinfo || fail "nothing mounted on $MNT"
}

# umount_image: `husk image umount $MNT`, after which nothing is mounted there.
umount_image() {
	himg umount "$MNT"
	[ "$status" -eq 0 ] || fail "husk image umount failed"
	! grep -qF -- " $MNT " /proc/self/mountinfo || fail "still mounted: $MNT"
}

# Every path under $1 can be lstat'ed (an overlay whiteout no lower layer needs is listed by readdir
# but fails with ENOENT: IMAGES.md §2.4 pt3).  Prints the bad ones.
assert_all_statable() {
	"$PYTHON" - "$1" <<-'EOF' || fail "entries that cannot be stat'ed under $1"
		import os, sys
		bad = 0
		for d, dirs, files in os.walk(sys.argv[1]):
		    for n in dirs + files:
		        try:
		            os.lstat(os.path.join(d, n))
		        except OSError as e:
		            print("lstat %s: %s" % (os.path.join(d, n), e.strerror))
		            bad = 1
		sys.exit(bad)
	EOF
}

# The type, mode, owner and rdev of a path without following it: "chr 0666 0:0 1:3", "file 0644 0:0",
# "symlink -> TARGET", "dir 0755 0:0", "fifo 0600 0:0", or "absent".
describe() {
	"$PYTHON" - "$1" <<-'EOF'
		import os, stat, sys
		p = sys.argv[1]
		try:
		    st = os.lstat(p)
		except FileNotFoundError:
		    print("absent"); sys.exit(0)
		m = st.st_mode
		if stat.S_ISLNK(m):
		    print("symlink -> " + os.readlink(p)); sys.exit(0)
		k = {stat.S_IFDIR: "dir", stat.S_IFREG: "file", stat.S_IFCHR: "chr", stat.S_IFBLK: "blk",
		     stat.S_IFIFO: "fifo", stat.S_IFSOCK: "socket"}[stat.S_IFMT(m)]
		s = "%s %04o %d:%d" % (k, stat.S_IMODE(m), st.st_uid, st.st_gid)
		if k in ("chr", "blk"):
		    s += " %d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
		print(s)
	EOF
}

# The value of xattr $2 of path $1 (not followed), or "(none)".
xattr_of() {
	"$PYTHON" -c '
import os, sys
try:
    print(os.getxattr(sys.argv[1], sys.argv[2], follow_symlinks=False).decode())
except OSError:
    print("(none)")' "$1" "$2"
}
