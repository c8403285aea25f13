#!/usr/bin/env bats
# cgroup v2 for real: husk's resource, OOM, pids, freezer, update, device and cleanup checks run in a
# QEMU VM whose only cgroup hierarchy is v2 (tests/vm/run-in-vm.sh boots once for the whole file;
# tests/vm/cgroupv2-tests.sh runs inside and prints TAP).  Each @test asserts one of its lines.
# Needs root, qemu-system-x86_64, a /boot/vmlinuz-*, busybox-static, cpio, xz, jq.  ~20 s.

load helpers

setup_file() {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	command -v qemu-system-x86_64 >/dev/null || skip "needs qemu-system-x86_64 (qemu-system-x86)"
	compgen -G '/boot/vmlinuz-*' >/dev/null || skip "needs a kernel in /boot (linux-image-amd64)"
	local t cmd
	for cmd in cpio xz jq; do
		command -v $cmd >/dev/null || skip "needs $cmd"
	done
	[ -x "$HUSK" ] && [ -x "$HUSK_PROBE" ] || skip "build husk and tests/probe/probe first"
	t=$(cd "$BATS_TEST_DIRNAME/../vm" && pwd)/cgroupv2-tests.sh
	VM_TIMEOUT=${VM_TIMEOUT:-300} bash "$BATS_TEST_DIRNAME/../vm/run-in-vm.sh" \
		"$HUSK" "$HUSK_PROBE" "$BUSYBOX" "$(command -v jq)" "$t" -- \
		/bin/sh "$t" "$HUSK" "$HUSK_PROBE" "$BUSYBOX" "$(command -v jq)" \
		>"$BATS_FILE_TMPDIR/tap" 2>&1 || echo "status $?" >>"$BATS_FILE_TMPDIR/tap"
}

# tap_ok N: line "ok N - ..." is in the VM's TAP output (shown in full when it is not).
tap_ok() {
	[ -s "$BATS_FILE_TMPDIR/tap" ] || fail "the VM printed nothing"
	grep -q "^ok $1 - " "$BATS_FILE_TMPDIR/tap" || {
		cat "$BATS_FILE_TMPDIR/tap"
		fail "no 'ok $1' from the VM"
	}
}

@test "cgroupv2: memory/cpu/pids/cpuset limits read back inside the container" { tap_ok 1; }
@test "cgroupv2: memory.max OOM-kills a memory hog inside the container only" { tap_ok 2; }
@test "cgroupv2: pids.max stops a fork loop" { tap_ok 3; }
@test "cgroupv2: pause freezes, resume thaws" { tap_ok 4; }
@test "cgroupv2: update --memory changes memory.max of a running container" { tap_ok 5; }
@test "cgroupv2: a device deny rule is enforced (EPERM)" { tap_ok 6; }
@test "cgroupv2: delete leaves no cgroup directory" { tap_ok 7; }
