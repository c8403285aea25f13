#!/usr/bin/env bats
# cgroup v2 for real: husk's resource, OOM, pids, freezer, update, device and cleanup checks, and
# `husk sandbox` --memory/--pids checks (nothing left behind), run in a QEMU VM whose only cgroup
# hierarchy is v2 (tests/vm/run-in-vm.sh boots once for the whole file;
# tests/vm/cgroupv2-tests.sh runs inside and prints TAP).  Each @test asserts one of its lines.
# Needs root, qemu-system-x86_64, a /boot/vmlinuz-*, busybox-static, cpio, xz, jq; the blockIO test
# also the kernel's brd module (a RAM disk), else it is skipped.  ~25-30 s.

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
	# a RAM disk (brd) for the blockIO check, when the VM's kernel has the module
	local kernel modargs=() blockdev=none
	kernel=${VM_KERNEL:-$(ls /boot/vmlinuz-* | sort -V | tail -n1)}
	if compgen -G "/lib/modules/${kernel##*/vmlinuz-}/kernel/drivers/block/brd.ko*" >/dev/null; then
		modargs=(--module 'brd rd_nr=1 rd_size=8192')
		blockdev=/dev/ram0
	fi
	VM_TIMEOUT=${VM_TIMEOUT:-300} bash "$BATS_TEST_DIRNAME/../vm/run-in-vm.sh" "${modargs[@]}" \
		"$HUSK" "$HUSK_PROBE" "$BUSYBOX" "$(command -v jq)" "$t" -- \
		/bin/sh "$t" "$HUSK" "$HUSK_PROBE" "$BUSYBOX" "$(command -v jq)" "$blockdev" \
		>"$BATS_FILE_TMPDIR/tap" 2>&1 || echo "status $?" >>"$BATS_FILE_TMPDIR/tap"
}

# tap_ok N: line "ok N - ..." is in the VM's TAP output (shown in full when it is not); the test is
# skipped when that line ends in "# SKIP why".
tap_ok() {
	local line
	[ -s "$BATS_FILE_TMPDIR/tap" ] || fail "the VM printed nothing"
	line=$(grep "^ok $1 - " "$BATS_FILE_TMPDIR/tap") || {
		cat "$BATS_FILE_TMPDIR/tap"
		fail "no 'ok $1' from the VM"
	}
	case $line in
	*' # SKIP '*) skip "${line##* # SKIP }" ;;
	esac
}

@test "cgroupv2: memory/cpu/pids/cpuset limits read back inside the container" { tap_ok 1; }
@test "cgroupv2: memory.max OOM-kills a memory hog inside the container only" { tap_ok 2; }
@test "cgroupv2: pids.max stops a fork loop" { tap_ok 3; }
@test "cgroupv2: pause freezes, resume thaws" { tap_ok 4; }
@test "cgroupv2: update --memory changes memory.max of a running container" { tap_ok 5; }
@test "cgroupv2: a device deny rule is enforced (EPERM)" { tap_ok 6; }
@test "cgroupv2: blockIO throttle/weight read back as io.max/io.weight, bps limits slow direct I/O" { tap_ok 7; }
@test "cgroupv2: delete leaves no cgroup directory" { tap_ok 8; }
@test "cgroupv2: sandbox --memory: memory.max in the sandbox's own cgroup namespace view" { tap_ok 9; }
@test "cgroupv2: sandbox --memory: a memory hog is OOM-killed (137), a small one survives" { tap_ok 10; }
@test "cgroupv2: sandbox --pids: a fork loop fails, the sandbox ends" { tap_ok 11; }
