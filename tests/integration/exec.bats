#!/usr/bin/env bats
# husk exec (runc's command): namespaces and cgroup of the init, process attributes and overrides,
# --process, --detach/--pid-file, stopped and missing containers, fds, the cwd escape.

load helpers

setup() {
	setup_bundle
	INIT=
	NETNS=
}

teardown() {
	[ -z "$NETNS" ] || ip netns delete "$NETNS" 2>/dev/null || true
	# The container's init and every exec'd process are in the test's cgroup: teardown_bundle kills
	# them and removes the cgroups and $TEST_DIR (with the --root).
	teardown_bundle
}

# Start the container detached, running `/probe sleep 600` (or the given process); INIT is its pid.
start_container() {
	if [ $# -gt 0 ]; then
		set_args "$@"
	else
		set_args /probe sleep 600
	fi
	__husk run --detach --pid-file "$TEST_DIR/init.pid" "$ID" </dev/null >"$TEST_DIR/init.out" 2>&1 ||
		fail "husk run --detach failed: $(cat "$TEST_DIR/init.out")"
	INIT=$(cat "$TEST_DIR/init.pid")
	[[ $INIT =~ ^[0-9]+$ ]] || fail "bad pid file '$INIT'"
}

# The capability mask /proc/PID/status shows for the given capability numbers.
cap_mask() {
	local m=0 c
	for c in "$@"; do
		m=$((m | (1 << c)))
	done
	printf '%016x\n' "$m"
}

@test "exec: the process joins every namespace of the init" {
	start_container
	husk exec "$ID" /probe ns pid -- ns mnt -- ns net -- ns ipc -- ns uts -- ns cgroup -- ns user -- pid
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 8 ]
	local i=0 ns
	for ns in pid mnt net ipc uts cgroup user; do
		[ "${lines[$i]}" = "$(readlink "/proc/$INIT/ns/$ns")" ] || fail "$ns: ${lines[$i]}"
		i=$((i + 1))
	done
	# in the init's pid namespace, where the init is 1
	[ "${lines[7]}" -gt 1 ]
	[ "${lines[0]}" != "$(readlink /proc/self/ns/pid)" ]
}

@test "exec: a container with a user namespace: the process joins it first" {
	requires userns
	update_config '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
	chown -R 100000:100000 "$ROOTFS"
	start_container
	husk exec --user 1000:1000 "$ID" /probe ns user -- ns mnt -- ns net -- status Uid -- read /proc/self/uid_map
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$(readlink "/proc/$INIT/ns/user")" ]
	[ "${lines[0]}" != "$(readlink /proc/self/ns/user)" ]
	[ "${lines[1]}" = "$(readlink "/proc/$INIT/ns/mnt")" ]
	[ "${lines[2]}" = "$(readlink "/proc/$INIT/ns/net")" ]
	[ "${lines[3]}" = "1000 1000 1000 1000" ]
	[[ "${lines[4]}" == *100000* ]]
}

@test "exec: a host network namespace and a new user namespace: each is joined" {
	# The network namespace belongs to the host's user namespace: it must be joined before the
	# container's user namespace, which has no capabilities over it.
	requires ip userns
	NETNS=husk-test-$ID
	ip netns add "$NETNS"
	update_config '(.linux.namespaces[] | select(.type == "network")) |= . + {path: $p}
		| .linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]' \
		--arg p "/run/netns/$NETNS"
	chown -R 100000:100000 "$ROOTFS"
	start_container
	husk exec "$ID" /probe ns net -- ns user -- ns mnt -- status Uid
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "net:[$(stat -L -c %i "/run/netns/$NETNS")]" ]
	[ "${lines[1]}" = "$(readlink "/proc/$INIT/ns/user")" ]
	[ "${lines[2]}" = "$(readlink "/proc/$INIT/ns/mnt")" ]
	[ "${lines[3]}" = "0 0 0 0" ]
}

@test "exec: the exit status is husk's; death by a signal gives 128+signal" {
	start_container
	husk exec "$ID" /probe exit 42
	[ "$status" -eq 42 ]
	husk exec "$ID" /probe exit 0
	[ "$status" -eq 0 ]
	# not PID 1 of the namespace: the signal kills it
	husk exec "$ID" /probe kill-self 9
	[ "$status" -eq 137 ]
}

@test "exec: env, cwd and user come from the config unless overridden" {
	update_config '.process.env += ["FROM_CONFIG=yes", "OVER=config"] | .process.cwd = "/root"
		| .process.user = {uid: 0, gid: 0}'
	start_container
	husk exec "$ID" /probe env FROM_CONFIG -- env OVER -- cwd -- status Uid
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = yes ]
	[ "${lines[1]}" = config ]
	[ "${lines[2]}" = /root ]
	[ "${lines[3]}" = "0 0 0 0" ]
	husk exec --env OVER=cli --env NEW=1 --cwd /tmp --user 1000:1000 "$ID" \
		/probe env FROM_CONFIG -- env OVER -- env NEW -- cwd -- status Uid -- status Gid
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = yes ]
	[ "${lines[1]}" = cli ]
	[ "${lines[2]}" = 1 ]
	[ "${lines[3]}" = /tmp ]
	[ "${lines[4]}" = "1000 1000 1000 1000" ]
	[ "${lines[5]}" = "1000 1000 1000 1000" ]
}

