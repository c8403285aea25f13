#!/usr/bin/env bats
# husk sandbox: each option proven from inside the sandbox, exit statuses, signals, --timeout,
# nothing left behind (after a normal end, a timeout, SIGTERM, SIGKILL of husk), and the
# --print-config round trip through `husk run`.  Every sandbox gets this test's private --root and
# a cgroup under /husk-test/$ID (--cgroup-parent), which teardown_bundle removes if anything is left.
# The commands run from $TEST_DIR/work, which the sandbox binds read-write at its own path.

load helpers

setup() {
	requires root
	husk_only "husk sandbox has no runc equivalent"
	[ -x "$HUSK" ] || fail "no runtime at HUSK='$HUSK' (build husk first)"
	TEST_DIR=$(mktemp -d /tmp/husk-test.XXXXXX)
	chmod 755 "$TEST_DIR"
	HUSK_ROOT=$TEST_DIR/root
	ID=t-${TEST_DIR##*.}
	CGROUP_PATH=/$CGROUP_PARENT/$ID
	WORK=$TEST_DIR/work
	mkdir "$WORK"
}

teardown() {
	[ -n "${HOSTMNT:-}" ] && { umount "$HOSTMNT" 2>/dev/null; rmdir "$HOSTMNT" 2>/dev/null; }
	[ -n "${LISTENER:-}" ] && kill "$LISTENER" 2>/dev/null
	teardown_bundle
}

# __sb ARGS...: husk sandbox with this test's --root and cgroup parent, from $WORK, time-limited.
__sb() {
	(cd "$WORK" && exec timeout --kill-after=5 "$HUSK_TIMEOUT" "$HUSK" --root "$HUSK_ROOT" sandbox \
		--cgroup-parent "$CGROUP_PATH" "$@")
}

# sb ARGS...: `run __sb ARGS` with stdin from /dev/null; prints what happened.
sb() {
	run __sb "$@" </dev/null
	mapfile -t lines <<<"$output"
	echo "husk sandbox $* -> status $status"
	[ -z "$output" ] || printf '%s\n' "$output" | sed 's/^/  | /'
}

# The pid of the sandboxed command of the one sandbox under $HUSK_ROOT, once it runs (empty if none
# within 10 s).
sandbox_pid() {
	local i f
	for ((i = 0; i < 200; i++)); do
		for f in "$HUSK_ROOT"/sandbox-*/state.json; do
			[ -f "$f" ] && [ "$(jq -r .status "$f")" = running ] && { jq -r .pid "$f"; return 0; }
		done
		sleep 0.05
	done
}

@test "sandbox: the command's exit status, 128+N when a signal killed it" {
	sb -- sh -c 'exit 7'
	[ "$status" -eq 7 ]
	sb -- true
	[ "$status" -eq 0 ]
	# a fault is the one signal that kills a pid namespace's init from inside
	sb -- /usr/bin/python3 -c 'import ctypes; ctypes.string_at(0)'
	[ "$status" -eq 139 ]
	assert_no_leftovers
}

@test "sandbox: errors are husk's, with nothing made" {
	sb
	[ "$status" -eq 1 ]
	[[ $output == *"no command given"* ]]
	sb --memory lots -- true
	[ "$status" -eq 1 ]
	[[ $output == *"--memory: expected a number of bytes"* ]]
	sb --image "$TEST_DIR/no-such-image" --store "$TEST_DIR/store" -- true
	[ "$status" -eq 1 ]
	[[ $output == *"image source '$TEST_DIR/no-such-image': No such file or directory"* ]]
	[[ $output == *"sandbox: --image '$TEST_DIR/no-such-image': the image could not be unpacked"* ]]
	! ls -d /tmp/husk-sandbox-* 2>/dev/null || fail "a temp bundle is left"
	sb --image "$TEST_DIR/no-such-image" --rootfs / -- true
	[ "$status" -eq 1 ]
	[[ $output == *"--image and --rootfs exclude each other"* ]]
	sb --frobnicate -- true
	[ "$status" -eq 1 ]
	[[ $output == *"unknown option '--frobnicate'"* ]]
	sb -- /nonexistent/command
	[ "$status" -ne 0 ]
	[[ $output == *"/nonexistent/command"* ]]
	assert_no_leftovers
}

@test "sandbox: its own pid, mount, ipc, uts, cgroup and network namespaces; --network host shares the host's" {
	local ns
	sb -- sh -c 'for n in pid mnt ipc uts cgroup net; do readlink /proc/self/ns/$n; done; echo $$'
	[ "$status" -eq 0 ]
	for ns in pid mnt ipc uts cgroup net; do
		grep -qx "$(readlink /proc/self/ns/$ns)" <<<"$output" && fail "same $ns namespace as the host"
	done
	[ "${lines[6]}" = 1 ]
	sb --network host -- readlink /proc/self/ns/net
	[ "$output" = "$(readlink /proc/self/ns/net)" ]
	assert_no_leftovers
}

@test "sandbox: --network none has only lo, and the host's 127.0.0.1 listener is out of reach" {
	local port=$((20000 + RANDOM % 20000))
	/usr/bin/python3 -c 'import socket,sys,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(5); time.sleep(60)' "$port" &
	LISTENER=$!
	sleep 0.3
	sb -- bash -c 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "; exec 3<>/dev/tcp/127.0.0.1/'$port' && echo connected'
	[ "${lines[0]}" = lo ]
	[ "${#lines[@]}" -ge 2 ]
	[[ $output != *connected* ]]
	[[ $output == *"Connection refused"* ]]
	# the same connection from the host's network namespace works: the test can tell
	sb --network host -- bash -c 'exec 3<>/dev/tcp/127.0.0.1/'$port' && echo connected'
	[ "$status" -eq 0 ]
	[ "$output" = connected ]
	assert_no_leftovers
}

@test "sandbox: --hostname, the default keeps the host's name" {
	sb --hostname sbx -- hostname
	[ "$status" -eq 0 ]
	[ "$output" = sbx ]
	sb -- hostname
	[ "$output" = "$(hostname)" ]
	assert_no_leftovers
}

@test "sandbox: the host's files are read-only, host mounts below / included" {
	HOSTMNT=/run/husk-sbtest.$ID
	mkdir "$HOSTMNT"
	mount -t tmpfs tmpfs "$HOSTMNT"
	touch "$HOSTMNT/writable-on-the-host"
	sb -- sh -c "touch /etc/husk-sandbox-$ID; touch $HOSTMNT/x; ls $HOSTMNT"
	[[ ${lines[0]} == *"/etc/husk-sandbox-$ID"*"Read-only file system"* ]]
	[[ ${lines[1]} == *"$HOSTMNT/x"*"Read-only file system"* ]]
	[ "${lines[2]}" = writable-on-the-host ]
	[ ! -e "/etc/husk-sandbox-$ID" ]
	[ ! -e "$HOSTMNT/x" ]
	assert_no_leftovers
}

@test "sandbox: the current directory is writable at its path, --readonly makes it read-only" {
	sb -- sh -c 'pwd; echo hello >out'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$WORK" ]
	[ "$(cat "$WORK/out")" = hello ]
	sb --readonly -- sh -c 'echo again >out'
	[ "$status" -ne 0 ]
	[[ $output == *"Read-only file system"* ]]
	[ "$(cat "$WORK/out")" = hello ]
	assert_no_leftovers
}

@test "sandbox: /tmp is private, /dev minimal, /proc and /sys fresh" {
	echo secret >"$TEST_DIR/host-file"
	sb -- sh -c "test -e $TEST_DIR/host-file && echo visible; echo x >/tmp/made-inside; ls /dev | tr '\n' ' '; echo; ps -e -o pid= | wc -l; stat -f -c %T /tmp"
	[ "$status" -eq 0 ]
	[[ $output != *visible* ]]
	[ ! -e /tmp/made-inside ]
	[[ ${lines[0]} == *null* ]] && [[ ${lines[0]} == *zero* ]] && [[ ${lines[0]} == *urandom* ]]
	[[ ${lines[0]} != *sda* ]] && [[ ${lines[0]} != *vda* ]] && [[ ${lines[0]} != *mem\ * ]]
	# only the shell and ps in the new pid namespace's /proc
	[ "${lines[1]}" -le 3 ]
	[ "${lines[2]}" = tmpfs ]
	assert_no_leftovers
}

@test "sandbox: --bind SRC:DST[:ro] and --tmpfs, a missing destination on the host refused" {
	mkdir "$TEST_DIR/data"
	echo in >"$TEST_DIR/data/file"
	sb --bind "$TEST_DIR/data:/srv:ro" -- sh -c 'cat /srv/file; echo x >/srv/new'
	[ "${lines[0]}" = in ]
	[[ ${lines[1]} == *"Read-only file system"* ]]
	sb --bind "$TEST_DIR/data:/srv" -- sh -c 'echo out >/srv/new'
	[ "$status" -eq 0 ]
	[ "$(cat "$TEST_DIR/data/new")" = out ]
	# a tmpfs, and a bind made below it (its mount point is created in the tmpfs)
	sb --tmpfs /srv --bind "$TEST_DIR/data:/srv/deep/in:ro" -- sh -c 'echo t >/srv/t && cat /srv/t /srv/deep/in/file'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = t ]
	[ "${lines[1]}" = in ]
	[ ! -e /srv/t ] && [ ! -e /srv/deep ]
	sb --bind "$TEST_DIR/data:/husk-missing-$ID" -- true
	[ "$status" -eq 1 ]
	[[ $output == *"destination '/husk-missing-$ID'"*"must exist"* ]]
	[ ! -e "/husk-missing-$ID" ]
	assert_no_leftovers
}

