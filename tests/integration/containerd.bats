#!/usr/bin/env bats
# husk under containerd (1.6 on Debian 12): containerd-shim-runc-v2 calls the runtime's create/
# start/exec/ps/kill/pause/resume/delete with containerd's config.json (relative root.path,
# cgroupsPath /<namespace>/<id>).  A private daemon (tests/clients/containerd.toml.in) under a temp
# dir, an OCI image layout made here by hand from the busybox rootfs and imported with ctr, the
# namespace husk-test-ctr so that every container's cgroup is /husk-test-ctr/<id>.

load helpers
load clients

NS=husk-test-ctr
IMAGE=localhost/husk-busybox:latest
CLIENT_CGROUP_PARENT=$NS

# ctr_sock: the daemon's socket.
ctr_sock() {
	echo "$CLIENT_DIR/containerd.sock"
}

# oci_blob FILE: store FILE in the layout's blobs as sha256/<digest>; print the digest and size.
oci_blob() {
	local d
	d=$(sha256sum "$1" | cut -d' ' -f1)
	mv "$1" "$CLIENT_DIR/oci/blobs/sha256/$d"
	echo "sha256:$d $(stat -c %s "$CLIENT_DIR/oci/blobs/sha256/$d")"
}

# make_oci_image TAR: an OCI image layout (one gzip layer of TAR, a config with Cmd /bin/sh, a
# manifest, index.json with the ref name "latest") in $CLIENT_DIR/oci, tarred to image.tar.
make_oci_image() {
	local oci=$CLIENT_DIR/oci arch diff_id layer config manifest
	arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
	mkdir -p "$oci/blobs/sha256"
	diff_id=sha256:$(sha256sum "$1" | cut -d' ' -f1)
	gzip -n -c "$1" >"$oci/layer"
	read -r -a layer < <(oci_blob "$oci/layer")
	jq -n --arg arch "$arch" --arg diff "$diff_id" '{
		architecture: $arch, os: "linux",
		config: {Cmd: ["/bin/sh"], Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
		rootfs: {type: "layers", diff_ids: [$diff]}}' >"$oci/config"
	read -r -a config < <(oci_blob "$oci/config")
	jq -n --arg cd "${config[0]}" --argjson cs "${config[1]}" \
		--arg ld "${layer[0]}" --argjson ls "${layer[1]}" '{
		schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
		config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $cd, size: $cs},
		layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: $ld, size: $ls}]}' \
		>"$oci/manifest"
	read -r -a manifest < <(oci_blob "$oci/manifest")
	jq -n --arg md "${manifest[0]}" --argjson ms "${manifest[1]}" '{
		schemaVersion: 2,
		manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $md, size: $ms,
			annotations: {"org.opencontainers.image.ref.name": "latest"}}]}' >"$oci/index.json"
	echo '{"imageLayoutVersion":"1.0.0"}' >"$oci/oci-layout"
	tar -C "$oci" -cf "$CLIENT_DIR/image.tar" oci-layout index.json blobs
}

setup_file() {
	client_require containerd ctr containerd-shim-runc-v2 script jq || return 0
	[ -e /run/containerd ] || export CTR_MADE_RUN_DIR=1
	client_dir_new husk-containerd
	mkdir -p "$CLIENT_DIR/runtime-root"
	client_template containerd.toml.in "$CLIENT_DIR/containerd.toml"
	setsid containerd --config "$CLIENT_DIR/containerd.toml" </dev/null >"$CLIENT_DIR/containerd.log" 2>&1 3>&- &
	echo $! >"$CLIENT_DIR/containerd.pid"
	local i
	for ((i = 0; i < 100; i++)); do
		timeout 5 ctr -a "$(ctr_sock)" version >/dev/null 2>&1 && break
		sleep 0.1
	done
	timeout 5 ctr -a "$(ctr_sock)" version >/dev/null ||
		fail "containerd did not start: $(tail -n 20 "$CLIENT_DIR/containerd.log")"
	busybox_rootfs_tar "$CLIENT_DIR/busybox.tar" || fail "could not make the busybox rootfs"
	make_oci_image "$CLIENT_DIR/busybox.tar" || fail "could not make the OCI image"
	timeout 60 ctr -a "$(ctr_sock)" -n "$NS" image import --base-name localhost/husk-busybox \
		"$CLIENT_DIR/image.tar" >/dev/null || fail "ctr image import failed"
}

