#!/usr/bin/env bats
# husk under Podman (4.3 on Debian 12): Podman and conmon call the runtime's create/start/exec/kill/
# pause/resume/delete with their own config.json.  Private configuration (tests/clients/
# containers.conf.in, storage.conf.in, registries.conf) under a temp dir, a busybox image imported
# from a local tarball, containers under the cgroup parent /husk-test-podman.

load helpers
load clients

IMAGE=localhost/husk-busybox
CLIENT_CGROUP_PARENT=husk-test-podman

setup_file() {
	client_require podman conmon script || return 0
	[ -e /var/lib/containers ] || export PODMAN_MADE_VARLIB=1
	client_dir_new husk-podman
	mkdir -p "$CLIENT_DIR"/{tmp,cni,libpod-tmp}
	client_template containers.conf.in "$CLIENT_DIR/containers.conf"
	client_template storage.conf.in "$CLIENT_DIR/storage.conf"
	export CONTAINERS_CONF=$CLIENT_DIR/containers.conf
	export CONTAINERS_STORAGE_CONF=$CLIENT_DIR/storage.conf
	export CONTAINERS_REGISTRIES_CONF=$CLIENTS_TEMPLATES/registries.conf
	export TMPDIR=$CLIENT_DIR/tmp
	busybox_rootfs_tar "$CLIENT_DIR/busybox.tar" || fail "could not make the busybox rootfs"
	timeout 60 podman import --change CMD=/bin/sh "$CLIENT_DIR/busybox.tar" "$IMAGE" >/dev/null ||
		fail "podman import failed"
}

teardown_file() {
	[ -n "${CLIENT_DIR:-}" ] || return 0
	timeout --kill-after=5 30 podman --runtime husk rm --all --force --time 0 >/dev/null 2>&1
	kill_procs_under "$CLIENT_DIR" # conmon of containers podman could not remove
	client_cgroup_cleanup
	client_dir_remove
	# containers/image keeps a blob-info cache at this fixed path when running as root
	if [ -n "${PODMAN_MADE_VARLIB:-}" ]; then
		rm -f /var/lib/containers/cache/blob-info-cache-v1.boltdb
		rmdir /var/lib/containers/cache /var/lib/containers 2>/dev/null
	fi
	return 0
}

setup() {
	client_skip_if_unusable
	# Podman drives the runtime through create/start/kill/delete: nothing to test before husk has them
	require_runtime create start kill delete state
}

teardown() {
	# containers a failed test left running (the name is unique to the test)
	timeout --kill-after=5 30 podman --runtime husk rm --force --time 0 "t$BATS_TEST_NUMBER" >/dev/null 2>&1
	return 0
}

# As root, Podman 4.3 passes no --root to the runtime: husk keeps its state in its default /run/husk
# (a --runtime-flag root=DIR would not reach the `delete` that conmon's exit command makes).

# pm [-N] ARGS...: podman under a time limit (client); -N: the status expected.
pm() {
	local expect=()
	[[ $1 =~ ^-[0-9]+$ ]] && expect=("$1") && shift
	client "${expect[@]}" podman --runtime husk "$@"
}

# pm_run [-N] OPTIONS... IMAGE ARGS...: `podman run` in the test cgroup parent, named after the test.
pm_run() {
	local expect=()
	[[ $1 =~ ^-[0-9]+$ ]] && expect=("$1") && shift
	pm "${expect[@]}" run --cgroup-parent "/$CLIENT_CGROUP_PARENT" --name "t$BATS_TEST_NUMBER" "$@"
}

# The container's pid 1 as the host sees it.
ctr_pid() {
	timeout 10 podman inspect --format '{{.State.Pid}}' "t$BATS_TEST_NUMBER"
}

@test "podman run --rm: the runtime runs a process, its output comes back" {
	pm_run --rm "$IMAGE" echo hi
	assert_status 0
	assert_output_line hi
}

@test "podman run: the exit code of the process is podman's" {
	pm_run --rm "$IMAGE" sh -c 'exit 7'
	assert_status 7
	pm_run --rm "$IMAGE" false
	assert_status 1
}

