#!/usr/bin/env bats
# husk run: exit status, signals, stdio, PID 1, --pid-file, --detach.

load helpers

setup() {
	setup_bundle
	HUSK_PID=
}

teardown() {
	# a background husk this test started and that is still there (checked: the pid is not reused)
	if [ -n "$HUSK_PID" ] && tr '\0' ' ' <"/proc/$HUSK_PID/cmdline" 2>/dev/null | grep -q -- " $ID"; then
		kill -9 "$HUSK_PID"
	fi
	teardown_bundle
}

# Start `husk run ID` in the background with stdio to files; HUSK_PID is husk's own pid.
start_husk_bg() {
	(cd "$BUNDLE" && exec "$HUSK" --root "$HUSK_ROOT" run "$@" "$ID") \
		</dev/null >"$TEST_DIR/out" 2>"$TEST_DIR/err" &
	HUSK_PID=$!
}

# Wait up to 30 s for the background husk to exit; its exit status goes to HUSK_STATUS.  A husk that
# hangs is killed (it is this test's own child) and the test fails.
wait_husk_bg() {
	local i
	for ((i = 0; i < 600; i++)); do
		kill -0 "$HUSK_PID" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$HUSK_PID" 2>/dev/null; then
		kill -9 "$HUSK_PID"
		fail "husk did not exit"
	fi
	HUSK_STATUS=0
	wait "$HUSK_PID" || HUSK_STATUS=$?
	HUSK_PID=
}

# Wait up to 10 s for a line equal to $1 in the background container's stdout.
wait_for_line() {
	local i
	for ((i = 0; i < 200; i++)); do
		grep -qx -- "$1" "$TEST_DIR/out" && return 0
		sleep 0.05
	done
	cat "$TEST_DIR/out" "$TEST_DIR/err"
	fail "no line '$1' in the container's output"
}

@test "run: the container's exit status is husk's" {
	husk_run -- /probe exit 42
	[ "$status" -eq 42 ]
	husk_run -- /probe exit 0
	[ "$status" -eq 0 ]
	assert_no_leftovers
}

@test "run: death by a signal gives 128+signal" {
	# PID 1 of a PID namespace cannot kill itself, so this container shares the host's PID namespace.
	update_config '.linux.namespaces |= map(select(.type != "pid"))'
	husk_run -- /probe kill-self 9
	[ "$status" -eq 137 ]
	husk_run -- /probe kill-self 15
	[ "$status" -eq 143 ]
	[[ "$output" != *"still alive"* ]]
}

@test "run: PID 1 killed from the host gives 137" {
	set_args /probe sleep 30
	start_husk_bg --pid-file "$TEST_DIR/c.pid"
	wait_for_file "$TEST_DIR/c.pid"
	kill -9 "$(cat "$TEST_DIR/c.pid")"
	wait_husk_bg
	[ "$HUSK_STATUS" -eq 137 ]
	assert_no_leftovers
}

@test "run: stdout and stderr are passed through separately" {
	set_args sh -c 'echo to-stdout; echo to-stderr >&2'
	__husk run "$ID" </dev/null >"$TEST_DIR/out" 2>"$TEST_DIR/err"
	[ "$(cat "$TEST_DIR/out")" = "to-stdout" ]
	grep -qx to-stderr "$TEST_DIR/err"
	! grep -q to-stderr "$TEST_DIR/out"
}

@test "run: stdin is passed through" {
	set_args cat
	run __husk run "$ID" <<<"hello through stdin"
	[ "$status" -eq 0 ]
	[ "$output" = "hello through stdin" ]
}

@test "run: --bundle names the bundle from another directory" {
	set_args /probe cwd
	run bash -c 'cd / && exec timeout 60 "$1" --root "$2" run --bundle "$3" "$4" </dev/null' \
		sh "$HUSK" "$HUSK_ROOT" "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
	[ "$output" = / ]
	# and a missing one is an error
	run bash -c 'cd / && exec timeout 60 "$1" --root "$2" run --bundle "$3" "$4" </dev/null' \
		sh "$HUSK" "$HUSK_ROOT" "$TEST_DIR/no-such-bundle" "$ID"
	[ "$status" -ne 0 ]
	assert_no_leftovers
}

