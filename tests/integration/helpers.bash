# Shared helpers for husk's integration tests (bats).  Every .bats file does
#
#   load helpers
#   setup()    { setup_bundle; }
#   teardown() { teardown_bundle; }
#
# and then edits $BUNDLE/config.json with update_config / set_args and runs `husk run "$ID"`.
#
# Environment (set by `make check`; the defaults work from a built source tree):
#   HUSK        the runtime under test (default: ../../husk from this file).  Any runtime with runc's
#               command line works; HUSK=/usr/sbin/runc runs the suite against runc, where the checks of
#               husk's exact messages are skipped (see husk_only).
#   HUSK_PROBE  the static probe binary copied into each rootfs as /probe (default: ../probe/probe).
#   BUSYBOX     a static busybox (default: /bin/busybox from Debian's busybox-static package).
#
# Safety: every container gets an absolute linux.cgroupsPath under /husk-test/, and the husk wrapper
# refuses to run a config without one (without it the container would land in the caller's cgroup).
# teardown_bundle kills only processes inside the test's own cgroup or named in its own pid files.

HUSK=${HUSK:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/husk}
HUSK_PROBE=${HUSK_PROBE:-$(cd "$BATS_TEST_DIRNAME/.." && pwd)/probe/probe}
BUSYBOX=${BUSYBOX:-/bin/busybox}
HUSK_TIMEOUT=${HUSK_TIMEOUT:-60} # seconds for one husk command before it is killed
CGROUP_PARENT=husk-test
ROOTFS_APPLETS='sh|ash|cat|echo|sleep|id|ls|true|false|test|\[|mkdir|rm|env|ps|kill|hostname|grep|sed|tr|wc|head|touch|stat|readlink|mount|umask|pwd|seq|printf'

# Print a message and fail the current test.
fail() {
	echo "FAIL: $*" >&2
	return 1
}

# True when the runtime under test is runc (the stand-in used to check the tests themselves).
is_runc() {
	if [ -z "${HUSK_IS_RUNC:-}" ]; then
		HUSK_IS_RUNC=no
		"$HUSK" --version 2>/dev/null | head -n1 | grep -q '^runc' && HUSK_IS_RUNC=yes
	fi
	[ "$HUSK_IS_RUNC" = yes ]
}

# Skip the rest of a test that checks husk's own behaviour (exact messages...) when running on runc.
husk_only() {
	if is_runc; then
		skip "husk-specific check${1:+: $1}"
	fi
}

# requires root|userns|timens|ip: skip the test cleanly when the machine cannot run it.
requires() {
	local r
	for r in "$@"; do
		case $r in
		root) [ "$(id -u)" -eq 0 ] || skip "needs root" ;;
		userns) [ -e /proc/self/ns/user ] || skip "needs user namespaces" ;;
		timens) [ -e /proc/self/ns/time ] || skip "needs time namespaces (Linux 5.6)" ;;
		ip) command -v ip >/dev/null || skip "needs ip (iproute2)" ;;
		*) fail "requires: unknown requirement '$r'" ;;
		esac
	done
}

