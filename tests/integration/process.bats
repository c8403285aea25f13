#!/usr/bin/env bats
# The process section: rlimits, user and groups, umask, cwd, env, sysctl, oomScoreAdj.

load helpers

setup() {
	setup_bundle
	HOST_IP_FORWARD=$(cat /proc/sys/net/ipv4/ip_forward)
	HOST_SHM_RMID_FORCED=$(cat /proc/sys/kernel/shm_rmid_forced)
}

teardown() {
	# a runtime that wrote a namespaced sysctl on the host would be caught here; undo it
	local f
	f=$(cat /proc/sys/net/ipv4/ip_forward)
	[ "$f" = "$HOST_IP_FORWARD" ] || echo "$HOST_IP_FORWARD" >/proc/sys/net/ipv4/ip_forward
	f=$(cat /proc/sys/kernel/shm_rmid_forced)
	[ "$f" = "$HOST_SHM_RMID_FORCED" ] || echo "$HOST_SHM_RMID_FORCED" >/proc/sys/kernel/shm_rmid_forced
	teardown_bundle
}

@test "process: rlimits" {
	update_config '.process.rlimits = [{type: "RLIMIT_NOFILE", soft: 1000, hard: 2000},
		{type: "RLIMIT_CORE", soft: 4096, hard: 8192}]'
	husk_run -- /probe rlimit NOFILE -- rlimit CORE
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "1000 2000" ]
	[ "${lines[1]}" = "4096 8192" ]
}

@test "process: uid, gid and additional gids" {
	update_config '.process.user = {uid: 1000, gid: 1001, additionalGids: [10, 20]}'
	husk_run -- /probe status Uid -- status Gid -- status Groups
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "1000 1000 1000 1000" ]
	[ "${lines[1]}" = "1001 1001 1001 1001" ]
	[ "${lines[2]}" = "10 20" ]
}

@test "process: uid 0 without additional gids has no supplementary groups" {
	update_config '.process.user = {uid: 0, gid: 0}'
	husk_run -- /probe status Uid -- status Groups
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "0 0 0 0" ]
	[ "${lines[1]}" = "" ]
}

@test "process: umask" {
	update_config '.process.user.umask = 23' # 0027
	husk_run -- /probe umask -- write /tmp/f x -- stat /tmp/f
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 0027 ]
	[[ "${lines[2]}" == "type=reg mode=0640 "* ]]
}

@test "process: cwd" {
	mkdir -p "$ROOTFS/work/dir"
	update_config '.process.cwd = "/work/dir"'
	husk_run -- /probe cwd -- write relative-file x
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = /work/dir ]
	[ -f "$ROOTFS/work/dir/relative-file" ]
}

@test "process: env" {
	update_config '.process.env = ["PATH=/bin", "FOO=bar baz", "EMPTY="]'
	husk_run -- /probe env FOO -- env EMPTY -- env PATH -- env HUSK_NOT_SET
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "bar baz" ]
	[ "${lines[1]}" = "" ]
	[ "${lines[2]}" = /bin ]
	[ "${lines[3]}" = "(unset)" ]
}

@test "process: the caller's environment does not leak in" {
	update_config '.process.env = ["PATH=/bin"]'
	HUSK_LEAK_CHECK=from-the-host husk_run -- /probe env HUSK_LEAK_CHECK
	[ "$status" -eq 0 ]
	[ "$output" = "(unset)" ]
}

@test "process: sysctl in the container's own network and ipc namespaces" {
	update_config '.linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.shm_rmid_forced": "1"}'
	husk_run -- /probe sysctl net.ipv4.ip_forward -- sysctl kernel.shm_rmid_forced
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1 ]
	[ "${lines[1]}" = 1 ]
	# the host's values are untouched
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$HOST_IP_FORWARD" ]
	[ "$(cat /proc/sys/kernel/shm_rmid_forced)" = "$HOST_SHM_RMID_FORCED" ]
}

@test "process: oomScoreAdj" {
	update_config '.process.oomScoreAdj = 500'
	husk_run -- /probe read /proc/self/oom_score_adj
	[ "$status" -eq 0 ]
	[ "$output" = 500 ]
}

@test "process: oomScoreAdj in a user namespace" {
	requires userns
	update_config '.process.oomScoreAdj = 300
		| .linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
	husk_run -- /probe read /proc/self/oom_score_adj
	[ "$status" -eq 0 ]
	[ "$output" = 300 ]
}

@test "process: a missing executable fails the run and leaves nothing" {
	husk_run -- /no/such/binary
	[ "$status" -ne 0 ]
	assert_no_leftovers
	husk_only "message"
	[[ "$output" == "husk: "*"/no/such/binary"* ]]
}
