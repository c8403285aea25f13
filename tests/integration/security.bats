#!/usr/bin/env bats
# Capabilities, seccomp, no_new_privs, file descriptors, and the cwd escape through a leaked fd.

load helpers

setup() { setup_bundle; }
teardown() {
	exec 9<&-
	teardown_bundle
}

# cap_mask NUMBER...: the 16-hex-digit mask of /proc/self/status for these capability numbers.
cap_mask() {
	local m=0 n
	for n in "$@"; do
		m=$((m | (1 << n)))
	done
	printf '%016x\n' "$m"
}

@test "security: the capability sets are the configured ones" {
	# CAP_CHOWN=0 CAP_KILL=5 CAP_NET_BIND_SERVICE=10 CAP_SYS_ADMIN=21.  (For uid 0 without
	# no_new_privs, execve would raise the permitted set up to the bounding set.)
	update_config '.process.noNewPrivileges = true | .process.capabilities = {
		bounding: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SYS_ADMIN"],
		effective: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
		permitted: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
		inheritable: [], ambient: []}'
	husk_run -- /probe status CapBnd -- status CapEff -- status CapPrm -- status CapInh -- status CapAmb
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$(cap_mask 0 5 10 21)" ]
	[ "${lines[1]}" = "$(cap_mask 0 5 10)" ]
	[ "${lines[2]}" = "$(cap_mask 0 5 10)" ]
	[ "${lines[3]}" = "$(cap_mask)" ]
	[ "${lines[4]}" = "$(cap_mask)" ]
}

@test "security: no capabilities section means no capabilities" {
	update_config 'del(.process.capabilities)'
	husk_run -- /probe status CapBnd -- status CapEff -- status CapPrm
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$(cap_mask)" ]
	[ "${lines[1]}" = "$(cap_mask)" ]
	[ "${lines[2]}" = "$(cap_mask)" ]
}

@test "security: ambient capabilities survive the switch to a non-root user" {
	update_config '.process.user = {uid: 1000, gid: 1000}
		| .process.capabilities = {bounding: ["CAP_NET_BIND_SERVICE", "CAP_KILL"],
			effective: ["CAP_NET_BIND_SERVICE"], permitted: ["CAP_NET_BIND_SERVICE"],
			inheritable: ["CAP_NET_BIND_SERVICE"], ambient: ["CAP_NET_BIND_SERVICE"]}'
	husk_run -- /probe status Uid -- status CapAmb -- status CapEff -- status CapBnd
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "1000 1000 1000 1000" ]
	[ "${lines[1]}" = "$(cap_mask 10)" ]
	[ "${lines[2]}" = "$(cap_mask 10)" ]
	[ "${lines[3]}" = "$(cap_mask 5 10)" ]
}

@test "security: seccomp rules return the configured errno" {
	update_config '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", syscalls: [
		{names: ["mkdir"], action: "SCMP_ACT_ERRNO", errnoRet: 18},
		{names: ["personality"], action: "SCMP_ACT_ERRNO"}]}'
	husk_run -- /probe status Seccomp -- syscall mkdir /tmp/a -- syscall personality \
		-- syscall mkdirat /tmp/b -- syscall getpid
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 2 ]
	[ "${lines[1]}" = "error: EXDEV" ] # errnoRet 18
	[ "${lines[2]}" = "error: EPERM" ] # ERRNO without errnoRet
	[ "${lines[3]}" = ok ]             # not filtered
	[ "${lines[4]}" = ok ]
	[ -d "$ROOTFS/tmp/b" ]
	[ ! -e "$ROOTFS/tmp/a" ]
}

