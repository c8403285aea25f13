#!/usr/bin/env bats
# husk events: the container's cgroup stats as runc's JSON event lines (--stats once, or every
# --interval until the container stops), an "oom" event when the OOM killer strikes, the errors.

load helpers

setup() {
	setup_bundle
	EVENTS_PID=
}

teardown() {
	[ -z "$EVENTS_PID" ] || kill "$EVENTS_PID" 2>/dev/null || true
	teardown_bundle
}

# A detached container running /probe sleep 60 with memory (256 MiB, no swap) and pids (100) limits.
start_container() {
	update_config '.linux.resources.memory = {limit: 268435456, swap: 268435456} | .linux.resources.pids = {limit: 100}'
	set_args /probe sleep 60
	__husk run --detach --pid-file "$TEST_DIR/init.pid" "$ID" </dev/null >"$TEST_DIR/init.out" 2>&1 ||
		fail "husk run --detach failed: $(cat "$TEST_DIR/init.out")"
}

# events_bg ARGS...: `husk events ARGS ID` in the background, stdout to $TEST_DIR/events.out.
events_bg() {
	__husk events "$@" "$ID" </dev/null >"$TEST_DIR/events.out" 2>"$TEST_DIR/events.err" &
	EVENTS_PID=$!
}

@test "events --stats: one stats event with cpu, memory and pids of the container" {
	start_container
	husk events --stats "$ID"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	echo "$output" | jq -e . >/dev/null
	[ "$(echo "$output" | jq -r .type)" = stats ]
	[ "$(echo "$output" | jq -r .id)" = "$ID" ]
	[ "$(echo "$output" | jq '.data.pids.current')" -ge 1 ]
	[ "$(echo "$output" | jq '.data.pids.limit')" -eq 100 ]
	[ "$(echo "$output" | jq '.data.memory.usage.usage')" -gt 0 ]
	[ "$(echo "$output" | jq '.data.memory.usage.limit')" -eq 268435456 ]
	[ "$(echo "$output" | jq '.data.cpu.usage.total')" -gt 0 ]
	echo "$output" | jq -e '.data.memory.raw | type == "object"' >/dev/null
	echo "$output" | jq -e '.data.cpu.usage.kernel | type == "number"' >/dev/null
	echo "$output" | jq -e '.data.hugetlb | type == "object"' >/dev/null
	# the container's own counter: the same as its cgroup file says, not the host's
	if [ -r "/sys/fs/cgroup/pids/$CGROUP_PATH/pids.current" ]; then
		[ "$(echo "$output" | jq '.data.pids.current')" -eq "$(cat "/sys/fs/cgroup/pids/$CGROUP_PATH/pids.current")" ]
	fi
	husk delete --force "$ID"
	assert_no_leftovers
}

@test "events --interval 200ms: a stats event every interval; exits 0 when the container stops" {
	start_container
	events_bg --interval 200ms
	sleep 1.1
	kill -0 "$EVENTS_PID" || fail "husk events exited early: $(cat "$TEST_DIR/events.err")"
	local n
	n=$(wc -l <"$TEST_DIR/events.out")
	echo "lines after 1.1 s: $n"
	[ "$n" -ge 2 ] && [ "$n" -le 7 ]
	[ "$(jq -r .type "$TEST_DIR/events.out" | sort -u)" = stats ]
	husk kill "$ID" KILL
	[ "$status" -eq 0 ]
	local i rc=running
	for ((i = 0; i < 100; i++)); do
		kill -0 "$EVENTS_PID" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$EVENTS_PID" 2>/dev/null && fail "husk events still running after the container stopped"
	wait "$EVENTS_PID" && rc=0 || rc=$?
	EVENTS_PID=
	[ "$rc" = 0 ] || fail "husk events exited with $rc: $(cat "$TEST_DIR/events.err")"
	husk delete "$ID"
	assert_no_leftovers
}

@test "events: an oom event when the OOM killer kills in the container" {
	update_config '.linux.resources.memory = {limit: 33554432, swap: 33554432}'
	set_args /probe sleep 60
	__husk run --detach --pid-file "$TEST_DIR/init.pid" "$ID" </dev/null >"$TEST_DIR/init.out" 2>&1 ||
		fail "husk run --detach failed: $(cat "$TEST_DIR/init.out")"
	events_bg --interval 10s
	sleep 0.3
	# a shell that holds 128 MB in a variable, in a 32 MiB cgroup: killed
	husk exec "$ID" sh -c 'x=$(head -c 134217728 /dev/zero | tr "\0" x); echo survived'
	[ "$status" -ne 0 ]
	local i
	for ((i = 0; i < 60; i++)); do
		grep -q '"type":"oom"' "$TEST_DIR/events.out" && break
		sleep 0.05
	done
	cat "$TEST_DIR/events.out"
	grep -qx "{\"type\":\"oom\",\"id\":\"$ID\"}" "$TEST_DIR/events.out" || fail "no oom event"
	# the container itself survived: events still runs
	kill -0 "$EVENTS_PID"
	husk delete --force "$ID"
	assert_no_leftovers
}

@test "events: errors for a stopped container, a missing one, a bad interval" {
	husk_only "husk's messages"
	start_container
	husk events --interval 5x "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"invalid duration '5x'"* ]]
	husk events --interval 0s "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"greater than 0"* ]]
	husk kill "$ID" KILL
	wait_pid_gone "$(cat "$TEST_DIR/init.pid")"
	husk events --stats "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"container not running"* ]]
	husk events "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"container not running"* ]]
	husk delete "$ID"
	husk events --stats "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"container '$ID' does not exist"* ]]
	assert_no_leftovers
}
