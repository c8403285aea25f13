#!/usr/bin/env bats
# The lifecycle by hand: create, start, state, kill, delete, list, ps (runtime.md "Operations"), and the
# reliability cases: one winner among concurrent creates, SIGKILL during create, corrupt state, pid reuse.

load helpers

setup() {
	setup_bundle
	OTHER_PID=
}

teardown() {
	[ -z "$OTHER_PID" ] || kill -9 "$OTHER_PID" 2>/dev/null || true
	teardown_bundle
}

# husk_create ARGS...: `husk create`, its stdio (which the created container keeps) to files, so no
# pipe stays open as `run` would leave it; sets $status and $output (husk's stderr) like `run`.
husk_create() {
	status=0
	__husk create "$@" </dev/null >"$TEST_DIR/create.out" 2>"$TEST_DIR/create.err" || status=$?
	output=$(cat "$TEST_DIR/create.err")
	echo "# husk create $* -> status $status: $output" >&3
}

# status_of ID: the "status" of `husk state ID`.
status_of() {
	__husk state "$1" | jq -r .status
}

@test "lifecycle: create waits for start, start runs the process, kill, delete" {
	set_args sh -c 'echo ran >/tmp/ran; exec /probe sleep 60'
	husk_create --pid-file "$TEST_DIR/init.pid" "$ID"
	[ "$status" -eq 0 ]
	local pid
	pid=$(cat "$TEST_DIR/init.pid")
	[[ "$pid" =~ ^[0-9]+$ ]]
	# created: the process exists, in its cgroup and namespaces, but has not run yet
	[ "$(status_of "$ID")" = created ]
	[ -d "/proc/$pid" ]
	grep -q "/$CGROUP_PARENT/$ID" "/proc/$pid/cgroup"
	[ "$(readlink "/proc/$pid/ns/pid")" != "$(readlink /proc/self/ns/pid)" ]
	[ ! -e "$ROOTFS/tmp/ran" ]
	# no husk process between the caller and the container: its parent is not a husk
	[ "$(cat "/proc/$(awk '{print $4}' "/proc/$pid/stat")/comm")" != husk ]
	husk state "$ID"
	[ "$(echo "$output" | jq -r .pid)" = "$pid" ]
	[ "$(echo "$output" | jq -r .bundle)" = "$BUNDLE" ]
	[ "$(echo "$output" | jq -r .ociVersion)" = 1.2.0 ]

	husk start "$ID"
	[ "$status" -eq 0 ]
	[ "$(status_of "$ID")" = running ]
	for ((i = 0; i < 100; i++)); do [ -e "$ROOTFS/tmp/ran" ] && break; sleep 0.02; done
	[ -e "$ROOTFS/tmp/ran" ]

	husk kill "$ID" KILL
	[ "$status" -eq 0 ]
	wait_pid_gone "$pid"
	[ "$(status_of "$ID")" = stopped ]
	husk delete "$ID"
	[ "$status" -eq 0 ]
	assert_no_leftovers
	husk state "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"does not exist"* ]]
}

@test "lifecycle: start twice, delete while running, kill when stopped" {
	set_args /probe sleep 60
	husk_create "$ID"
	[ "$status" -eq 0 ]
	husk start "$ID"
	[ "$status" -eq 0 ]
	husk start "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"already running"* ]]
	husk delete "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"not stopped"* ]]
	husk kill "$ID" 9
	[ "$status" -eq 0 ]
	for ((i = 0; i < 100; i++)); do [ "$(status_of "$ID")" = stopped ] && break; sleep 0.05; done
	husk kill "$ID" TERM
	[ "$status" -ne 0 ]
	[[ "$output" == *"container not running"* ]]
	husk start "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"stopped"* ]]
	husk delete "$ID"
	[ "$status" -eq 0 ]
	assert_no_leftovers
}

@test "lifecycle: delete --force removes a running container and everything it made" {
	set_args /probe sleep 60
	husk_create --pid-file "$TEST_DIR/init.pid" "$ID"
	husk start "$ID"
	[ "$status" -eq 0 ]
	local pid
	pid=$(cat "$TEST_DIR/init.pid")
	husk delete --force "$ID"
	[ "$status" -eq 0 ]
	wait_pid_gone "$pid"
	assert_no_leftovers
	# and again, once it is gone: an error containerd recognises
	husk delete --force "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"does not exist"* ]]
}