@test "security: seccomp for a non-root user without noNewPrivileges" {
	# The Kubernetes default shape: runAsUser, allowPrivilegeEscalation left true, a profile.  The
	# filter is loaded before the uid change clears CAP_SYS_ADMIN from the effective set.
	update_config '.process.user = {uid: 1000, gid: 1000} | .process.noNewPrivileges = false
		| .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", syscalls: [
			{names: ["mkdir"], action: "SCMP_ACT_ERRNO", errnoRet: 18}]}'
	husk_run -- /probe status Uid -- status Seccomp -- status NoNewPrivs -- syscall mkdir /tmp/a
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "1000 1000 1000 1000" ]
	[ "${lines[1]}" = 2 ]
	[ "${lines[2]}" = 0 ]
	[ "${lines[3]}" = "error: EXDEV" ]
}

@test "security: seccomp argument conditions" {
	update_config '.process.capabilities |= ((.bounding, .effective, .permitted) += ["CAP_SYS_ADMIN"])
		| .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", syscalls: [
		{names: ["unshare"], action: "SCMP_ACT_ERRNO", errnoRet: 13,
		 args: [{index: 0, value: 268435456, op: "SCMP_CMP_EQ"}]}]}'
	# 268435456 = CLONE_NEWUSER; a new uts namespace (with CAP_SYS_ADMIN) is still allowed
	husk_run -- /probe syscall unshare user -- syscall unshare uts
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "error: EACCES" ]
	[ "${lines[1]}" = ok ]
}

@test "security: no seccomp section means no filter" {
	update_config 'del(.linux.seccomp)'
	husk_run -- /probe status Seccomp
	[ "$status" -eq 0 ]
	[ "$output" = 0 ]
}

@test "security: noNewPrivileges sets NoNewPrivs" {
	update_config '.process.noNewPrivileges = true'
	husk_run -- /probe status NoNewPrivs
	[ "$status" -eq 0 ]
	[ "$output" = 1 ]
	update_config '.process.noNewPrivileges = false'
	husk_run -- /probe status NoNewPrivs
	[ "$status" -eq 0 ]
	[ "$output" = 0 ]
}

@test "security: the container gets only fds 0 1 2, even when the caller leaks some" {
	exec 9</etc/passwd
	husk_run -- /probe fds
	[ "$status" -eq 0 ]
	[ "$output" = "0 1 2" ]
}

@test "security: process.cwd through a caller-leaked fd is refused (CVE-2024-21626, T01)" {
	# control: the same container with a plain cwd runs
	husk_run -- /probe cwd
	[ "$status" -eq 0 ]
	[ "$output" = / ]
	mkdir "$TEST_DIR/hostdir"
	echo HOST-SECRET >"$TEST_DIR/hostdir/secret"
	exec 9<"$TEST_DIR/hostdir"
	update_config '.process.cwd = "/proc/self/fd/9"'
	husk_run -- /probe read secret -- cwd
	[ "$status" -ne 0 ]
	[[ "$output" != *HOST-SECRET* ]]
	assert_no_leftovers
}

@test "security: a device node shipped in the rootfs cannot be opened (deny-all device cgroup)" {
	# Nodes planted outside /dev, where husk does not manage them.  Writing /dev/kmsg's numbers needs
	# no capability, and major 240 has no driver (ENXIO when the cgroup lets the open through), so
	# EPERM here can only come from the device cgroup.  (GHSA-g54h-m393-cpwq: deny-all first.)
	mknod -m 666 "$ROOTFS/kmsg" c 1 11
	mknod -m 666 "$ROOTFS/nodrv" c 240 5
	husk_run -- /probe open /kmsg w -- open /nodrv r -- open /dev/null rw -- open /dev/zero r
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "error: EPERM" ]
	[ "${lines[1]}" = "error: EPERM" ]
	[ "${lines[2]}" = ok ]
	[ "${lines[3]}" = ok ]
}

@test "security: linux.resources.devices rules apply in order after deny-all" {
	mknod -m 666 "$ROOTFS/nodrv" c 240 5
	update_config '.linux.resources.devices = [{allow: false, access: "rwm"},
		{allow: true, type: "c", major: 240, minor: 5, access: "r"}]'
	husk_run -- /probe open /nodrv r -- open /nodrv w
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "error: ENXIO" ] # let through by the cgroup, no driver behind it
	[ "${lines[1]}" = "error: EPERM" ]
}