teardown_file() {
	[ -n "${CLIENT_DIR:-}" ] || return 0
	local c pid
	for c in $(timeout 10 ctr -a "$(ctr_sock)" -n "$NS" containers ls -q 2>/dev/null); do
		ctr_remove "$c"
	done
	pid=$(cat "$CLIENT_DIR/containerd.pid" 2>/dev/null)
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null
		for ((c = 0; c < 50; c++)); do
			[ -d "/proc/$pid" ] || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
	fi
	kill_procs_under "$CLIENT_DIR" # shims (their command line names the daemon's socket)
	client_cgroup_cleanup
	client_dir_remove
	# the shims' sockets (/run/containerd/s) and ctr's fifos (/run/containerd/fifo) are not
	# configurable in 1.6: remove the directory when this file made it
	if [ -n "${CTR_MADE_RUN_DIR:-}" ]; then
		rm -rf /run/containerd/s /run/containerd/fifo
		rmdir /run/containerd 2>/dev/null
	fi
	return 0
}

setup() {
	client_skip_if_unusable
	# the shim drives the runtime through create/start/kill/delete: nothing to test before husk has them
	require_runtime create start kill delete state
	CID=c$BATS_TEST_NUMBER
}

teardown() {
	ctr_remove "$CID"
}

# ctr_remove ID: remove container ID whatever its state: its task (killed), the container, its
# snapshot (a failed `ctr run -d` leaves the container and its snapshot behind).
ctr_remove() {
	local c=(timeout --kill-after=5 10 ctr -a "$(ctr_sock)" -n "$NS")
	"${c[@]}" task kill -a -s SIGKILL "$1" >/dev/null 2>&1 || true
	"${c[@]}" task delete -f "$1" >/dev/null 2>&1 || true
	"${c[@]}" containers delete "$1" >/dev/null 2>&1 || true
	"${c[@]}" snapshots rm "$1" >/dev/null 2>&1 || true
	return 0
}

# ct [-N] ARGS...: ctr on the private daemon and namespace, under a time limit (client).
ct() {
	local expect=()
	[[ $1 =~ ^-[0-9]+$ ]] && expect=("$1") && shift
	client "${expect[@]}" ctr -a "$(ctr_sock)" -n "$NS" "$@"
}

# ct_run [-N] [OPTIONS...] -- ARGS...: `ctr run OPTIONS IMAGE $CID ARGS` with the runtime under
# test and its --root in the temp dir.
ct_run() {
	local expect=() opts=()
	[[ $1 =~ ^-[0-9]+$ ]] && expect=("$1") && shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	[ "${1:-}" = -- ] && shift
	ct "${expect[@]}" run --runc-binary "$HUSK" --runc-root "$CLIENT_DIR/runtime-root" \
		"${opts[@]}" "$IMAGE" "$CID" "$@"
}

# The container's pid 1 as the host sees it (ctr task ls: TASK PID STATUS).
task_pid() {
	timeout 10 ctr -a "$(ctr_sock)" -n "$NS" task ls | awk -v id="$CID" '$1 == id { print $2 }'
}

# task_status: RUNNING, PAUSED, STOPPED...
task_status() {
	timeout 10 ctr -a "$(ctr_sock)" -n "$NS" task ls | awk -v id="$CID" '$1 == id { print $3 }'
}

# wait_task_status STATUS: wait up to 10 s for the task to reach STATUS.
wait_task_status() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(task_status)" = "$1" ] && return 0
		sleep 0.1
	done
	fail "task $CID is '$(task_status)', not '$1'"
}

@test "ctr run --rm: the runtime runs a process, its output comes back" {
	ct_run --rm -- echo hi
	assert_status 0
	assert_output_line hi
	[ ! -d "/sys/fs/cgroup/memory/$NS/$CID" ] || fail "cgroup /$NS/$CID left"
}

@test "ctr run: the exit code of the process is ctr's" {
	ct_run -7 --rm -- sh -c 'exit 7'
	ct_run -1 --rm -- false
}

@test "ctr run -d of a missing program fails with the runtime's message, and leaves nothing once removed" {
	ct_run -d --null-io -- /nonexistent
	[ "$status" -ne 0 ] || fail "ctr run succeeded"
	[[ ${output,,} == *"no such file or directory"* ]] || fail "no 'no such file or directory' in the message"
	ctr_remove "$CID"
	ct containers ls -q
	! printf '%s\n' "${lines[@]}" | grep -qxF "$CID" || fail "container $CID left"
	[ ! -d "/sys/fs/cgroup/memory/$NS/$CID" ] || fail "cgroup /$NS/$CID left"
	[ ! -e "$CLIENT_DIR/runtime-root/$NS/$CID" ] || fail "runtime state $CLIENT_DIR/runtime-root/$NS/$CID left"
}

@test "ctr run: environment, working dir, bind mount, read-only rootfs from containerd's config.json" {
	mkdir -p "$CLIENT_DIR/shared"
	echo from-host >"$CLIENT_DIR/shared/file"
	ct_run --rm --env FOO=bar --cwd /tmp --read-only \
		--mount "type=bind,src=$CLIENT_DIR/shared,dst=/host,options=rbind:ro" -- \
		sh -c 'touch /x 2>/dev/null && echo writable; touch /host/y 2>/dev/null && echo mount-writable
			echo "$FOO $(pwd) $(cat /host/file)"; grep :memory: /proc/self/cgroup'
	assert_status 0
	assert_output_line "bar /tmp from-host"
	[[ $output != *writable* ]] || fail "the rootfs or the read-only mount is writable"
	[[ $output == *":memory:/$NS/$CID"* ]] || fail "not in the cgroup /$NS/$CID"
}