@test "sandbox: --chdir, --env, --clearenv" {
	sb --chdir /etc -- pwd
	[ "$output" = /etc ]
	FROM_HOST=h sb --env A=1 --env FROM_HOST --env HOME=/nowhere -- sh -c 'echo $A $FROM_HOST $HOME'
	[ "$output" = "1 h /nowhere" ]
	FROM_HOST=h sb --clearenv --env A=1 -- env
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[[ $output == *"A=1"* ]] && [[ $output == *"PATH="* ]]
	assert_no_leftovers
}

@test "sandbox: --user UID[:GID] and a host user name" {
	sb --user 1234:567 -- sh -c 'id -u; id -g; id -G'
	[ "${lines[0]}" = 1234 ]
	[ "${lines[1]}" = 567 ]
	[ "${lines[2]}" = 567 ]
	sb --user nobody -- id -u
	[ "$output" = "$(id -u nobody)" ]
	sb -- id -u
	[ "$output" = 0 ]
	assert_no_leftovers
}

@test "sandbox: the default capability set, --cap-add and --cap-drop, no new privileges" {
	sb -- sh -c 'grep -E "^(CapEff|CapBnd|NoNewPrivs)" /proc/self/status'
	[ "${lines[0]}" = "CapEff:	0000000020000420" ]
	[ "${lines[1]}" = "CapBnd:	0000000020000420" ]
	[ "${lines[2]}" = "NoNewPrivs:	1" ]
	sb --cap-add NET_RAW --cap-drop kill -- sh -c 'grep ^CapEff /proc/self/status'
	[ "$output" = "CapEff:	0000000020002400" ]
	sb --cap-drop ALL -- sh -c 'grep ^CapEff /proc/self/status'
	[ "$output" = "CapEff:	0000000000000000" ]
	# a non-root user keeps what it was given (ambient)
	sb --user 1000 --cap-add NET_RAW -- sh -c 'grep ^CapEff /proc/self/status'
	[ "$output" = "CapEff:	0000000020002420" ]
	assert_no_leftovers
}