@test "lifecycle: a created container can be deleted without --force" {
	set_args /probe sleep 60
	husk_create --pid-file "$TEST_DIR/init.pid" "$ID"
	[ "$status" -eq 0 ]
	local pid
	pid=$(cat "$TEST_DIR/init.pid")
	husk delete "$ID"
	[ "$status" -eq 0 ]
	wait_pid_gone "$pid"
	assert_no_leftovers
}

@test "lifecycle: kill by name and number, kill --all reaches every process" {
	set_args sh -c 'trap "echo got-usr1 >/tmp/usr1" USR1; /probe sleep 60 & /probe sleep 60 & while :; do sleep 0.1; done'
	husk_create --pid-file "$TEST_DIR/init.pid" "$ID"
	husk start "$ID"
	[ "$status" -eq 0 ]
	husk kill "$ID" SIGUSR1
	[ "$status" -eq 0 ]
	for ((i = 0; i < 100; i++)); do [ -e "$ROOTFS/tmp/usr1" ] && break; sleep 0.02; done
	[ "$(cat "$ROOTFS/tmp/usr1")" = got-usr1 ]
	husk kill "$ID" NOSUCHSIG
	[ "$status" -ne 0 ]
	[[ "$output" == *"unknown signal"* ]]
	husk ps --format json "$ID"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq length)" -ge 3 ]
	husk kill --all "$ID" 9
	[ "$status" -eq 0 ]
	for ((i = 0; i < 100; i++)); do
		[ -z "$(cat /sys/fs/cgroup/pids/"$CGROUP_PARENT/$ID"/cgroup.procs 2>/dev/null)" ] && break
		sleep 0.05
	done
	husk ps --format json "$ID"
	[ "$output" = "[]" ]
	husk delete "$ID"
	[ "$status" -eq 0 ]
	assert_no_leftovers
}

@test "lifecycle: list and ps" {
	set_args /probe sleep 60
	husk_create --pid-file "$TEST_DIR/init.pid" "$ID"
	[ "$status" -eq 0 ]
	husk list -q
	[ "$output" = "$ID" ]
	husk list --format json
	[ "$(echo "$output" | jq -r '.[0].id')" = "$ID" ]
	[ "$(echo "$output" | jq -r '.[0].status')" = created ]
	husk list
	[[ "${lines[0]}" == ID* ]]
	[[ "${lines[1]}" == "$ID"* ]]
	husk ps --format json "$ID"
	[ "$output" = "[$(cat "$TEST_DIR/init.pid")]" ]
	husk delete --force "$ID"
	assert_no_leftovers
}

@test "lifecycle: a second create of the same id fails, and of 8 concurrent creates exactly one wins" {
	husk_only "runc's messages differ"
	set_args /probe sleep 60
	husk_create "$ID"
	[ "$status" -eq 0 ]
	husk_create "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"already exists"* ]]
	[ "$(status_of "$ID")" = created ]
	husk delete --force "$ID"
	assert_no_leftovers

	local i pids=() ok=0
	for ((i = 0; i < 8; i++)); do
		(cd "$BUNDLE" && exec "$HUSK" --root "$HUSK_ROOT" create "$ID") >"$TEST_DIR/c$i.out" 2>&1 &
		pids+=($!)
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" && ok=$((ok + 1))
	done
	[ "$ok" -eq 1 ]
	grep -l "already exists" "$TEST_DIR"/c*.out | wc -l | grep -qx 7
	# exactly one process in the container's cgroup
	[ "$(wc -l <"/sys/fs/cgroup/pids/$CGROUP_PARENT/$ID/cgroup.procs")" -eq 1 ]
	husk delete --force "$ID"
	[ "$status" -eq 0 ]
	assert_no_leftovers
}

@test "lifecycle: SIGKILL of husk at any moment of create leaves nothing delete --force cannot remove" {
	husk_only "timing of husk's own steps"
	set_args /probe sleep 60
	local delay
	for delay in 0.001 0.002 0.004 0.006 0.008 0.012 0.02 0.05; do
		(cd "$BUNDLE" && exec "$HUSK" --root "$HUSK_ROOT" create "$ID") >/dev/null 2>&1 &
		local pid=$!
		sleep "$delay"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		__husk delete --force "$ID" >/dev/null 2>&1 || true
		# no process of the container left anywhere, no cgroup, no state
		assert_no_leftovers
	done
}