@test "run: the process is PID 1 in its PID namespace" {
	husk_run -- /probe pid -- ppid
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1 ]
	[ "${lines[1]}" = 0 ]
}

@test "run: --pid-file holds digits only" {
	husk_run --pid-file "$TEST_DIR/c.pid" -- /probe pid
	[ "$status" -eq 0 ]
	[[ "$(cat "$TEST_DIR/c.pid")" =~ ^[0-9]+$ ]]
	[ "$(cat "$TEST_DIR/c.pid")" -gt 1 ]
}

@test "run: --pid-file matches the pid the container reports" {
	update_config '.linux.namespaces |= map(select(.type != "pid"))'
	set_args /probe pid
	__husk run --pid-file "$TEST_DIR/c.pid" "$ID" </dev/null >"$TEST_DIR/out"
	[[ "$(cat "$TEST_DIR/c.pid")" =~ ^[0-9]+$ ]]
	[ "$(cat "$TEST_DIR/c.pid")" = "$(cat "$TEST_DIR/out")" ]
}

@test "run: --detach returns while the container runs" {
	set_args /probe sleep 30
	SECONDS=0
	# stdio to files: a detached container keeps them open
	__husk run --detach --pid-file "$TEST_DIR/c.pid" "$ID" </dev/null >"$TEST_DIR/out" 2>&1
	[ "$SECONDS" -lt 10 ]
	local pid
	pid=$(cat "$TEST_DIR/c.pid")
	[[ "$pid" =~ ^[0-9]+$ ]]
	[ -d "/proc/$pid" ]
	[ "$(tr '\0' ' ' <"/proc/$pid/cmdline")" = "/probe sleep 30 " ]
	[ "$(readlink "/proc/$pid/ns/pid")" != "$(readlink /proc/self/ns/pid)" ]
	grep -q "/husk-test/$ID" "/proc/$pid/cgroup"
	kill -9 "$pid"
	wait_pid_gone "$pid"
}

@test "run: signals to husk are forwarded to the container" {
	set_args sh -c 'trap "echo got USR1" USR1; trap "echo got TERM; exit 7" TERM; echo ready
		while :; do sleep 0.1; done'
	start_husk_bg
	wait_for_line ready
	kill -USR1 "$HUSK_PID"
	wait_for_line "got USR1"
	kill -TERM "$HUSK_PID"
	wait_husk_bg
	cat "$TEST_DIR/out"
	[ "$HUSK_STATUS" -eq 7 ]
	grep -qx "got TERM" "$TEST_DIR/out"
	assert_no_leftovers
}

@test "run: nothing is left after a run" {
	husk_run -- /probe pid
	[ "$status" -eq 0 ]
	[ "$output" = 1 ]
	assert_no_leftovers
}

@test "run: husk runs from a sealed copy of itself, never the host binary (CVE-2019-5736, T12)" {
	husk_only "runc 1.1.5 uses a read-only bind instead"
	local before after seals
	before=$(sha256sum <"$HUSK")
	set_args /probe pid -- sleep 30
	start_husk_bg
	wait_for_line 1
	# what a process in the container reaches as /proc/<pid>/exe of its runtime (and the child, which
	# is a fork of it, until execve)
	[[ "$(readlink "/proc/$HUSK_PID/exe")" == "/memfd:husk"* ]]
	seals=$("$HUSK_PROBE" seals "/proc/$HUSK_PID/exe")
	# F_SEAL_SEAL|SHRINK|GROW|WRITE = 0xf
	[ $((seals & 0xf)) -eq $((0xf)) ]
	# ETXTBSY while it runs, EPERM (the seals) once it has exited: never writable
	run "$HUSK_PROBE" write "/proc/$HUSK_PID/exe" overwritten
	[ "$output" = "error: EPERM" ] || [ "$output" = "error: ETXTBSY" ]
	after=$(sha256sum <"$HUSK")
	[ "$before" = "$after" ]
	kill -TERM "$HUSK_PID"
	wait_husk_bg
}

@test "run: --detach with a profile that forbids prctl: the container outlives husk" {
	# the parent-death signal is cleared before the filter goes in
	update_config '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", syscalls: [
		{names: ["prctl"], action: "SCMP_ACT_ERRNO"}]}'
	set_args /probe sleep 30
	__husk run --detach --pid-file "$TEST_DIR/c.pid" "$ID" </dev/null >"$TEST_DIR/out" 2>&1
	local pid
	pid=$(cat "$TEST_DIR/c.pid")
	sleep 0.3
	[ "$(awk '{print $3}' "/proc/$pid/stat")" = S ]
	kill -9 "$pid"
	wait_pid_gone "$pid"
}