# The cgroup directories of this test's container, in every hierarchy (v1 and v2) that exists.
test_cgroup_dirs() {
	local d
	for d in /sys/fs/cgroup/*/"$CGROUP_PARENT/$ID" "/sys/fs/cgroup/$CGROUP_PARENT/$ID"; do
		[ -d "$d" ] && echo "$d"
	done
	return 0
}

# Make a busybox + probe root filesystem in directory $1.
make_rootfs() {
	local root=$1
	mkdir -p "$root"/{bin,proc,sys,dev,etc,tmp,root}
	chmod 1777 "$root/tmp"
	cp "$BUSYBOX" "$root/bin/busybox"
	# Links for the applets the tests use (of those `busybox --list` has), made by one process: a
	# fork per link, or links for all ~270 applets, would cost ~1 ms each on this machine's ext4.
	"$BUSYBOX" --list | grep -xE "$ROOTFS_APPLETS" |
		D="$root/bin" perl -ne 'chomp; symlink("busybox", "$ENV{D}/$_") or die "$_: $!\n"'
	cp "$HUSK_PROBE" "$root/probe"
	chmod 755 "$root/probe"
	echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
	echo 'root:x:0:' >"$root/etc/group"
}

# Make a bundle in a fresh temp dir: $TEST_DIR (everything of this test), $BUNDLE, $ROOTFS, $ID,
# $HUSK_ROOT (the private --root), $CGROUP_PATH.  config.json comes from `husk spec`, then gets
# terminal=false, root.path=rootfs (writable), the cgroup path and args ["/probe","pid"].
setup_bundle() {
	requires root
	[ -x "$HUSK" ] || fail "no runtime at HUSK='$HUSK' (build husk first)"
	[ -x "$HUSK_PROBE" ] || fail "no probe at HUSK_PROBE='$HUSK_PROBE' (make tests/probe/probe)"
	[ -x "$BUSYBOX" ] || fail "no static busybox at '$BUSYBOX' (apt-get install busybox-static)"

	TEST_DIR=$(mktemp -d /tmp/husk-test.XXXXXX)
	chmod 755 "$TEST_DIR" # containers with a user namespace must reach the rootfs
	BUNDLE=$TEST_DIR/bundle
	ROOTFS=$BUNDLE/rootfs
	HUSK_ROOT=$TEST_DIR/root
	ID=t-${TEST_DIR##*.}
	CGROUP_PATH=/$CGROUP_PARENT/$ID
	mkdir "$BUNDLE"
	make_rootfs "$ROOTFS"
	"$HUSK" spec --bundle "$BUNDLE" || fail "'$HUSK spec --bundle' failed"
	update_config '.process.terminal = false
		| .root = {path: "rootfs", readonly: false}
		| .linux.cgroupsPath = $cg
		| .process.args = ["/probe", "pid"]' --arg cg "$CGROUP_PATH"
}

# update_config FILTER [JQ ARGS...]: edit the bundle's config.json in place with jq.
update_config() {
	local filter=$1
	shift
	# the filter first and the input on stdin, so that JQ ARGS may end with --args
	jq "$filter" "$@" <"$BUNDLE/config.json" >"$BUNDLE/config.json.new" &&
		mv "$BUNDLE/config.json.new" "$BUNDLE/config.json"
}

# set_args ARG...: the container's process.args.
set_args() {
	# one --arg per word: jq would take words such as "-c" or "--" after --args as its own options
	local a i=0 list= jqargs=()
	for a in "$@"; do
		jqargs+=(--arg "a$i" "$a")
		list+="\$a$i,"
		i=$((i + 1))
	done
	update_config ".process.args = [${list%,}]" "${jqargs[@]}"
}

# The configured cgroupsPath must be under /husk-test/ (never the caller's own cgroup).
check_cgroups_path() {
	local cg
	cg=$(jq -r '.linux.cgroupsPath // ""' "$BUNDLE/config.json" 2>/dev/null) || return 0
	case $cg in
	/"$CGROUP_PARENT"/?*) ;;
	*) fail "refusing to run: linux.cgroupsPath '$cg' is not under /$CGROUP_PARENT/" ;;
	esac
}

# __husk ARGS...: the runtime with this test's private --root, run from the bundle dir, with a time
# limit.  stdin is the caller's.
__husk() {
	check_cgroups_path || return 99
	(cd "$BUNDLE" && exec timeout --kill-after=5 "$HUSK_TIMEOUT" "$HUSK" --root "$HUSK_ROOT" "$@")
}

# husk ARGS...: like bats `run __husk ARGS`, stdin from /dev/null; sets $status and $output (stdout
# and stderr; $lines keeps empty lines) and prints them so a failing test shows what happened.
husk() {
	run __husk "$@" </dev/null
	mapfile -t lines <<<"$output" # bats drops empty lines from $lines; keep them
	echo "husk $* -> status $status"
	[ -z "$output" ] || printf '%s\n' "$output" | sed 's/^/  | /'
}

# husk_run ARGS... [-- PROCESS ARGS]: set_args from after "--" if given, then `husk run ARGS $ID`.
husk_run() {
	local opts=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	if [ "${1:-}" = -- ]; then
		shift
		set_args "$@"
	fi
	husk run "${opts[@]}" "$ID"
}

# Wait up to $2 seconds (default 10) for file $1 to exist and be non-empty.
wait_for_file() {
	local i
	for ((i = 0; i < ${2:-10} * 20; i++)); do
		[ -s "$1" ] && return 0
		sleep 0.05
	done
	fail "timed out waiting for '$1'"
}

# Wait up to $2 seconds (default 10) for process $1 to be gone (or a zombie).
wait_pid_gone() {
	local i
	for ((i = 0; i < ${2:-10} * 20; i++)); do
		[ -d "/proc/$1" ] || return 0
		grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null && return 0
		sleep 0.05
	done
	fail "process $1 still alive"
}

# Check that nothing of the container is left: the --root dir is empty, no host mount mentions the
# test dir, no cgroup directory of the container exists in any hierarchy.
assert_no_leftovers() {
	local left
	if [ -d "$HUSK_ROOT" ]; then
		left=$(ls -A "$HUSK_ROOT")
		[ -z "$left" ] || fail "left in --root '$HUSK_ROOT': $left"
	fi
	if grep -F -- "$TEST_DIR" /proc/self/mountinfo; then
		fail "host mounts left under '$TEST_DIR'"
	fi
	left=$(test_cgroup_dirs)
	[ -z "$left" ] || fail "cgroups left: $left"
}

# Kill -9 every process in this test's cgroups (they can only be this test's containers).
kill_test_cgroup_procs() {
	local d pid i
	# frozen tasks do not die until thawed (a failed pause test)
	for d in $(test_cgroup_dirs); do
		[ -e "$d/freezer.state" ] && echo THAWED >"$d/freezer.state" 2>/dev/null
		[ -e "$d/cgroup.freeze" ] && echo 0 >"$d/cgroup.freeze" 2>/dev/null
	done
	for ((i = 0; i < 50; i++)); do
		local found=0
		for d in $(test_cgroup_dirs); do
			for pid in $(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null); do
				found=1
				kill -9 "$pid" 2>/dev/null || true
			done
		done
		[ $found -eq 0 ] && return 0
		sleep 0.05
	done
}

# Remove what a test may have left, even after a failure: containers (runc only), processes in the
# test cgroup or named in $TEST_DIR/*.pid (when they are still in the test cgroup), host mounts under
# $TEST_DIR, the cgroups (and the husk-test parent where empty), then $TEST_DIR itself.
teardown_bundle() {
	[ -n "${TEST_DIR:-}" ] && [ -d "$TEST_DIR" ] || return 0
	local d pid mnt i
	if is_runc && [ -d "$HUSK_ROOT" ]; then
		for d in "$HUSK_ROOT"/*/; do
			[ -d "$d" ] && "$HUSK" --root "$HUSK_ROOT" delete -f "$(basename "$d")" >/dev/null 2>&1
		done
	fi
	for d in "$TEST_DIR"/*.pid "$TEST_DIR"/bundle/*.pid; do
		[ -f "$d" ] || continue
		pid=$(cat "$d")
		[[ $pid =~ ^[0-9]+$ ]] && grep -qs "/$CGROUP_PARENT/$ID" "/proc/$pid/cgroup" && kill -9 "$pid" 2>/dev/null
	done
	kill_test_cgroup_procs
	# host mounts under the test dir, deepest first
	for mnt in $(awk -v d="$TEST_DIR" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
		umount -l "$mnt" 2>/dev/null || true
	done
	for d in $(test_cgroup_dirs); do
		for ((i = 0; i < 20; i++)); do
			find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
			[ -d "$d" ] || break
			sleep 0.05
		done
	done
	for d in /sys/fs/cgroup/*/"$CGROUP_PARENT" "/sys/fs/cgroup/$CGROUP_PARENT"; do
		[ -d "$d" ] && rmdir "$d" 2>/dev/null
	done
	rm -rf "$TEST_DIR"
	return 0
}

