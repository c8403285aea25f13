#!/usr/bin/env bats
# Mounts: masked and readonly paths, root.readonly, tmpfs and bind mounts, and hostile rootfs symlinks.

load helpers

setup() { setup_bundle; }
teardown() { teardown_bundle; }

@test "mounts: masked paths show nothing" {
	update_config '.linux.maskedPaths = ["/proc/timer_list", "/proc/bus", "/proc/does-not-exist"]'
	husk_run -- /probe read /proc/timer_list -- stat /proc/timer_list -- read /proc/bus
	[ "$status" -eq 0 ]
	# a masked file is an empty /dev/null (1:3); a masked directory is empty
	[ "${#lines[@]}" -eq 1 ]
	[[ "${lines[0]}" == "type=chr "*" rdev=1:3 "* ]]
}

@test "mounts: without maskedPaths the same paths are readable (control)" {
	update_config '.linux.maskedPaths = []'
	husk_run -- /probe read /proc/timer_list
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "Timer List Version"* ]]
}

@test "mounts: a readonly directory cannot be written" {
	update_config '.linux.readonlyPaths = ["/proc/sys"]'
	husk_run -- /probe write /proc/sys/kernel/domainname x -- mountinfo /proc/sys
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "error: EROFS" ]
	[[ "${lines[1]}" == *" /proc/sys ro,"* ]]
}

@test "mounts: a readonly file cannot be written, its siblings can" {
	# kernel.hostname and kernel.domainname belong to the container's own uts namespace
	update_config '.linux.readonlyPaths = ["/proc/sys/kernel/domainname"]'
	# (the writes happen only in a uts namespace that is not the host's)
	husk_run -- sh -c '[ "$(/probe ns uts)" != "$1" ] || exit 99
		exec /probe write /proc/sys/kernel/domainname x -- write /proc/sys/kernel/hostname probe-host \
			-- hostname' sh "$(readlink /proc/self/ns/uts)"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "error: EROFS" ]
	[ "${lines[1]}" = ok ]
	[ "${lines[2]}" = probe-host ]
	[ "$(uname -n)" != probe-host ]
}

@test "mounts: root.readonly makes / read-only" {
	update_config '.root.readonly = true'
	husk_run -- /probe write /newfile x -- mountinfo /
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "error: EROFS" ]
	[[ "${lines[1]}" == *" / ro,"* ]]
	[ ! -e "$ROOTFS/newfile" ]
	update_config '.root.readonly = false'
	husk_run -- /probe write /newfile x
	[ "$output" = ok ]
	[ -f "$ROOTFS/newfile" ]
}

@test "mounts: a tmpfs with options on a new mount point" {
	update_config '.mounts += [{destination: "/mnt/t", type: "tmpfs", source: "tmpfs",
		options: ["nosuid", "nodev", "noexec", "mode=1770", "size=512k"]}]'
	husk_run -- /probe mountinfo /mnt/t -- stat /mnt/t -- write /mnt/t/f x
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *" /mnt/t rw,nosuid,nodev,noexec,"*" - tmpfs "* ]]
	[[ "${lines[0]}" == *"size=512k"* ]]
	[[ "${lines[0]}" == *"mode=1770"* ]]
	[[ "${lines[1]}" == "type=dir mode=1770 "* ]]
	[ "${lines[2]}" = ok ]
	# written to the tmpfs, not to the rootfs
	[ ! -e "$ROOTFS/mnt/t/f" ]
	assert_no_leftovers
}

@test "mounts: a read-only bind mount" {
	mkdir "$TEST_DIR/data"
	echo DATA >"$TEST_DIR/data/file"
	update_config '.mounts += [{destination: "/data", type: "bind", source: $src,
		options: ["rbind", "ro"]}]' --arg src "$TEST_DIR/data"
	husk_run -- /probe read /data/file -- write /data/new x -- mountinfo /data
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = DATA ]
	[ "${lines[1]}" = "error: EROFS" ]
	[[ "${lines[2]}" == *" /data ro,"* ]]
	[ ! -e "$TEST_DIR/data/new" ]
	assert_no_leftovers
}