@test "sandbox: the default seccomp profile refuses mount, a user namespace, keyctl...; unconfined and FILE" {
	sb -- sh -c 'grep ^Seccomp: /proc/self/status; unshare -U true; echo unshare=$?'
	[ "${lines[0]}" = "Seccomp:	2" ]
	[[ $output == *"Operation not permitted"* ]]
	[[ $output == *"unshare=1"* ]]
	sb --cap-add SYS_ADMIN -- sh -c 'mount -t tmpfs t /mnt; echo mount=$?'
	[[ $output == *"Operation not permitted"* ]] || [[ $output == *"permission denied"* ]]
	[[ $output == *"mount=32"* ]] || [[ $output == *"mount=1"* ]]
	# the same with no filter works: the filter refused it, not a missing capability
	sb --cap-add SYS_ADMIN --seccomp unconfined -- sh -c 'mount -t tmpfs t /mnt && echo mounted'
	[ "$output" = mounted ]
	sb --seccomp unconfined -- sh -c 'grep ^Seccomp: /proc/self/status; unshare -U true; echo unshare=$?'
	[ "${lines[0]}" = "Seccomp:	0" ]
	[ "${lines[1]}" = "unshare=0" ]
	echo '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}' >"$TEST_DIR/profile.json"
	sb --seccomp "$TEST_DIR/profile.json" -- mkdir made-here
	[ "$status" -ne 0 ]
	[[ $output == *"Permission denied"* ]]
	[ ! -e "$WORK/made-here" ]
	assert_no_leftovers
}