@test "podman run: a missing or non-executable program gives 127 or 126 (from the runtime's message)" {
	# Podman reads the runtime's error (--log FILE, JSON): "no such file or directory" means 127,
	# "permission denied" 126
	pm_run -127 --rm "$IMAGE" /nonexistent
	[[ ${output,,} == *"no such file or directory"* ]] || fail "no 'no such file or directory' in the message"
	pm_run -126 --rm "$IMAGE" /etc/passwd
	[[ ${output,,} == *"permission denied"* ]] || fail "no 'permission denied' in the message"
	local left
	left=$(find "/sys/fs/cgroup/memory/$CLIENT_CGROUP_PARENT" -maxdepth 1 -name 'libpod-*' 2>/dev/null)
	[ -z "$left" ] || fail "cgroups left after the failed starts: $left"
}

@test "podman run: environment, working dir, user and hostname from podman's config.json" {
	pm_run --rm -e FOO=bar -w /tmp --user 65534:65534 --hostname husky "$IMAGE" \
		sh -c 'echo "$FOO $(pwd) $(id -u):$(id -g) $(hostname)"'
	assert_status 0
	assert_output_line "bar /tmp 65534:65534 husky"
}

@test "podman run --read-only: the rootfs is read-only, podman's tmpfs mounts (tmpcopyup) writable" {
	pm_run --rm --read-only "$IMAGE" sh -c 'touch /x 2>/dev/null && echo rootfs-writable; touch /tmp/x && echo tmp-ok'
	assert_status 0
	[[ $output != *rootfs-writable* ]] || fail "the rootfs is writable"
	assert_output_line tmp-ok
}

@test "podman run --memory: the limit is set in the container's cgroup under /husk-test-podman" {
	pm_run --rm --memory 64m "$IMAGE" sh -c 'grep :memory: /proc/self/cgroup'
	assert_status 0
	[[ $output == *":memory:/$CLIENT_CGROUP_PARENT/libpod-"* ]] || fail "not in /$CLIENT_CGROUP_PARENT"
	# --rm: that cgroup is gone by now; check the limit while a container runs
	pm_run -d --memory 64m "$IMAGE" sleep 1000
	assert_status 0
	local id=${lines[-1]}
	[ "$(cat "/sys/fs/cgroup/memory/$CLIENT_CGROUP_PARENT/libpod-$id/memory.limit_in_bytes")" = 67108864 ] ||
		fail "memory.limit_in_bytes is not 64 MiB"
	pm rm -f -t 0 "t$BATS_TEST_NUMBER"
	assert_status 0
}

@test "podman run -d, ps, stop -t 0, rm: the container and conmon live under /husk-test-podman" {
	pm_run -d "$IMAGE" sleep 1000
	assert_status 0
	local id=${lines[-1]} pid
	pid=$(ctr_pid)
	[ "$pid" -gt 0 ] || fail "no pid for the container"
	assert_in_cgroup_parent "$pid"
	# with the cgroupfs manager, conmon goes to <cgroup parent>/conmon
	assert_in_cgroup_parent "$(timeout 10 podman inspect --format '{{.State.ConmonPid}}' "t$BATS_TEST_NUMBER")"
	[ -d "/sys/fs/cgroup/memory/$CLIENT_CGROUP_PARENT/libpod-$id" ] || fail "no memory cgroup libpod-$id"

	pm ps --format '{{.Names}} {{.Status}}'
	[[ $output == *"t$BATS_TEST_NUMBER Up"* ]] || fail "podman ps does not show the container running"

	pm stop -t 0 "t$BATS_TEST_NUMBER"
	assert_status 0
	wait_pid_gone "$pid" 10
	pm inspect --format '{{.State.Status}} {{.State.ExitCode}}' "t$BATS_TEST_NUMBER"
	assert_output_line "exited 137"
	pm rm "t$BATS_TEST_NUMBER"
	assert_status 0
	[ ! -d "/sys/fs/cgroup/memory/$CLIENT_CGROUP_PARENT/libpod-$id" ] || fail "cgroup libpod-$id left"
}