@test "exec: --additional-gids adds supplementary groups" {
	start_container
	husk exec --user 1000:1000 --additional-gids 20 --additional-gids 30 "$ID" /probe status Groups
	[ "$status" -eq 0 ]
	[ "$output" = "20 30" ]
}

@test "exec: --cap adds to bounding, effective and permitted, never to inheritable (T11)" {
	update_config '.process.capabilities = {bounding: ["CAP_KILL"], effective: ["CAP_KILL"],
		permitted: ["CAP_KILL"], inheritable: [], ambient: []}'
	start_container
	husk exec "$ID" /probe status CapBnd -- status CapEff -- status CapInh
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$(cap_mask 5)" ]
	husk exec --cap CAP_SYS_PTRACE "$ID" /probe status CapBnd -- status CapEff -- status CapPrm \
		-- status CapInh -- status CapAmb
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$(cap_mask 5 19)" ]
	[ "${lines[1]}" = "$(cap_mask 5 19)" ]
	[ "${lines[2]}" = "$(cap_mask 5 19)" ]
	[ "${lines[3]}" = "$(cap_mask)" ]
	[ "${lines[4]}" = "$(cap_mask)" ]
}

@test "exec: the container's seccomp filter and --no-new-privs apply" {
	update_config '.process.noNewPrivileges = false
		| .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", syscalls: [
			{names: ["mkdir"], action: "SCMP_ACT_ERRNO", errnoRet: 18}]}'
	start_container
	husk exec "$ID" /probe status Seccomp -- status NoNewPrivs -- syscall mkdir /tmp/a
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 2 ]
	[ "${lines[1]}" = 0 ]
	[ "${lines[2]}" = "error: EXDEV" ]
	husk exec --no-new-privs --user 1000:1000 "$ID" /probe status NoNewPrivs -- syscall mkdir /tmp/b
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1 ]
	[ "${lines[1]}" = "error: EXDEV" ]
	[ ! -e "$ROOTFS/tmp/a" ] && [ ! -e "$ROOTFS/tmp/b" ]
}

@test "exec: the process gets only fds 0 1 2, even when the caller leaks some" {
	start_container
	exec 5</etc/passwd
	husk exec "$ID" /probe fds
	exec 5<&-
	[ "$status" -eq 0 ]
	[ "$output" = "0 1 2" ]
}

@test "exec: --preserve-fds passes the caller's fds 3..3+N-1" {
	start_container
	# in a subshell: bats itself uses fd 3
	(
		exec 3</etc/hostname 4</etc/hostname 5</etc/hostname
		__husk exec --preserve-fds 2 "$ID" /probe fds -- fd 3
	) </dev/null >"$TEST_DIR/out" 2>&1
	cat "$TEST_DIR/out"
	[ "$(cat "$TEST_DIR/out")" = "0 1 2 3 4
/etc/hostname" ]
}

@test "exec: --cwd through a caller-leaked fd is refused (CVE-2024-21626, T02)" {
	start_container
	ln -s /proc/self/fd/9 "$ROOTFS/tmp/l9"
	mkdir "$TEST_DIR/hostdir"
	echo HOST-SECRET >"$TEST_DIR/hostdir/secret"
	exec 9<"$TEST_DIR/hostdir"
	husk exec --cwd /tmp/l9 "$ID" /probe cwd -- read secret
	exec 9<&-
	[ "$status" -ne 0 ]
	[[ "$output" != *HOST-SECRET* ]]
	husk_only "message"
	[[ "$output" == *"outside the container's root"* ]]
}

@test "exec: --process FILE gives the whole process" {
	start_container
	cat >"$TEST_DIR/process.json" <<-'EOF'
		{"args": ["/probe", "env", "X", "--", "env", "FROM_CONFIG", "--", "cwd", "--", "status", "Uid"],
		 "env": ["X=from-file"], "cwd": "/tmp", "user": {"uid": 5, "gid": 6}}
	EOF
	husk exec --process "$TEST_DIR/process.json" "$ID"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = from-file ]
	[ "${lines[1]}" = "(unset)" ]
	[ "${lines[2]}" = /tmp ]
	[ "${lines[3]}" = "5 5 5 5" ]
}

@test "exec: a bad --process file fails with the field" {
	start_container
	echo '{"args": [], "cwd": "/"}' >"$TEST_DIR/process.json"
	husk exec --process "$TEST_DIR/process.json" "$ID"
	[ "$status" -ne 0 ]
	husk_only "message"
	[[ "$output" == *"process.args"* ]]
}

