#!/usr/bin/env bats
# Namespaces: new ones differ from the host's, joined ones are the given ones, uts/net/user/time set up.

load helpers

setup() {
	setup_bundle
	NETNS=
	HOLDER=
}

teardown() {
	[ -z "$NETNS" ] || ip netns delete "$NETNS" 2>/dev/null || true
	# a process this test started to hold a user namespace
	[ -z "$HOLDER" ] || kill -9 "$HOLDER" 2>/dev/null || true
	teardown_bundle
}

# set_namespaces TYPE...: linux.namespaces = a new namespace of each TYPE.
set_namespaces() {
	update_config '.linux.namespaces = [$ARGS.positional[] | {type: .}]' --args "$@"
}

@test "namespaces: each new namespace differs from the host's" {
	set_namespaces pid network ipc uts mount cgroup
	husk_run -- /probe ns pid -- ns net -- ns ipc -- ns uts -- ns mnt -- ns cgroup -- ns user
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 7 ]
	local i=0 ns
	for ns in pid net ipc uts mnt cgroup; do
		[[ "${lines[$i]}" == "$ns:["*"]" ]]
		[ "${lines[$i]}" != "$(readlink "/proc/self/ns/$ns")" ]
		i=$((i + 1))
	done
	# no user namespace was asked for: the host's
	[ "${lines[6]}" = "$(readlink /proc/self/ns/user)" ]
	assert_no_leftovers
}

@test "namespaces: a namespace that is not listed is the host's" {
	set_namespaces pid mount
	update_config 'del(.hostname, .domainname)' # they need a uts namespace
	husk_run -- /probe ns net -- ns ipc -- ns uts -- ns pid
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$(readlink /proc/self/ns/net)" ]
	[ "${lines[1]}" = "$(readlink /proc/self/ns/ipc)" ]
	[ "${lines[2]}" = "$(readlink /proc/self/ns/uts)" ]
	[ "${lines[3]}" != "$(readlink /proc/self/ns/pid)" ]
}

@test "namespaces: hostname and domainname in a new uts namespace" {
	update_config '.hostname = "husk-host" | .domainname = "husk.example"'
	husk_run -- /probe hostname -- domainname
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = husk-host ]
	[ "${lines[1]}" = husk.example ]
	# the host's are untouched
	[ "$(uname -n)" != husk-host ]
}

@test "namespaces: lo is up in a new network namespace" {
	husk_run -- /probe ifup lo -- ns net
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = up ]
	[ "${lines[1]}" != "$(readlink /proc/self/ns/net)" ]
}

@test "namespaces: joining a network namespace by path" {
	requires ip
	NETNS=husk-test-$ID
	ip netns add "$NETNS"
	local inode
	inode=$(stat -L -c %i "/run/netns/$NETNS")
	update_config '(.linux.namespaces[] | select(.type == "network")) |= . + {path: $p}' \
		--arg p "/run/netns/$NETNS"
	husk_run -- /probe ns net
	[ "$status" -eq 0 ]
	[ "$output" = "net:[$inode]" ]
}

@test "namespaces: joining a namespace path that is not a namespace fails" {
	touch "$TEST_DIR/not-a-ns"
	update_config '(.linux.namespaces[] | select(.type == "network")) |= . + {path: $p}' \
		--arg p "$TEST_DIR/not-a-ns"
	husk_run -- /probe ns net
	[ "$status" -ne 0 ]
	assert_no_leftovers
	husk_only "message"
	[[ "$output" == "husk: "*not-a-ns* ]]
}

@test "namespaces: user namespace with mappings" {
	requires userns
	update_config '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 200000, size: 65536}]'
	husk_run -- /probe status Uid -- status Gid -- read /proc/self/uid_map -- write /tmp/made-inside x
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "0 0 0 0" ]
	[ "${lines[1]}" = "0 0 0 0" ]
	[ "$(echo "${lines[2]}" | tr -s ' ' | sed 's/^ //')" = "0 100000 65536" ]
	[ "${lines[3]}" = ok ]
	# the host sees the mapped ids
	[ "$(stat -c %u:%g "$ROOTFS/tmp/made-inside")" = "100000:200000" ]
}

@test "namespaces: time namespace with offsets" {
	requires timens
	update_config '.linux.namespaces += [{type: "time"}]
		| .linux.timeOffsets = {monotonic: {secs: 7200, nanosecs: 0}, boottime: {secs: 1000000, nanosecs: 0}}'
	husk_run -- /probe read /proc/self/timens_offsets -- read /proc/uptime
	[ "$status" -eq 0 ]
	[ "$(echo "${lines[0]}" | tr -s ' ')" = "monotonic 7200 0" ]
	[ "$(echo "${lines[1]}" | tr -s ' ')" = "boottime 1000000 0" ]
	# uptime counts from the shifted boot time
	local up=${lines[2]%%.*}
	[ "$up" -ge 1000000 ]
	[ "$(cut -d. -f1 /proc/uptime)" -lt "$up" ]
}

@test "namespaces: a new user namespace with a joined host network namespace" {
	requires ip userns
	NETNS=husk-test-$ID
	ip netns add "$NETNS"
	local inode
	inode=$(stat -L -c %i "/run/netns/$NETNS")
	update_config '(.linux.namespaces[] | select(.type == "network")) |= . + {path: $p}
		| .linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]' \
		--arg p "/run/netns/$NETNS"
	husk_run -- /probe ns net -- status Uid -- ns user
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "net:[$inode]" ]
	[ "${lines[1]}" = "0 0 0 0" ]
	[ "${lines[2]}" != "$(readlink /proc/self/ns/user)" ]
}

@test "namespaces: a joined user namespace owns the new pid and mount namespaces" {
	requires userns
	# a process holding a user namespace that maps container root to host uid 300000
	unshare -U sleep 60 &
	HOLDER=$!
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(readlink "/proc/$HOLDER/ns/user")" != "$(readlink /proc/self/ns/user)" ] && break
		sleep 0.02
	done
	echo "0 300000 65536" >"/proc/$HOLDER/uid_map"
	echo "0 300000 65536" >"/proc/$HOLDER/gid_map"
	update_config '.linux.namespaces += [{type: "user", path: $p}]' --arg p "/proc/$HOLDER/ns/user"
	husk_run -- /probe pid -- ns user -- read /proc/self/uid_map -- write /tmp/made-inside x
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1 ]
	[ "${lines[1]}" = "$(readlink "/proc/$HOLDER/ns/user")" ]
	[ "$(echo "${lines[2]}" | tr -s ' ' | sed 's/^ //')" = "0 300000 65536" ]
	[ "${lines[3]}" = ok ]
	[ "$(stat -c %u:%g "$ROOTFS/tmp/made-inside")" = "300000:300000" ]
}
