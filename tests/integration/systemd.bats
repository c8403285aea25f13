#!/usr/bin/env bats
# The systemd cgroup driver on a host without systemd: libsystemd stays out of the commands that do
# not use the driver, and a missing system bus is a clean error that leaves nothing behind.  (The
# driver's D-Bus conversation is tested against a fake systemd on a private bus:
# tests/unit/test-systemd.c.)

load helpers

setup() {
	setup_bundle
}

# The systemd-form paths these tests use, for this test's ID only: husk must not make them, but if
# it did, remove them (killing what they hold: only this test's container can be there).
systemd_cgroup_dirs() {
	local d
	for d in /sys/fs/cgroup/*/husktest.slice/husk-"$ID".scope /sys/fs/cgroup/husktest.slice/husk-"$ID".scope \
		/sys/fs/cgroup/*/system.slice/husk-"$ID".scope /sys/fs/cgroup/system.slice/husk-"$ID".scope; do
		[ -d "$d" ] && echo "$d"
	done
	return 0
}

teardown() {
	local d pid
	# a husk run left in the background by a failed test: end its container, then reap it
	if [ -n "${HUSK_PID:-}" ] && kill -0 "$HUSK_PID" 2>/dev/null; then
		kill_test_cgroup_procs
		wait_pid_gone "$HUSK_PID" 10 || kill -9 "$HUSK_PID"
		wait "$HUSK_PID" 2>/dev/null || true
	fi
	for d in $(systemd_cgroup_dirs); do
		for pid in $(cat "$d/cgroup.procs" 2>/dev/null); do
			kill -9 "$pid" 2>/dev/null || true
		done
		sleep 0.1
		rmdir "$d" 2>/dev/null || true
		if [ "${d%/husktest.slice/*}" != "$d" ]; then
			rmdir "${d%/*}" 2>/dev/null || true
		fi
	done
	teardown_bundle
}

# husk_nobus [GLOBAL OPTIONS...] ID: `husk run` of the bundle, with this test's --root and a system bus
# address that names no socket.  Not through the helpers' wrapper: it refuses a cgroupsPath that is
# not under /husk-test/, and the systemd form cannot be.
husk_nobus() {
	run env DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent \
		timeout --kill-after=5 "$HUSK_TIMEOUT" "$HUSK" "${@:1:$#-1}" --root "$HUSK_ROOT" run --bundle "$BUNDLE" "${@: -1}" </dev/null
	echo "husk $* -> status $status"
	[ -z "$output" ] || printf '%s\n' "$output" | sed 's/^/  | /'
}

# No systemd-form cgroup of this test exists, and nothing else is left.
assert_no_systemd_leftovers() {
	local left d
	left=$(systemd_cgroup_dirs)
	[ -z "$left" ] || fail "systemd-form cgroups left: $left"
	for d in /sys/fs/cgroup/*/husktest.slice /sys/fs/cgroup/husktest.slice; do
		[ ! -d "$d" ] || fail "husktest.slice made: $d"
	done
	assert_no_leftovers
}

@test "systemd: a husk run parent without the driver never maps libsystemd" {
	husk_only "which libraries husk loads"
	set_args sleep 3
	local hp i running=
	# husk itself, not the wrapper: $! must be husk's pid.  fd 3 closed so bats does not wait on it.
	(cd "$BUNDLE" && exec "$HUSK" --root "$HUSK_ROOT" run "$ID") >"$TEST_DIR/run.out" 2>&1 3>&- &
	hp=$!
	HUSK_PID=$hp # for teardown
	for ((i = 0; i < 200; i++)); do
		if "$HUSK" --root "$HUSK_ROOT" state "$ID" 2>/dev/null | grep -q '"status": "running"'; then
			running=1
			break
		fi
		sleep 0.05
	done
	[ -n "$running" ] || fail "the container never ran: $(cat "$TEST_DIR/run.out")"
	cat "/proc/$hp/maps" >"$TEST_DIR/maps"
	# the maps read are husk's (the sealed copy runs with yajl, its config parser, mapped)...
	grep -q libyajl "$TEST_DIR/maps" || fail "pid $hp is not husk: $(head -n 3 "$TEST_DIR/maps")"
	# ...and hold no libsystemd
	if grep libsystemd "$TEST_DIR/maps"; then
		fail "husk run mapped libsystemd"
	fi
	wait "$hp"
	HUSK_PID=
	assert_no_leftovers
}

@test "systemd: a slice:prefix:name cgroupsPath without a system bus fails cleanly, nothing made" {
	husk_only "husk's message"
	update_config '.linux.cgroupsPath = $cg' --arg cg "husktest.slice:husk:$ID"
	husk_nobus "$ID"
	[ "$status" -eq 1 ]
	[[ $output == *"systemd cgroup driver: cannot connect to the system bus"* ]]
	assert_no_systemd_leftovers
}

@test "systemd: --systemd-cgroup without a cgroupsPath and without a system bus fails cleanly" {
	husk_only "husk's message"
	update_config 'del(.linux.cgroupsPath)'
	husk_nobus --systemd-cgroup "$ID"
	[ "$status" -eq 1 ]
	[[ $output == *"systemd cgroup driver: cannot connect to the system bus"* ]]
	assert_no_systemd_leftovers
}

@test "systemd: features reports the systemd driver (system instance only)" {
	husk_only "husk's features"
	run "$HUSK" features
	[ "$status" -eq 0 ]
	[ "$(jq -r .linux.cgroup.systemd <<<"$output")" = true ]
	[ "$(jq -r .linux.cgroup.systemdUser <<<"$output")" = false ]
}
