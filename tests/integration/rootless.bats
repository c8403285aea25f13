#!/usr/bin/env bats
# Rootless husk: a normal user (husk-test-user, made if missing and left in place) runs a bundle
# written by `husk spec --rootless`, proven from inside (uid 0 is the user on the host, read-only
# root, exit status) and from the host (the process's owner, nothing left: state, mounts,
# processes, cgroups); create/start/kill/delete; linux.resources only in a delegated cgroup; the
# default --root of a user.  The test itself runs as root, to make the user and delegate cgroups.

load helpers

TEST_USER=husk-test-user

# AS_USER DIR CMD...: the command line running CMD as $TEST_USER, from DIR, with that user's own
# environment (no XDG_RUNTIME_DIR), time-limited.
AS_USER=(timeout --kill-after=5 "$HUSK_TIMEOUT" setpriv --reuid="$TEST_USER" --regid="$TEST_USER" --init-groups
	--reset-env sh -c 'cd "$1" && shift && exec "$@"' sh)

setup() {
	requires root userns
	husk_only "rootless state and cgroup rules are husk's"
	[ "$(cat /proc/sys/user/max_user_namespaces 2>/dev/null || echo 1)" != 0 ] || skip "user namespaces are disabled"
	[ -x "$HUSK" ] || fail "no runtime at HUSK='$HUSK' (build husk first)"
	[ -x "$HUSK_PROBE" ] || fail "no probe at HUSK_PROBE='$HUSK_PROBE' (make tests/probe/probe)"
	id "$TEST_USER" >/dev/null 2>&1 || useradd -M -s /bin/sh "$TEST_USER" 2>/dev/null ||
		id "$TEST_USER" >/dev/null 2>&1 || fail "cannot make user $TEST_USER"
	TEST_UID=$(id -u "$TEST_USER")
	TEST_GID=$(id -g "$TEST_USER")
	TEST_DIR=$(mktemp -d /tmp/husk-test.XXXXXX)
	chmod 755 "$TEST_DIR"
	BUNDLE=$TEST_DIR/bundle
	HUSK_ROOT=$TEST_DIR/root
	ID=t-${TEST_DIR##*.}
	CGROUP_PATH=/$CGROUP_PARENT/$ID
	mkdir "$BUNDLE" "$HUSK_ROOT"
	make_rootfs "$BUNDLE/rootfs"
	chown "$TEST_USER" "$BUNDLE" "$HUSK_ROOT"
	# the user writes the config: --rootless maps the caller's own ids
	"${AS_USER[@]}" "$BUNDLE" "$HUSK" spec --rootless || fail "husk spec --rootless failed"
	update_config '.process.terminal = false'
}

teardown() {
	local d tmp=/tmp/husk-${TEST_UID:-none}
	# containers the user left: deleted by the user (a rootless container may have no cgroup for
	# teardown_bundle to empty)
	for d in "$HUSK_ROOT"/*/ "$TEST_DIR"/xdg/husk/*/ "$tmp"/*/; do
		[ -d "$d" ] && "${AS_USER[@]}" / "$HUSK" --root "$(dirname "$d")" delete -f "$(basename "$d")" >/dev/null 2>&1
	done
	# the default --root the last test made (or the foreign one it planted)
	if [ -n "${DEFAULT_ROOT_TEST:-}" ]; then
		[ -L "$tmp" ] && rm -f "$tmp"
		[ -d "$tmp" ] && rmdir "$tmp"
	fi
	teardown_bundle
}

# uhusk ARGS...: husk ARGS as $TEST_USER with --root $HUSK_ROOT, from the bundle; sets $status,
# $output, $lines (empty lines kept) and prints them.
uhusk() {
	run "${AS_USER[@]}" "$BUNDLE" "$HUSK" --root "$HUSK_ROOT" "$@" </dev/null
	mapfile -t lines <<<"$output"
	echo "husk $* (as $TEST_USER) -> status $status"
	[ -z "$output" ] || printf '%s\n' "$output" | sed 's/^/  | /'
}

# as_user_create CMD...: CMD (a `husk create` command line) as $TEST_USER from the bundle, its stdio
# (which the created container keeps) to files, so no pipe stays open as `run` would leave it;
# sets $status and $output (stderr) like `run`.
as_user_create() {
	status=0
	"${AS_USER[@]}" "$BUNDLE" "$@" </dev/null >"$TEST_DIR/create.out" 2>"$TEST_DIR/create.err" || status=$?
	output=$(cat "$TEST_DIR/create.err")
	echo "$* (as $TEST_USER) -> status $status: $output"
}

# Nothing of container $ID left: no state under $1 (default $HUSK_ROOT), no mount of the test dir,
# no cgroup (neither the test's nor the default /husk/$ID).
assert_nothing_left() {
	local left
	left=$(ls -A "${1:-$HUSK_ROOT}")
	[ -z "$left" ] || fail "left in the state root: $left"
	! grep -F -- "$TEST_DIR" /proc/self/mountinfo || fail "mounts left"
	left=$(ls -d /sys/fs/cgroup/*/husk/"$ID" /sys/fs/cgroup/husk/"$ID" 2>/dev/null) || true
	[ -z "$left" ] || fail "cgroups left: $left"
	assert_no_leftovers
}

