#!/usr/bin/env bats
# linux.resources on this host's layout (v1 or hybrid here; the same checks on cgroup v2 run in a VM:
# cgroupv2.bats).

load helpers

setup() {
	setup_bundle
}

teardown() {
	teardown_bundle
}

@test "resources: pids.limit stops a fork loop inside the container" {
	update_config '.linux.resources.pids = {limit: 20}'
	# an inner shell starts 50 background sleeps: past the limit fork fails (EAGAIN) and busybox sh
	# gives up with status 2; the outer shell then reports with builtins only (it is at the limit too)
	set_args sh -c 'sh -c "i=0; while [ \$i -lt 50 ]; do sleep 5 & i=\$((i+1)); done" 2>/tmp/err; echo "inner=$?"; while read -r l; do case $l in *fork*) echo fork-failed; break;; esac; done </tmp/err'
	husk run "$ID"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = inner=2 ]
	[ "${lines[1]}" = fork-failed ]
	assert_no_leftovers
}

@test "resources: a memory limit and the container's own view of it" {
	update_config '.linux.resources.memory = {limit: 67108864, reservation: 33554432}'
	if [ -d /sys/fs/cgroup/memory ]; then
		set_args /probe read /sys/fs/cgroup/memory/memory.limit_in_bytes -- read /sys/fs/cgroup/memory/memory.soft_limit_in_bytes
	else
		set_args /probe read /sys/fs/cgroup/memory.max -- read /sys/fs/cgroup/memory.low
	fi
	husk run "$ID"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 67108864 ]
	[ "${lines[1]}" = 33554432 ]
	assert_no_leftovers
}

# block_device: "MAJOR:MINOR" of the whole disk holding / (blk-throttle refuses partitions), else of
# the first disk in /sys/block; nothing when the machine has no block device.
block_device() {
	local d
	d=$(mountpoint -d / 2>/dev/null)
	if [ -n "$d" ] && [ -e "/sys/dev/block/$d/dev" ]; then
		if [ -e "/sys/dev/block/$d/partition" ]; then
			cat "/sys/dev/block/$d/../dev"
		else
			echo "$d"
		fi
		return
	fi
	for d in /sys/block/*/dev; do
		[ -e "$d" ] && cat "$d" && return
	done
	return 0
}

@test "resources: blockIO throttle limits in v1 blkio, read back inside the container" {
	[ -d /sys/fs/cgroup/blkio ] || skip "no cgroup v1 blkio hierarchy (cgroup v2: cgroupv2.bats)"
	local dev
	dev=$(block_device)
	[ -n "$dev" ] || skip "no block device"
	update_config '.linux.resources.blockIO = {
		throttleReadBpsDevice: [{major: $maj, minor: $min, rate: 2097152}],
		throttleWriteBpsDevice: [{major: $maj, minor: $min, rate: 1048576}],
		throttleReadIOPSDevice: [{major: $maj, minor: $min, rate: 2000}],
		throttleWriteIOPSDevice: [{major: $maj, minor: $min, rate: 3000}]}' \
		--argjson maj "${dev%:*}" --argjson min "${dev#*:}"
	local f=/sys/fs/cgroup/blkio/blkio.throttle
	set_args /probe read $f.read_bps_device -- read $f.write_bps_device -- read $f.read_iops_device -- \
		read $f.write_iops_device
	husk run "$ID"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$dev 2097152" ]
	[ "${lines[1]}" = "$dev 1048576" ]
	[ "${lines[2]}" = "$dev 2000" ]
	[ "${lines[3]}" = "$dev 3000" ]
	assert_no_leftovers
}