@test "exec: --detach --pid-file returns while the process runs, in the container's cgroup" {
	start_container
	__husk exec --detach --pid-file "$TEST_DIR/exec.pid" "$ID" /probe sleep 600 \
		</dev/null >"$TEST_DIR/exec.out" 2>&1
	local pid
	pid=$(cat "$TEST_DIR/exec.pid")
	# digits only, no newline
	[[ $pid =~ ^[0-9]+$ ]]
	[ "$(wc -c <"$TEST_DIR/exec.pid")" -eq "${#pid}" ]
	[ -d "/proc/$pid" ]
	[ "$(readlink "/proc/$pid/ns/pid")" = "$(readlink "/proc/$INIT/ns/pid")" ]
	[ "$(readlink "/proc/$pid/ns/mnt")" = "$(readlink "/proc/$INIT/ns/mnt")" ]
	# every hierarchy: the same cgroup as the init's
	diff <(cat "/proc/$INIT/cgroup") <(cat "/proc/$pid/cgroup")
	grep -q ":$CGROUP_PATH\$" "/proc/$pid/cgroup"
	local d found=
	for d in $(test_cgroup_dirs); do
		grep -qx "$pid" "$d/cgroup.procs" && found=1
	done
	[ -n "$found" ]
}

@test "exec: into a stopped container fails" {
	start_container
	kill -9 "$INIT"
	wait_pid_gone "$INIT"
	husk exec "$ID" /probe pid
	[ "$status" -ne 0 ]
	[[ "$output" != 1 ]]
	husk_only "message"
	[[ "$output" == *"not running"* ]]
}

@test "exec: into a container that does not exist fails" {
	husk exec no-such-container /probe pid
	[ "$status" -ne 0 ]
	husk_only "message"
	[[ "$output" == *"does not exist"* ]]
}

@test "exec: a command that is not there fails, the container keeps running" {
	start_container
	husk exec "$ID" /no/such/command
	[ "$status" -ne 0 ]
	[ -d "/proc/$INIT" ]
	husk exec "$ID" /probe exit 3
	[ "$status" -eq 3 ]
}

@test "exec: --tty --console-socket: the process gets a pty of the container" {
	local recvtty=${HUSK_RECVTTY:-$(cd "$BATS_TEST_DIRNAME/.." && pwd)/recvtty/recvtty}
	start_container
	"$recvtty" -m proxy "$TEST_DIR/console.sock" </dev/null >"$TEST_DIR/tty.out" 2>&1 &
	local recv=$! i
	for ((i = 0; i < 200; i++)); do [ -S "$TEST_DIR/console.sock" ] && break; sleep 0.01; done
	husk exec --tty --console-socket "$TEST_DIR/console.sock" "$ID" /probe isatty 0 -- isatty 1 -- ns pid
	[ "$status" -eq 0 ]
	wait "$recv"
	tr -d '\r' <"$TEST_DIR/tty.out" >"$TEST_DIR/tty.txt"
	[ "$(sed -n 1p "$TEST_DIR/tty.txt")" = yes ]
	[ "$(sed -n 2p "$TEST_DIR/tty.txt")" = yes ]
	[ "$(sed -n 3p "$TEST_DIR/tty.txt")" = "$(readlink "/proc/$INIT/ns/pid")" ]
}

@test "exec: --tty in the foreground proxies the pty; --tty --detach needs a socket" {
	command -v script >/dev/null || skip "needs script (bsdutils)"
	start_container
	run script -qec "cd '$BUNDLE' && '$HUSK' --root '$HUSK_ROOT' exec --tty '$ID' /probe isatty 0" /dev/null </dev/null
	[[ "$output" == *yes* ]]
	husk exec --tty --detach "$ID" /probe pid
	[ "$status" -ne 0 ]
	husk_only "message"
	[[ "$output" == *"needs --console-socket"* ]]
}

@test "exec: signals to husk reach the process" {
	start_container
	(cd "$BUNDLE" && exec "$HUSK" --root "$HUSK_ROOT" exec "$ID" /probe sleep 60) \
		</dev/null >"$TEST_DIR/exec.out" 2>&1 &
	local husk_pid=$! i st=0
	# wait for the process to run: a second process (besides the init) in the cgroup
	for ((i = 0; i < 200; i++)); do
		[ "$(cat "$(test_cgroup_dirs | head -n1)/cgroup.procs" | wc -l)" -ge 2 ] && break
		sleep 0.05
	done
	kill -TERM "$husk_pid"
	wait "$husk_pid" || st=$?
	cat "$TEST_DIR/exec.out"
	[ "$st" -eq 143 ]
	# the init is untouched
	[ -d "/proc/$INIT" ]
}
