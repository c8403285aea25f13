#!/usr/bin/env bats
# process.terminal: a pty made inside the container, its master sent over --console-socket as exactly
# one fd, or proxied by `run` itself; consoleSize; /dev/console is the pty.  (CVE-2025-52565: the peer
# comes from TIOCGPTPEER, never a /dev/pts path.)

load helpers

HUSK_RECVTTY=${HUSK_RECVTTY:-$(cd "$BATS_TEST_DIRNAME/.." && pwd)/recvtty/recvtty}

setup() {
	setup_bundle
	RECV_PID=
	update_config '.process.terminal = true | .process.consoleSize = {height: 33, width: 111}'
}

teardown() {
	[ -z "$RECV_PID" ] || kill -9 "$RECV_PID" 2>/dev/null || true
	teardown_bundle
}

# start_recvtty MODE: a receiver on $TEST_DIR/console.sock, output to $TEST_DIR/tty.out.
start_recvtty() {
	"$HUSK_RECVTTY" -m "$1" -w "$TEST_DIR/winsize" "$TEST_DIR/console.sock" </dev/null >"$TEST_DIR/tty.out" 2>"$TEST_DIR/tty.err" &
	RECV_PID=$!
	local i
	for ((i = 0; i < 200; i++)); do [ -S "$TEST_DIR/console.sock" ] && return 0; sleep 0.01; done
	fail "recvtty did not start"
}

@test "terminal: run --console-socket: the process has the pty as stdio and /dev/console" {
	husk_only "runc prints to the pty differently"
	start_recvtty proxy
	set_args /probe isatty 0 -- isatty 1 -- isatty 2 -- stat /dev/console -- status Uid
	husk run --console-socket "$TEST_DIR/console.sock" "$ID"
	[ "$status" -eq 0 ]
	wait "$RECV_PID"
	RECV_PID=
	cat "$TEST_DIR/tty.out"
	tr -d '\r' <"$TEST_DIR/tty.out" >"$TEST_DIR/tty.txt"
	[ "$(sed -n 1p "$TEST_DIR/tty.txt")" = yes ]
	[ "$(sed -n 2p "$TEST_DIR/tty.txt")" = yes ]
	[ "$(sed -n 3p "$TEST_DIR/tty.txt")" = yes ]
	# a pty of the container's own devpts (major 136)
	[[ "$(sed -n 4p "$TEST_DIR/tty.txt")" == "type=chr "*"rdev=136:"* ]]
	# consoleSize reached the pty
	[ "$(cat "$TEST_DIR/winsize")" = "33 111" ]
	assert_no_leftovers
}

@test "terminal: create --console-socket, then start" {
	start_recvtty null
	set_args sh -c '/probe isatty 0 >/tmp/tty; exec /probe sleep 60'
	status=0
	__husk create --console-socket "$TEST_DIR/console.sock" "$ID" </dev/null >"$TEST_DIR/c.out" 2>&1 || status=$?
	[ "$status" -eq 0 ]
	husk start "$ID"
	[ "$status" -eq 0 ]
	for ((i = 0; i < 100; i++)); do [ -s "$ROOTFS/tmp/tty" ] && break; sleep 0.02; done
	[ "$(cat "$ROOTFS/tmp/tty")" = yes ]
	husk delete --force "$ID"
	[ "$status" -eq 0 ]
	assert_no_leftovers
}

@test "terminal: run without a socket proxies the pty itself" {
	husk_only "husk's proxy"
	command -v script >/dev/null || skip "needs script (bsdutils)"
	set_args /probe isatty 0 -- exit 3
	run script -qec "cd '$BUNDLE' && '$HUSK' --root '$HUSK_ROOT' run '$ID'" /dev/null </dev/null
	echo "$output"
	[[ "$output" == *yes* ]]
	assert_no_leftovers
}

@test "terminal: create with a terminal needs --console-socket; a socket needs a terminal" {
	husk_only "husk's messages"
	husk create "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"process.terminal: needs --console-socket"* ]]
	update_config '.process.terminal = false'
	husk run --console-socket "$TEST_DIR/nothing.sock" "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"process.terminal is false"* ]]
	assert_no_leftovers
}
