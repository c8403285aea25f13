#!/usr/bin/env bats
# husk update: new cgroup limits for a running container (flags as runc, or --resources FILE|- as
# containerd sends them), read back from inside the container.

load helpers

setup() {
	setup_bundle
}

teardown() {
	teardown_bundle
}

start_container() {
	update_config '.linux.resources.memory = {limit: 268435456} | .linux.resources.pids = {limit: 100}'
	set_args /probe sleep 60
	__husk run --detach --pid-file "$TEST_DIR/init.pid" "$ID" </dev/null >"$TEST_DIR/init.out" 2>&1 ||
		fail "husk run --detach failed: $(cat "$TEST_DIR/init.out")"
}

# inside FILE: the content of the container's cgroup FILE (v1 "memory/memory.limit_in_bytes" or v2
# "memory.max"), as the container reads it.
inside() {
	__husk exec "$ID" /probe read "/sys/fs/cgroup/$1" </dev/null
}

@test "update: flags change memory, pids and cpu limits of the running container" {
	[ -d /sys/fs/cgroup/memory ] || skip "checks v1 file names"
	start_container
	[ "$(inside memory/memory.limit_in_bytes)" = 268435456 ]
	husk update --memory 134217728 --pids-limit 42 --cpu-share 512 --cpu-quota 20000 --cpu-period 100000 "$ID"
	[ "$status" -eq 0 ]
	[ "$(inside memory/memory.limit_in_bytes)" = 134217728 ]
	[ "$(inside pids/pids.max)" = 42 ]
	[ "$(inside cpu/cpu.shares)" = 512 ]
	[ "$(inside cpu/cpu.cfs_quota_us)" = 20000 ]
	husk delete --force "$ID"
	assert_no_leftovers
}

@test "update: --resources - takes a LinuxResources object on stdin (containerd)" {
	[ -d /sys/fs/cgroup/pids ] || skip "checks v1 file names"
	start_container
	run bash -c "echo '{\"pids\": {\"limit\": 7}, \"memory\": {\"limit\": 201326592}}' | '$HUSK' --root '$HUSK_ROOT' update --resources - '$ID'"
	[ "$status" -eq 0 ]
	[ "$(inside pids/pids.max)" = 7 ]
	[ "$(inside memory/memory.limit_in_bytes)" = 201326592 ]
	husk delete --force "$ID"
	assert_no_leftovers
}

@test "update: a bad value names the field; a stopped container is refused" {
	husk_only "husk's messages"
	start_container
	run bash -c "echo '{\"pids\": {\"limit\": \"many\"}}' | '$HUSK' --root '$HUSK_ROOT' update --resources - '$ID'"
	[ "$status" -ne 0 ]
	[[ "$output" == *"--resources: linux.resources.pids.limit: expected integer"* ]]
	husk kill "$ID" KILL
	wait_pid_gone "$(cat "$TEST_DIR/init.pid")"
	husk update --memory 1000000 "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"container not running"* ]]
	husk delete "$ID"
	assert_no_leftovers
}