@test "sandbox: --pids stops a fork loop" {
	# 50 background sleeps past a limit of 20: fork fails (EAGAIN), the inner shell gives up
	sb --pids 20 -- sh -c 'sh -c "i=0; while [ \$i -lt 50 ]; do sleep 5 & i=\$((i+1)); done" 2>/tmp/err; echo "inner=$?"; grep -c -m1 fork /tmp/err'
	[ "${lines[0]}" = inner=2 ]
	[ "${lines[1]}" = 1 ]
	assert_no_leftovers
}

@test "sandbox: --memory kills a memory hog, leaves a small one alone" {
	sb --memory 32m -- /usr/bin/python3 -c 'b = bytearray(10 << 20); print("small ok")'
	[ "$status" -eq 0 ]
	[ "$output" = "small ok" ]
	sb --memory 32m -- /usr/bin/python3 -c 'b = bytearray(200 << 20); print("survived")'
	[ "$status" -eq 137 ]
	[[ $output != *survived* ]]
	if [ -d /sys/fs/cgroup/memory ]; then
		sb --memory 32m -- cat /sys/fs/cgroup/memory/memory.limit_in_bytes
	else
		sb --memory 32m -- cat /sys/fs/cgroup/memory.max
	fi
	[ "$output" = 33554432 ]
	assert_no_leftovers
}

@test "sandbox: --cpus sets the CFS quota" {
	if [ -d /sys/fs/cgroup/cpu ]; then
		sb --cpus 0.5 -- sh -c 'cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us'
		[ "${lines[0]}" = 50000 ]
		[ "${lines[1]}" = 100000 ]
	else
		sb --cpus 0.5 -- cat /sys/fs/cgroup/cpu.max
		[ "$output" = "50000 100000" ]
	fi
	assert_no_leftovers
}

@test "sandbox: --timeout kills the command, status 124, nothing left" {
	local start=$SECONDS
	sb --timeout 0.5 -- sleep 30
	[ "$status" -eq 124 ]
	[ $((SECONDS - start)) -lt 10 ]
	# a command that ends in time keeps its status
	sb --timeout 20 -- sh -c 'exit 3'
	[ "$status" -eq 3 ]
	assert_no_leftovers
}

@test "sandbox: --tty gives the command a terminal" {
	command -v script >/dev/null || skip "needs script (util-linux)"
	run script -qec "cd '$WORK' && '$HUSK' --root '$HUSK_ROOT' sandbox --cgroup-parent '$CGROUP_PATH' --tty -- sh -c 'tty; echo \$TERM'" /dev/null </dev/null
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == */dev/pts/0* ]]
	sb -- sh -c 'tty'
	[[ $output == *"not a tty"* ]]
	assert_no_leftovers
}

@test "sandbox: a signal to husk reaches the command, which ends; nothing left" {
	(cd "$WORK" && exec "$HUSK" --root "$HUSK_ROOT" sandbox --cgroup-parent "$CGROUP_PATH" -- \
		sh -c 'trap "echo got-term; exit 3" TERM; echo ready; sleep 30 & wait') >"$TEST_DIR/out" 2>&1 </dev/null &
	local husk=$! cpid
	cpid=$(sandbox_pid)
	[ -n "$cpid" ] || fail "the sandbox did not start"
	wait_for_file "$TEST_DIR/out"
	kill -TERM "$husk"
	local rc=0
	wait "$husk" || rc=$?
	cat "$TEST_DIR/out"
	[ "$rc" -eq 3 ]
	grep -qx got-term "$TEST_DIR/out"
	wait_pid_gone "$cpid"
	assert_no_leftovers
}