@test "podman exec: a process runs in the running container, its exit code comes back" {
	require_runtime exec
	pm_run -d "$IMAGE" sleep 1000
	assert_status 0
	pm exec "t$BATS_TEST_NUMBER" sh -c 'echo in-$(hostname); grep :memory: /proc/self/cgroup'
	assert_status 0
	[[ ${lines[0]} == "in-"* ]] || fail "exec printed nothing"
	[[ $output == *":memory:/$CLIENT_CGROUP_PARENT/libpod-"* ]] || fail "exec'd process not in the container's cgroup"
	pm exec -127 "t$BATS_TEST_NUMBER" /nonexistent
	pm exec -e FOO=bar -w /tmp --user 65534 "t$BATS_TEST_NUMBER" sh -c 'echo "$FOO $(pwd) $(id -u)"'
	assert_status 0
	assert_output_line "bar /tmp 65534"
	pm exec -3 "t$BATS_TEST_NUMBER" sh -c 'exit 3'
	pm rm -f -t 0 "t$BATS_TEST_NUMBER"
	assert_status 0
}

@test "podman run -d + logs + stop (SIGTERM handled by the container)" {
	pm_run -d "$IMAGE" sh -c 'trap "echo got-term; exit 0" TERM; echo started; while :; do sleep 0.1; done'
	assert_status 0
	for ((i = 0; i < 50; i++)); do
		timeout 10 podman logs "t$BATS_TEST_NUMBER" 2>/dev/null | grep -q started && break
		sleep 0.1
	done
	pm stop -t 10 "t$BATS_TEST_NUMBER"
	assert_status 0
	pm logs "t$BATS_TEST_NUMBER"
	assert_output_line started
	assert_output_line got-term
	pm inspect --format '{{.State.ExitCode}}' "t$BATS_TEST_NUMBER"
	assert_output_line 0
}

@test "podman run -it: the process gets a terminal (--console-socket)" {
	client_tty "podman --runtime husk run --rm -it --cgroup-parent /$CLIENT_CGROUP_PARENT \
		--name t$BATS_TEST_NUMBER $IMAGE sh -c 'tty; stty size; test -t 0 && echo stdin-is-a-tty'"
	assert_status 0
	assert_output_line /dev/pts/0
	assert_output_line stdin-is-a-tty
}

@test "podman exec -it: an exec'd process gets a terminal" {
	require_runtime exec
	pm_run -d "$IMAGE" sleep 1000
	assert_status 0
	client_tty "podman --runtime husk exec -it t$BATS_TEST_NUMBER sh -c 'tty; test -t 0 && echo exec-tty'"
	assert_status 0
	assert_output_line exec-tty
	[[ $output == *"/dev/pts/"* ]] || fail "no pts"
	pm rm -f -t 0 "t$BATS_TEST_NUMBER"
	assert_status 0
}

@test "podman pause/unpause: the container is frozen, then runs again" {
	require_runtime pause resume exec
	pm_run -d "$IMAGE" sleep 1000
	assert_status 0
	local id=${lines[-1]}
	pm pause "t$BATS_TEST_NUMBER"
	assert_status 0
	pm inspect --format '{{.State.Status}}' "t$BATS_TEST_NUMBER"
	assert_output_line paused
	if [ -f "/sys/fs/cgroup/freezer/$CLIENT_CGROUP_PARENT/libpod-$id/freezer.state" ]; then
		[ "$(cat "/sys/fs/cgroup/freezer/$CLIENT_CGROUP_PARENT/libpod-$id/freezer.state")" = FROZEN ] ||
			fail "freezer.state is not FROZEN"
	fi
	pm unpause "t$BATS_TEST_NUMBER"
	assert_status 0
	pm exec "t$BATS_TEST_NUMBER" echo alive
	assert_status 0
	assert_output_line alive
	pm rm -f -t 0 "t$BATS_TEST_NUMBER"
	assert_status 0
}

@test "podman kill -s: the signal reaches the container's process" {
	pm_run -d "$IMAGE" sh -c 'trap "exit 42" USR1; while :; do sleep 0.1; done'
	assert_status 0
	sleep 0.3 # let the shell install its trap
	pm kill -s USR1 "t$BATS_TEST_NUMBER"
	assert_status 0
	pm wait "t$BATS_TEST_NUMBER"
	assert_output_line 42
	pm rm "t$BATS_TEST_NUMBER"
	assert_status 0
}