@test "mounts: a rootfs symlink pointing out does not take a mount outside" {
	mkdir "$TEST_DIR/hostdir"
	ln -s "$TEST_DIR/hostdir" "$ROOTFS/evil"
	update_config '.mounts += [{destination: "/evil/sub", type: "tmpfs", source: "tmpfs"}]'
	husk_run -- /probe mountinfo "$TEST_DIR/hostdir/sub" -- write /evil/sub/f x
	# the link is resolved inside the rootfs: the mount is there, the host directory stays empty
	[ -z "$(ls -A "$TEST_DIR/hostdir")" ]
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *" $TEST_DIR/hostdir/sub "*" - tmpfs "* ]]
	[ "${lines[1]}" = ok ]
	[ -d "$ROOTFS/$TEST_DIR/hostdir/sub" ]
	assert_no_leftovers
}

@test "mounts: /proc as a symlink in the rootfs is refused (CVE-2019-19921)" {
	mkdir "$TEST_DIR/hostproc"
	rmdir "$ROOTFS/proc"
	ln -s "$TEST_DIR/hostproc" "$ROOTFS/proc"
	husk_run -- /probe pid
	[ "$status" -ne 0 ]
	[ -z "$(ls -A "$TEST_DIR/hostproc")" ]
	assert_no_leftovers
	husk_only "message"
	[[ "$output" == "husk: "*"/proc"* ]]
}

@test "mounts: a /dev/null symlink does not unmask a masked path (CVE-2025-31133, T05)" {
	mkdir "$TEST_DIR/devdir"
	ln -s /evil "$TEST_DIR/devdir/null"
	echo EVIL-CONTENT >"$ROOTFS/evil"
	update_config '.mounts |= map(select(.destination | startswith("/dev") | not))
		| .mounts += [{destination: "/dev", type: "bind", source: $dev, options: ["rbind", "rw"]}]
		| .linux.maskedPaths = ["/proc/timer_list"]' --arg dev "$TEST_DIR/devdir"
	husk_run -- /probe read /proc/timer_list -- stat /proc/timer_list
	# refusing to start is fine; showing /evil (or the real file) through the mask is not
	if [ "$status" -eq 0 ]; then
		[[ "$output" == "type=chr "*" rdev=1:3 "* ]]
	fi
	[[ "$output" != *EVIL-CONTENT* ]]
	[ "$(cat "$ROOTFS/evil")" = EVIL-CONTENT ]
	[ "$(readlink "$TEST_DIR/devdir/null")" = /evil ]
	assert_no_leftovers
}

@test "mounts: tmpcopyup fills the tmpfs with what the directory held; writes stay in the tmpfs" {
	mkdir -p "$ROOTFS/data/sub"
	echo hello >"$ROOTFS/data/file"
	ln -s /etc/passwd "$ROOTFS/data/link"
	chmod 0750 "$ROOTFS/data"
	update_config '.root.readonly = true
		| .mounts += [{destination: "/data", type: "tmpfs", source: "tmpfs", options: ["tmpcopyup", "nosuid"]}]'
	husk_run -- /probe read /data/file -- lstat /data/link -- stat /data/sub -- stat /data \
		-- write /data/new x -- mountinfo /data
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = hello ]
	[[ "${lines[1]}" == type=lnk* ]]
	[[ "${lines[2]}" == type=dir* ]]
	[[ "${lines[3]}" == "type=dir mode=0750"* ]]
	[ "${lines[4]}" = ok ]
	[[ "${lines[5]}" == *" - tmpfs "* ]]
	# the image's directory is untouched
	[ ! -e "$ROOTFS/data/new" ]
	assert_no_leftovers
}