@test "sandbox: SIGTERM and SIGINT end a command that does not handle them (pid 1 would ignore them)" {
	local sig want
	for sig in TERM INT; do
		(cd "$WORK" && exec "$HUSK" --root "$HUSK_ROOT" sandbox --cgroup-parent "$CGROUP_PATH" --timeout 20 -- sleep 30) </dev/null &
		local husk=$! cpid rc=0
		cpid=$(sandbox_pid)
		[ -n "$cpid" ] || fail "the sandbox did not start"
		kill -$sig "$husk"
		wait "$husk" || rc=$?
		want=$((128 + $(kill -l $sig)))
		[ "$rc" -eq "$want" ] || fail "SIG$sig: status $rc, expected $want"
		wait_pid_gone "$cpid" 2
	done
	assert_no_leftovers
}

@test "sandbox: SIGKILL of husk kills the command and leaves no state, cgroup or mount" {
	(cd "$WORK" && exec "$HUSK" --root "$HUSK_ROOT" sandbox --cgroup-parent "$CGROUP_PATH" -- sleep 60) </dev/null &
	local husk=$! cpid children p i
	cpid=$(sandbox_pid)
	[ -n "$cpid" ] || fail "the sandbox did not start"
	[ -n "$(test_cgroup_dirs)" ] || fail "no cgroup while it runs"
	# husk's children: the watchdog and the command
	children=$(pgrep -P "$husk" | tr '\n' ' ')
	[[ " $children " == *" $cpid "* ]] || fail "the command $cpid is not among husk's children: $children"
	kill -KILL "$husk"
	wait "$husk" || true
	for p in $children; do
		wait_pid_gone "$p" 5
	done
	for ((i = 0; i < 100; i++)); do
		[ -z "$(ls -A "$HUSK_ROOT")" ] && [ -z "$(test_cgroup_dirs)" ] && break
		sleep 0.05
	done
	assert_no_leftovers
}

@test "sandbox: --print-config is a config.json husk run runs the same way" {
	mkdir "$TEST_DIR/bundle"
	sb --hostname rt --print-config -- sh -c 'hostname; echo made >from-run; touch /etc/x-$$ 2>/dev/null || echo ro'
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" >"$TEST_DIR/bundle/config.json"
	[ -z "$(ls -A "$HUSK_ROOT" 2>/dev/null)" ]
	[ "$(jq -r .root.path "$TEST_DIR/bundle/config.json")" = /proc/.. ]
	[ "$(jq -r .root.readonly "$TEST_DIR/bundle/config.json")" = true ]
	[ "$(jq -r .process.noNewPrivileges "$TEST_DIR/bundle/config.json")" = true ]
	[ "$(jq -r '.linux.seccomp.defaultAction' "$TEST_DIR/bundle/config.json")" = SCMP_ACT_ALLOW ]
	[ "$(jq -r '[.linux.namespaces[].type] | sort | join(",")' "$TEST_DIR/bundle/config.json")" = cgroup,ipc,mount,network,pid,uts ]
	[[ $(jq -r .linux.cgroupsPath "$TEST_DIR/bundle/config.json") == "$CGROUP_PATH"/sandbox-* ]]
	BUNDLE=$TEST_DIR/bundle
	husk run "$ID-rt"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = rt ]
	[ "${lines[1]}" = ro ]
	[ "$(cat "$WORK/from-run")" = made ]
	assert_no_leftovers
}

@test "sandbox: --rootfs DIR, writable unless --readonly" {
	[ -x "$HUSK_PROBE" ] || fail "no probe at HUSK_PROBE='$HUSK_PROBE'"
	make_rootfs "$TEST_DIR/rootfs"
	sb --rootfs "$TEST_DIR/rootfs" -- sh -c 'cat /etc/passwd; pwd; echo w >/root/w && echo wrote'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 'root:x:0:0:root:/root:/bin/sh' ]
	[ "${#lines[@]}" -eq 3 ]
	[ "${lines[1]}" = / ]
	[ "${lines[2]}" = wrote ]
	[ -f "$TEST_DIR/rootfs/root/w" ]
	sb --rootfs "$TEST_DIR/rootfs" --readonly -- sh -c 'echo w >/root/v'
	[ "$status" -ne 0 ]
	[[ $output == *"Read-only file system"* ]]
	assert_no_leftovers
}