# uhusk_delegated ARGS...: as uhusk, started from the delegated "shell" cgroup (on v2 a process
# moves only within what its user may write).
uhusk_delegated() {
	run sh -c 'for d in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
			[ -f "$d/cgroup.procs" ] && echo $$ >"$d/$1/user/shell/cgroup.procs"; done
		shift; exec "$@"' sh "$CGROUP_PATH" "${AS_USER[@]}" "$BUNDLE" "$HUSK" --root "$HUSK_ROOT" "$@" </dev/null
	mapfile -t lines <<<"$output"
	echo "husk $* (as $TEST_USER, delegated cgroup) -> status $status"
	[ -z "$output" ] || printf '%s\n' "$output" | sed 's/^/  | /'
}

@test "rootless: husk spec --rootless maps the caller to root in a user namespace, no network namespace" {
	jq -e --argjson u "$TEST_UID" --argjson g "$TEST_GID" '
		.linux.uidMappings == [{containerID: 0, hostID: $u, size: 1}]
		and .linux.gidMappings == [{containerID: 0, hostID: $g, size: 1}]
		and ([.linux.namespaces[].type] | index("user") != null and index("network") == null)
		and .linux.resources == null and .linux.cgroupsPath == null' "$BUNDLE/config.json"
}

@test "rootless: husk run as a normal user: root inside is the user, read-only root, its exit status, nothing left" {
	set_args sh -c 'echo "uid $(id -u) gid $(id -g)"; echo "map $(cat /proc/self/uid_map)"; hostname
		touch /written; exit 3'
	uhusk run --pid-file "$BUNDLE/pid" "$ID"
	[ "$status" -eq 3 ]
	[ "${lines[0]}" = "uid 0 gid 0" ]
	# uid 0 of the container is the user on the host, and only that one uid is mapped
	[[ ${lines[1]} =~ ^map\ +0\ +$TEST_UID\ +1$ ]]
	[ "${lines[2]}" = husk ]
	[[ ${lines[3]} == *"/written"*"Read-only file system"* ]]
	[ "${#lines[@]}" -eq 4 ] # no warning: without limits the container needs no cgroup
	[ ! -e "$BUNDLE/rootfs/written" ]
	wait_pid_gone "$(cat "$BUNDLE/pid")"
	assert_nothing_left
}

@test "rootless: create, start, state, kill and delete as a normal user" {
	local pid
	set_args sleep 100
	as_user_create "$HUSK" --root "$HUSK_ROOT" create --pid-file "$BUNDLE/pid" "$ID"
	[ "$status" -eq 0 ]
	pid=$(cat "$BUNDLE/pid")
	# the container's process belongs to the user on the host
	[ "$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")" = "$TEST_UID" ]
	uhusk state "$ID"
	[ "$(jq -r .status <<<"$output")" = created ]
	uhusk start "$ID"
	[ "$status" -eq 0 ]
	uhusk state "$ID"
	[ "$(jq -r .status <<<"$output")" = running ]
	[ "$(jq -r .pid <<<"$output")" = "$pid" ]
	uhusk list -q
	[ "$output" = "$ID" ]
	# exec joins the container's namespaces; with no cgroup of its own, it stays in the caller's
	uhusk exec "$ID" sh -c 'echo "uid $(id -u)"; cat /proc/self/uid_map'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "uid 0" ]
	[[ ${lines[1]} =~ ^\ +0\ +$TEST_UID\ +1$ ]]
	# no cgroup: nothing to list or freeze
	uhusk ps "$ID"
	[ "$status" -eq 1 ]
	[[ $output == *"container '$ID' has no recorded cgroup"* ]]
	uhusk kill "$ID" KILL
	[ "$status" -eq 0 ]
	wait_pid_gone "$pid"
	uhusk state "$ID"
	[ "$(jq -r .status <<<"$output")" = stopped ]
	uhusk delete "$ID"
	[ "$status" -eq 0 ]
	assert_nothing_left
}