@test "lifecycle: a corrupt state file is a clear error and delete --force still cleans up" {
	husk_only "husk's messages"
	set_args /probe sleep 60
	husk_create --pid-file "$TEST_DIR/init.pid" "$ID"
	[ "$status" -eq 0 ]
	local pid
	pid=$(cat "$TEST_DIR/init.pid")
	echo '{"ociVersion": "1.2.0", "id": ' >"$HUSK_ROOT/$ID/state.json"
	husk state "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"corrupt state file"* ]]
	husk delete --force "$ID"
	[ "$status" -eq 0 ]
	wait_pid_gone "$pid"
	assert_no_leftovers
}

@test "lifecycle: a reused pid is never signalled" {
	husk_only "husk's state file"
	set_args /probe sleep 60
	husk_create "$ID"
	husk start "$ID"
	[ "$status" -eq 0 ]
	# make the state point at another live process of ours, with the container's start time
	sleep 60 &
	OTHER_PID=$!
	jq --argjson p "$OTHER_PID" '.pid = $p' "$HUSK_ROOT/$ID/state.json" >"$TEST_DIR/s.json"
	mv "$TEST_DIR/s.json" "$HUSK_ROOT/$ID/state.json"
	[ "$(status_of "$ID")" = stopped ]
	husk kill "$ID" KILL
	[ "$status" -ne 0 ]
	[[ "$output" == *"container not running"* ]]
	kill -0 "$OTHER_PID"
	husk delete --force "$ID"
	[ "$status" -eq 0 ]
	kill -0 "$OTHER_PID"
	assert_no_leftovers
}

@test "lifecycle: create and start with a non-root process user" {
	update_config '.process.user = {uid: 1000, gid: 1000}'
	set_args sh -c '/probe status Uid >/tmp/uid; exec /probe sleep 60'
	husk_create "$ID"
	[ "$status" -eq 0 ]
	husk start "$ID"
	[ "$status" -eq 0 ]
	for ((i = 0; i < 100; i++)); do [ -s "$ROOTFS/tmp/uid" ] && break; sleep 0.02; done
	[ "$(cat "$ROOTFS/tmp/uid")" = "1000 1000 1000 1000" ]
	husk delete --force "$ID"
	assert_no_leftovers
}

@test "lifecycle: pause stops a counter, resume restarts it; state says paused" {
	set_args sh -c 'i=0; while :; do i=$((i+1)); echo $i >/tmp/count; sleep 0.05; done'
	husk_create "$ID"
	husk start "$ID"
	[ "$status" -eq 0 ]
	sleep 0.5
	husk pause "$ID"
	[ "$status" -eq 0 ]
	[ "$(status_of "$ID")" = paused ]
	local a b c
	a=$(cat "$ROOTFS/tmp/count")
	sleep 0.5
	b=$(cat "$ROOTFS/tmp/count")
	[ "$a" = "$b" ]
	husk pause "$ID"
	[ "$status" -ne 0 ]
	husk resume "$ID"
	[ "$status" -eq 0 ]
	[ "$(status_of "$ID")" = running ]
	sleep 0.5
	c=$(cat "$ROOTFS/tmp/count")
	[ "$c" -gt "$b" ]
	husk resume "$ID"
	[ "$status" -ne 0 ]
	# a paused container can be deleted by force
	husk pause "$ID"
	husk delete --force "$ID"
	[ "$status" -eq 0 ]
	assert_no_leftovers
}

@test "lifecycle: invalid ids are refused" {
	local bad
	for bad in ../x a/b . ..; do
		husk_create "$bad"
		[ "$status" -ne 0 ]
		husk state "$bad"
		[ "$status" -ne 0 ]
	done
	assert_no_leftovers
}

@test "lifecycle: the flags engines probe with: --version, --debug, --no-new-keyring, ps table, checkpoint --help" {
	husk --version
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "husk version "* ]]
	[[ "$output" == *"spec: 1.2.0"* ]]
	set_args /probe sleep 60
	status=0
	__husk --debug create --no-new-keyring --pid-file "$TEST_DIR/init.pid" "$ID" </dev/null >"$TEST_DIR/c.out" 2>&1 || status=$?
	[ "$status" -eq 0 ]
	husk ps "$ID"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == PID* ]]
	[[ "${lines[1]}" == "$(cat "$TEST_DIR/init.pid")"* ]]
	# no checkpoint support: Podman reads a failure of `checkpoint --help` as "not supported"
	husk checkpoint --help
	[ "$status" -ne 0 ]
	husk delete --force "$ID"
	[ "$status" -eq 0 ]
	assert_no_leftovers
}