@test "sandbox: --image runs on the image's layers with a throw-away upper layer, reused from the store" {
	local store=$TEST_DIR/store layout=$TEST_DIR/img
	python3 "$BATS_TEST_DIRNAME/../image/mkimage.py" busybox "$layout" >/dev/null
	sb --image "$layout:busybox" --store "$store" -- sh -c 'test -e /etc/passwd && test -e /usr/bin/apt && echo host; echo w >/written && cat /written && stat -c %a /root'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = w ]
	[ "${lines[1]}" = 700 ]
	# the upper layer went with the sandbox: the next one does not see /written
	local n
	n=$(find "$store/layers" -mindepth 1 -maxdepth 1 | wc -l)
	[ "$n" -eq 3 ]
	sb --image "$layout:busybox" --store "$store" -- sh -c 'test -e /written && echo leaked || echo clean'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = clean ]
	# read-only with --readonly; the host's files are not there
	sb --image "$layout:busybox" --store "$store" --readonly -- sh -c 'echo x >/y'
	[ "$status" -ne 0 ]
	[[ $output == *"Read-only file system"* ]]
	# nothing left: no temp bundle, no upper directory, no overlay mount, layers still cached
	[ -z "$(ls "$store/containers")" ]
	! ls -d /tmp/husk-sandbox-* 2>/dev/null || fail "a temp bundle is left"
	! grep -q "$store" /proc/self/mountinfo || fail "a mount of the store is left"
	[ "$(find "$store/layers" -mindepth 1 -maxdepth 1 | wc -l)" -eq 3 ]
	# an image that cannot be unpacked is an error with nothing made
	sb --image "$TEST_DIR/nonexistent" --store "$store" -- true
	[ "$status" -eq 1 ]
	assert_no_leftovers
}

# ---- as a normal user ----------------------------------------------------------------------------

# The normal user these tests run husk as, made if missing and left in place (rootless.bats uses it
# too, maybe at the same time).  Sets TEST_UID.
TEST_USER=husk-test-user
ensure_test_user() {
	requires userns
	[ "$(cat /proc/sys/user/max_user_namespaces 2>/dev/null || echo 1)" != 0 ] || skip "user namespaces are disabled"
	id "$TEST_USER" >/dev/null 2>&1 || useradd -M -s /bin/sh "$TEST_USER" 2>/dev/null ||
		id "$TEST_USER" >/dev/null 2>&1 || fail "cannot make user $TEST_USER"
	TEST_UID=$(id -u "$TEST_USER")
}

# __as_user DIR CMD...: CMD as $TEST_USER, from DIR, with that user's own environment (no
# XDG_RUNTIME_DIR), time-limited.  AS_USER is the command line that does it, to put before DIR.
AS_USER=(timeout --kill-after=5 "$HUSK_TIMEOUT" setpriv --reuid="$TEST_USER" --regid="$TEST_USER" --init-groups
	--reset-env sh -c 'cd "$1" && shift && exec "$@"' sh)
__as_user() {
	"${AS_USER[@]}" "$@"
}

# sb_user ARGS...: husk sandbox ARGS as $TEST_USER from $WORK, with --root $UROOT; prints what happened.
sb_user() {
	run __as_user "$WORK" "$HUSK" --root "$UROOT" sandbox "$@" </dev/null
	mapfile -t lines <<<"$output"
	echo "husk sandbox $* (as $TEST_USER) -> status $status"
	[ -z "$output" ] || printf '%s\n' "$output" | sed 's/^/  | /'
}

# $TEST_USER's private --root, and $WORK given to it.
setup_user_dirs() {
	ensure_test_user
	UROOT=$TEST_DIR/uroot
	mkdir "$UROOT"
	chown "$TEST_USER" "$WORK" "$UROOT"
}