@test "rootless: linux.resources need a delegated cgroupsPath: refused without one, applied in one" {
	set_args sh -c 'echo ran'
	# a cgroupsPath the user may not write, with a limit: refused, with nothing made
	update_config '.linux.cgroupsPath = $cg | .linux.resources.pids.limit = 20' --arg cg "$CGROUP_PATH"
	uhusk run "$ID"
	[ "$status" -eq 1 ]
	[[ $output == *"config.json: linux.resources: limits need a cgroup that uid $TEST_UID may write"* ]]
	[[ $output != *ran* ]]
	assert_nothing_left
	# the same without the limit: runs without a cgroup, and says so
	update_config 'del(.linux.resources)'
	uhusk run "$ID"
	[ "$status" -eq 0 ]
	[[ $output == *"warning: cgroup: uid $TEST_UID may not write"*"the container goes without a cgroup"* ]]
	[ "${lines[-1]}" = ran ]
	assert_nothing_left
	# a delegated cgroupsPath: the limit is there while the container runs, in its cgroup
	delegate_cgroup "$TEST_USER"
	local dir=$CGROUP_PATH/user/c
	update_config '.linux.cgroupsPath = $cg | .linux.resources.pids.limit = 20' --arg cg "$dir"
	set_args sh -c 'for d in /sys/fs/cgroup/pids'"$dir"' /sys/fs/cgroup'"$dir"'; do
		[ -f "$d/pids.max" ] && { cat "$d/pids.max"; grep -qx 1 "$d/cgroup.procs" && echo "1 is in it"; break; }
	done'
	uhusk_delegated run "$ID"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 20 ]
	[ "${lines[1]}" = "1 is in it" ]
	# gone with the container; the delegated parent stays (teardown removes it)
	! ls -d /sys/fs/cgroup/*"$dir" /sys/fs/cgroup"$dir" 2>/dev/null || fail "cgroup $dir left"
	[ -d "$(ls -d /sys/fs/cgroup/*"$CGROUP_PATH/user" /sys/fs/cgroup"$CGROUP_PATH/user" 2>/dev/null | head -n1)" ]
	[ -z "$(ls -A "$HUSK_ROOT")" ]
	! grep -F -- "$TEST_DIR" /proc/self/mountinfo || fail "mounts left"
}

@test "rootless: a user's default --root: \$XDG_RUNTIME_DIR/husk, else /tmp/husk-UID, made private; a foreign one is refused" {
	local tmp=/tmp/husk-$TEST_UID
	[ ! -e "/run/user/$TEST_UID" ] || skip "/run/user/$TEST_UID exists: the default is there"
	DEFAULT_ROOT_TEST=1
	[ ! -e "$tmp" ] || rm -rf "$tmp" # a previous run's, the test user's
	set_args true
	# someone else's directory, or a symlink, at /tmp/husk-UID: refused
	mkdir -m 700 "$tmp"
	run "${AS_USER[@]}" "$BUNDLE" "$HUSK" run "$ID"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"state root '$tmp' is not a private directory of uid $TEST_UID: give --root or set XDG_RUNTIME_DIR"* ]]
	rmdir "$tmp"
	ln -s "$HUSK_ROOT" "$tmp"
	run "${AS_USER[@]}" "$BUNDLE" "$HUSK" run "$ID"
	[ "$status" -eq 1 ]
	[[ $output == *"state root '$tmp' is not a private directory"* ]]
	rm "$tmp"
	[ -z "$(ls -A "$HUSK_ROOT")" ]
	# none: made 0700, the user's, and empty again after the run
	set_args sh -c 'exit 4'
	run "${AS_USER[@]}" "$BUNDLE" "$HUSK" run "$ID"
	[ "$status" -eq 4 ]
	[ "$(stat -c %U:%a "$tmp")" = "$TEST_USER:700" ]
	[ -z "$(ls -A "$tmp")" ]
	# a created container's state is there
	set_args sleep 100
	as_user_create "$HUSK" create "$ID"
	[ "$status" -eq 0 ]
	[ -f "$tmp/$ID/state.json" ]
	run "${AS_USER[@]}" "$BUNDLE" "$HUSK" delete -f "$ID"
	[ "$status" -eq 0 ]
	[ -z "$(ls -A "$tmp")" ]
	rmdir "$tmp"
	# $XDG_RUNTIME_DIR wins
	mkdir "$TEST_DIR/xdg"
	chown "$TEST_USER" "$TEST_DIR/xdg"
	as_user_create env XDG_RUNTIME_DIR="$TEST_DIR/xdg" "$HUSK" create "$ID"
	[ "$status" -eq 0 ]
	[ -f "$TEST_DIR/xdg/husk/$ID/state.json" ]
	[ ! -e "$tmp" ]
	run "${AS_USER[@]}" "$BUNDLE" env XDG_RUNTIME_DIR="$TEST_DIR/xdg" "$HUSK" delete -f "$ID"
	[ "$status" -eq 0 ]
	[ -z "$(ls -A "$TEST_DIR/xdg/husk")" ]
	assert_nothing_left
}