# delegate_cgroup USER: make $CGROUP_PATH/user in every hierarchy, owned by USER (delegated, as
# systemd does for a user session), with a "shell" child the test's command is started in; on v1 cpuset copies cpus/mems,
# on v2 the pids controller is enabled from the root down to the user's cgroup.
delegate_cgroup() {
	local d c
	for d in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
		[ -f "$d/cgroup.procs" ] || continue
		mkdir -p "$d/$CGROUP_PATH/user/shell" || return 1
		for c in "$d/$CGROUP_PARENT" "$d/$CGROUP_PATH" "$d/$CGROUP_PATH/user" "$d/$CGROUP_PATH/user/shell"; do
			[ -f "$d/cpuset.cpus" ] || break
			cat "$d/cpuset.cpus" >"$c/cpuset.cpus" && cat "$d/cpuset.mems" >"$c/cpuset.mems"
		done
		for c in "$d" "$d/$CGROUP_PARENT" "$d/$CGROUP_PATH" "$d/$CGROUP_PATH/user"; do
			[ -f "$c/cgroup.subtree_control" ] || break
			grep -qw pids "$c/cgroup.subtree_control" || echo +pids >"$c/cgroup.subtree_control" 2>/dev/null || true
		done
		chown -R "$1" "$d/$CGROUP_PATH/user"
	done
	return 0
}