@test "ctr run -d, task ps, task kill, delete: the container lives under /husk-test-ctr" {
	require_runtime ps
	ct_run -d --null-io -- sleep 1000
	assert_status 0
	wait_task_status RUNNING
	local pid
	pid=$(task_pid)
	[ "${pid:-0}" -gt 0 ] || fail "no pid for the task"
	assert_in_cgroup_parent "$pid"
	[ -d "/sys/fs/cgroup/memory/$NS/$CID" ] || fail "no memory cgroup /$NS/$CID"

	ct task ps "$CID"
	assert_status 0
	printf '%s\n' "${lines[@]}" | grep -qE "^$pid[[:space:]]" || fail "task ps does not list pid $pid"

	ct task kill -s SIGKILL "$CID"
	assert_status 0
	wait_task_status STOPPED
	wait_pid_gone "$pid" 10
	ct task delete "$CID"
	assert_status 0
	ct containers delete "$CID"
	assert_status 0
	[ ! -d "/sys/fs/cgroup/memory/$NS/$CID" ] || fail "cgroup /$NS/$CID left"
	[ ! -e "$CLIENT_DIR/runtime-root/$NS/$CID" ] || fail "runtime state $CLIENT_DIR/runtime-root/$NS/$CID left"
}

@test "ctr task exec: a process runs in the running container, its exit code comes back" {
	require_runtime exec
	ct_run -d --null-io -- sleep 1000
	assert_status 0
	wait_task_status RUNNING
	ct task exec --exec-id e1 "$CID" sh -c 'echo in-$$; grep :memory: /proc/self/cgroup'
	assert_status 0
	[[ ${lines[0]} == in-* ]] || fail "exec printed nothing"
	[[ $output == *":memory:/$NS/$CID"* ]] || fail "exec'd process not in the container's cgroup"
	ct -3 task exec --exec-id e2 "$CID" sh -c 'exit 3'
	ct task exec --exec-id e3 --cwd /tmp "$CID" pwd
	assert_status 0
	assert_output_line /tmp
}

@test "ctr task kill -a: every process of the container gets the signal" {
	require_runtime exec
	ct_run -d --null-io -- sleep 1000
	assert_status 0
	wait_task_status RUNNING
	ct task exec -d --exec-id e1 "$CID" sleep 1000
	assert_status 0
	local pid
	pid=$(task_pid)
	ct task kill -a -s SIGKILL "$CID"
	assert_status 0
	wait_task_status STOPPED
	[ -z "$(find "/sys/fs/cgroup/memory/$NS/$CID" -name cgroup.procs -exec cat {} + 2>/dev/null)" ] ||
		fail "processes left in the container's cgroup"
}

@test "ctr run -t: the process gets a terminal (--console-socket)" {
	client_tty "ctr -a $(ctr_sock) -n $NS run -t --rm --runc-binary $HUSK \
		--runc-root $CLIENT_DIR/runtime-root $IMAGE $CID sh -c 'tty; test -t 0 && echo stdin-is-a-tty'"
	assert_status 0
	assert_output_line /dev/pts/0
	assert_output_line stdin-is-a-tty
}

@test "ctr task exec -t: an exec'd process gets a terminal" {
	require_runtime exec
	ct_run -d --null-io -- sleep 1000
	assert_status 0
	wait_task_status RUNNING
	client_tty "ctr -a $(ctr_sock) -n $NS task exec -t --exec-id e1 $CID \
		sh -c 'tty; test -t 0 && echo exec-tty'"
	assert_status 0
	assert_output_line exec-tty
	[[ $output == *"/dev/pts/"* ]] || fail "no pts"
}

@test "ctr task pause/resume: the container is frozen, then runs again" {
	require_runtime pause resume exec
	ct_run -d --null-io -- sleep 1000
	assert_status 0
	wait_task_status RUNNING
	ct task pause "$CID"
	assert_status 0
	wait_task_status PAUSED
	if [ -f "/sys/fs/cgroup/freezer/$NS/$CID/freezer.state" ]; then
		[ "$(cat "/sys/fs/cgroup/freezer/$NS/$CID/freezer.state")" = FROZEN ] ||
			fail "freezer.state is not FROZEN"
	fi
	ct task resume "$CID"
	assert_status 0
	wait_task_status RUNNING
	ct task exec --exec-id e1 "$CID" echo alive
	assert_status 0
	assert_output_line alive
}