@test "run: a caller that ignores SIGCHLD still gets the exit status" {
	set_args /probe exit 7
	run timeout 20 perl -e '$SIG{CHLD} = "IGNORE"; exec @ARGV' "$HUSK" --root "$HUSK_ROOT" run --bundle "$BUNDLE" "$ID"
	[ "$status" -eq 7 ]
	assert_no_leftovers
}

@test "run: a failed run leaves the caller's existing --pid-file alone" {
	echo precious >"$TEST_DIR/keep.pid"
	set_args /no/such/binary
	husk run --pid-file "$TEST_DIR/keep.pid" "$ID"
	[ "$status" -ne 0 ]
	[ "$(cat "$TEST_DIR/keep.pid")" = precious ]
	assert_no_leftovers
}

@test "run: signals the caller ignores are not ignored in the container" {
	set_args /probe status SigIgn -- status SigBlk
	run bash -c "trap '' INT USR2 TERM; cd '$BUNDLE' && exec '$HUSK' --root '$HUSK_ROOT' run '$ID'" </dev/null
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 0000000000000000 ]
	[ "${lines[1]}" = 0000000000000000 ]
	assert_no_leftovers
}

@test "run: --preserve-fds passes the caller's fds 3..3+N-1, and no others" {
	echo three >"$TEST_DIR/f3"
	echo four >"$TEST_DIR/f4"
	set_args /probe fds -- read /proc/self/fd/3 -- read /proc/self/fd/4
	run bash -c "exec 3<'$TEST_DIR/f3' 4<'$TEST_DIR/f4' 9</etc/passwd; cd '$BUNDLE' && exec '$HUSK' --root '$HUSK_ROOT' run --preserve-fds 2 '$ID'" </dev/null
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "0 1 2 3 4" ]
	[ "${lines[1]}" = three ]
	[ "${lines[2]}" = four ]
	assert_no_leftovers
}

@test "run: --preserve-fds refuses fds the caller does not have" {
	husk_only "message"
	run bash -c "cd '$BUNDLE' && exec '$HUSK' --root '$HUSK_ROOT' run --preserve-fds 50 '$ID'" </dev/null
	[ "$status" -ne 0 ]
	[[ "$output" == *"--preserve-fds 50: fd "*" is not open"* ]]
	assert_no_leftovers
}

@test "run: socket activation: LISTEN_FDS for husk's pid passes the fds and sets the process's env" {
	husk_only "LISTEN_FDS handling"
	echo sock >"$TEST_DIR/f3"
	set_args /probe fds -- env LISTEN_FDS -- env LISTEN_PID
	run bash -c "exec 3<'$TEST_DIR/f3'; export LISTEN_FDS=1 LISTEN_PID=\$\$; cd '$BUNDLE' && exec '$HUSK' --root '$HUSK_ROOT' run '$ID'" </dev/null
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "0 1 2 3" ]
	[ "${lines[1]}" = 1 ]
	[ "${lines[2]}" = 1 ]
	assert_no_leftovers
}

@test "run: NOTIFY_SOCKET is passed through to the container" {
	husk_only "husk's notify path"
	local recvtty=${HUSK_RECVTTY:-$(cd "$BATS_TEST_DIRNAME/.." && pwd)/recvtty/recvtty}
	# any listening unix socket stands for the caller's sd_notify listener
	"$recvtty" -m null "$TEST_DIR/notify.sock" </dev/null >/dev/null 2>&1 &
	local recv=$! i
	for ((i = 0; i < 200; i++)); do [ -S "$TEST_DIR/notify.sock" ] && break; sleep 0.01; done
	set_args /probe env NOTIFY_SOCKET -- stat /run/notify/notify.sock
	NOTIFY_SOCKET=$TEST_DIR/notify.sock husk run "$ID"
	kill "$recv" 2>/dev/null || true
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = /run/notify/notify.sock ]
	[[ "${lines[1]}" == type=sock* ]]
	assert_no_leftovers
}