@test "sandbox: as a normal user: root inside is the user, the host read-only, only lo, its status, nothing left" {
	setup_user_dirs
	local mark=1000.$RANDOM$RANDOM
	echo host >"$WORK/root-owned" # root's, in the read-write current directory
	# no --cgroup-parent: the user may write no cgroup, and needs none without limits
	sb_user --name "$ID" -- sh -c 'echo "uid $(id -u) gid $(id -g)"; echo "map $(cat /proc/self/uid_map)"
		echo "net $(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | tr "\n" " ")"
		touch /etc/husk-rootless-test; echo x >>root-owned; echo mine >mine && echo wrote
		sleep '"$mark"' & exit 7'
	[ "$status" -eq 7 ]
	[ "${lines[0]}" = "uid 0 gid 0" ]
	# uid 0 of the sandbox is the user on the host, and only that one uid is mapped
	[[ ${lines[1]} =~ ^map\ +0\ +$TEST_UID\ +1$ ]]
	[ "${lines[2]}" = "net lo " ]
	[[ $output == *"/etc/husk-rootless-test"*"Read-only file system"* ]]
	# the current directory is writable, but not a file of the host's root in it
	[[ $output == *"root-owned"*"Permission denied"* ]]
	[ "$(cat "$WORK/root-owned")" = host ]
	[ "$(stat -c %U:%s "$WORK/mine")" = "$TEST_USER:5" ]
	[ "${lines[-1]}" = wrote ]
	[[ $output != *warning* ]]
	# nothing left: no state, mount, process (the background sleep went with the sandbox) or cgroup
	[ -z "$(ls -A "$UROOT")" ]
	! grep -F -- "$TEST_DIR" /proc/self/mountinfo || fail "mounts left"
	! pgrep -f "sleep $mark" || fail "the sandbox's background sleep is left"
	! pgrep -u "$TEST_UID" -f -- "$UROOT" || fail "a husk process is left"
	! ls -d /sys/fs/cgroup/*/husk/"$ID" /sys/fs/cgroup/husk/"$ID" 2>/dev/null || fail "a cgroup at /husk/$ID"
	assert_no_leftovers
}

@test "sandbox: as a normal user: --pids needs a delegated --cgroup-parent, refused without one, applied in one" {
	setup_user_dirs
	sb_user --name "$ID" --pids 50 -- echo ran
	[ "$status" -eq 1 ]
	[[ $output == *"sandbox: without root, --memory, --cpus and --pids need a --cgroup-parent delegated to uid $TEST_UID"* ]]
	[[ $output == *"config.json: linux.resources: limits need a cgroup that uid $TEST_UID may write"* ]]
	[[ $output != *ran* ]]
	[ -z "$(ls -A "$UROOT")" ]
	assert_no_leftovers
	delegate_cgroup "$TEST_USER"
	# husk starts in the delegated "shell" cgroup (on v2 a process moves only within what the user
	# may write), then drops to the user; the sandbox's cgroup is $CGROUP_PATH/user/$ID
	local dir=$CGROUP_PATH/user/$ID
	run sh -c 'for d in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
			[ -f "$d/cgroup.procs" ] && echo $$ >"$d/$1/user/shell/cgroup.procs"; done
		shift; exec "$@"' sh "$CGROUP_PATH" "${AS_USER[@]}" "$WORK" "$HUSK" --root "$UROOT" sandbox --name "$ID" \
		--cgroup-parent "$CGROUP_PATH/user" --pids 50 -- sh -c 'for d in /sys/fs/cgroup/pids'"$dir"' /sys/fs/cgroup'"$dir"'; do
			[ -f "$d/pids.max" ] && { cat "$d/pids.max"; grep -qx 1 "$d/cgroup.procs" && echo "1 is in it"; break; }
		done' </dev/null
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 50 ]
	[ "${lines[1]}" = "1 is in it" ]
	# its cgroup went with it (the delegated parent stays, for teardown)
	! ls -d /sys/fs/cgroup/*"$dir" /sys/fs/cgroup"$dir" 2>/dev/null || fail "cgroup $dir left"
	[ -z "$(ls -A "$UROOT")" ]
	! grep -F -- "$TEST_DIR" /proc/self/mountinfo || fail "mounts left"
}
