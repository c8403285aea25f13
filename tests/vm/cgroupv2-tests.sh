#!/bin/sh
# cgroupv2-tests.sh [HUSK [PROBE [BUSYBOX [JQ [BLOCKDEV]]]]]: husk's cgroup v2 checks, run as root
# INSIDE a VM whose only cgroup hierarchy is v2 (tests/vm/run-in-vm.sh; never on a host: it creates
# /husk-vm/* cgroups and writes to BLOCKDEV), then `husk sandbox` --memory and --pids checks (the
# sandbox's root is the VM's own /).  Prints TAP ("1..11", then "ok N - ...", "ok N - ... #
# SKIP why" or "not ok N - ...") and exits 1 if a check failed.  Defaults: /work/main/husk,
# /work/main/tests/probe/probe, /bin/busybox (static), jq, /dev/ram0 (a scratch block device of at
# least 2 MiB whose contents are overwritten: run-in-vm.sh --module 'brd rd_nr=1 rd_size=8192';
# "none" skips the blockIO check).

HUSK=${1:-/work/main/husk}
PROBE=${2:-/work/main/tests/probe/probe}
BUSYBOX=${3:-/bin/busybox}
JQ=${4:-jq}
BLOCKDEV=${5:-/dev/ram0}
T=$(mktemp -d /tmp/husk-cg2.XXXXXX) || exit 1
ROOTFS=$T/rootfs
CG=/sys/fs/cgroup/husk-vm
failed=0

# tap N DESCRIPTION COMMAND...: "ok N - DESCRIPTION" when COMMAND succeeds, else "not ok".
tap() {
	n=$1 d=$2
	shift 2
	if "$@"; then
		echo "ok $n - $d"
	else
		echo "not ok $n - $d"
		failed=1
	fi
}

# say WHAT: a diagnostic line (TAP comment).
say() {
	printf '%s\n' "$*" | sed 's/^/# /'
}

# h ARGS...: husk with the private state dir and a time limit.
h() {
	timeout 30 "$HUSK" --root "$T/state" "$@"
}

# bundle NAME [JQ FILTER]: the bundle $T/NAME (cgroupsPath /husk-vm/NAME) with config.json from
# `husk spec`, edited by FILTER.
bundle() {
	mkdir -p "$T/$1" &&
		"$JQ" --arg root "$ROOTFS" --arg cg "/husk-vm/$1" \
			".process.terminal = false | .root = {path: \$root, readonly: false}
			| .linux.cgroupsPath = \$cg | ${2:-.}" "$T/spec.json" >"$T/$1/config.json"
}

# set_args NAME ARGS...: process.args of bundle NAME (one line each: jq would take "-c" or "--"
# after --args as its own options).
set_args() {
	b=$1
	shift
	printf '%s\n' "$@" | "$JQ" -R . | "$JQ" -s . >"$T/$b/args.json" &&
		"$JQ" --slurpfile a "$T/$b/args.json" '.process.args = $a[0]' "$T/$b/config.json" >"$T/$b/c" &&
		mv "$T/$b/c" "$T/$b/config.json"
}

# run NAME ARGS...: `husk run` the bundle NAME with process.args ARGS; $out = its output, $rc = status.
run() {
	b=$1
	shift
	set_args "$b" "$@"
	out=$(cd "$T/$b" && h run "$b" 2>&1)
	rc=$?
	say "run $b: status $rc: $out"
}

# no_cgroup NAME: the container's cgroup directory is gone.
no_cgroup() {
	[ ! -e "$CG/$1" ] || { say "left: $CG/$1"; return 1; }
}

echo "1..11"
mkdir -p "$ROOTFS/bin" "$ROOTFS/proc" "$ROOTFS/sys" "$ROOTFS/dev" "$ROOTFS/tmp" &&
	cp "$BUSYBOX" "$ROOTFS/bin/busybox" && cp "$PROBE" "$ROOTFS/probe" &&
	for a in sh cat dd echo sleep seq; do ln -s busybox "$ROOTFS/bin/$a"; done &&
	(cd "$T" && "$HUSK" spec) && mv "$T/config.json" "$T/spec.json" || {
	echo "Bail out! cannot make the bundle"
	exit 1
}

# 1. linux.resources as the container reads them back through its cgroup namespace.
bundle res '.linux.resources += {memory: {limit: 67108864, reservation: 33554432, swap: 100663296},
	cpu: {shares: 1024, quota: 50000, period: 100000, cpus: "0"}, pids: {limit: 20}}'
run res sh -c 'cd /sys/fs/cgroup && for f in memory.max memory.low memory.swap.max cpu.max cpu.weight pids.max cpuset.cpus; do echo "$f=$(cat $f)"; done'
want='memory.max=67108864
memory.low=33554432
memory.swap.max=33554432
cpu.max=50000 100000
cpu.weight=39
pids.max=20
cpuset.cpus=0'
tap 1 "memory, cpu, pids and cpuset limits read back inside the container" \
	test "$rc" = 0 -a "$out" = "$want"

# 2. A 200 MiB dd buffer in a 64 MiB cgroup: dd is OOM-killed, its shell goes on.
bundle oom '.linux.resources += {memory: {limit: 67108864, swap: 67108864}}'
run oom sh -c 'dd if=/dev/zero of=/dev/null bs=200M count=1 2>/dev/null; echo "dd=$?"; cat /sys/fs/cgroup/memory.events'
tap 2 "memory.max OOM-kills a memory hog inside the container only" \
	sh -c 'echo "$1" | grep -qx "dd=137" && echo "$1" | grep -qx "oom_kill [1-9][0-9]*"' - "$out"

# 3. pids.max 20: an inner shell starting 50 background sleeps dies of a fork error (busybox sh
# exits on "can't fork", which the outer shell, at the limit too, can only echo with builtins).
bundle pids '.linux.resources += {pids: {limit: 20}}'
run pids sh -c 'sh -c "for i in \$(seq 50); do sleep 3 & done" 2>&1; echo "inner=$?"'
tap 3 "pids.max stops a fork loop (EAGAIN)" \
	sh -c 'echo "$1" | grep -q "fork.*Resource temporarily unavailable" && ! echo "$1" | grep -qx "inner=0"' - "$out"

# 4. pause freezes a counting loop, resume thaws it.
bundle live '.linux.resources += {memory: {limit: 268435456}}'
set_args live sh -c 'i=0; while :; do i=$((i+1)); echo $i >/tmp/count; sleep 0.1; done'
(cd "$T/live" && h run --detach live </dev/null >"$T/live.out" 2>&1) || say "run --detach live: $(cat "$T/live.out")"
sleep 2
count() { cat "$ROOTFS/tmp/count" 2>/dev/null; }
pause_resume() {
	h pause live || return 1
	sleep 0.5
	a=$(count) frozen=$(grep frozen "$CG/live/cgroup.events")
	sleep 1.5
	b=$(count)
	h resume live || return 1
	sleep 1.5
	c=$(count) thawed=$(grep frozen "$CG/live/cgroup.events")
	say "paused: $a -> $b ($frozen); resumed: $c ($thawed)"
	[ -n "$a" ] && [ "$a" = "$b" ] && [ "$frozen" = "frozen 1" ] && [ "$c" != "$b" ] && [ "$thawed" = "frozen 0" ]
}
tap 4 "pause stops a counter (cgroup.freeze), resume restarts it" pause_resume

# 5. husk update --memory on the running container.
update_memory() {
	h update --memory 134217728 live || return 1
	m=$(h exec live cat /sys/fs/cgroup/memory.max)
	say "memory.max after update: $m"
	[ "$m" = 134217728 ]
}
tap 5 "update --memory changes memory.max of a running container" update_memory

# 6. Device rules on the eBPF filter, last match wins: allow c 1:11 r then deny c 1:11 w on a bind of
# /dev/kmsg (1:11, not a default device; reading it needs CAP_SYSLOG): read-only open works, write open fails with EPERM.  (A
# deny of /dev/null itself has no effect: the default devices come after the config, as in runc.)
bundle dev '.linux.resources.devices += [{allow: true, type: "c", major: 1, minor: 11, access: "r"},
	{allow: false, type: "c", major: 1, minor: 11, access: "w"}]
	| .mounts += [{destination: "/dev/kmsg", type: "bind", source: "/dev/kmsg", options: ["bind"]}]
	| .process.capabilities |= map_values(. + ["CAP_SYSLOG"])'
run dev /probe open /dev/kmsg r -- open /dev/kmsg w -- open /dev/null rw
tap 6 "device rules: deny c 1:11 w makes opening /dev/kmsg for writing fail (EPERM)" \
	test "$rc" = 0 -a "$out" = "ok
error: EPERM
ok"

# 7. blockIO on BLOCKDEV (major:minor M:N): the four throttle lists become one io.max line
# "M:N rbps=2097152 wbps=1048576 riops=2000 wiops=3000" and weight 500 io.weight "default 4950"
# (iocost: 1 + (500 - 10) * 9999 / 990) or io.bfq.weight "default 500" (BFQ), as read through the
# container's cgroup namespace.  Then the limits bite: direct I/O of 1 MiB written at 1 MiB/s and of
# 2 MiB read at 2 MiB/s must each take >= 0.7 s (blk-throttle lets the first 100 ms slice through at
# once), while the same I/O from the VM's root cgroup, unthrottled, must take < 0.35 s (else this
# machine is too slow for the timing to prove anything).  Times in centiseconds from /proc/uptime.
# The weight is set (and checked) only when the kernel has iocost or BFQ: io.weight needs one.
uptime_cs() {
	read -r u _ </proc/uptime && echo "${u%.*}${u#*.}"
}
block_io() {
	dev=$(cat "/sys/class/block/${BLOCKDEV##*/}/dev") || return 1
	maj=${dev%:*} min=${dev#*:}
	a=$(uptime_cs)
	dd if=/dev/zero of="$BLOCKDEV" bs=64k count=16 oflag=direct 2>/dev/null || return 1
	b=$(uptime_cs)
	dd if="$BLOCKDEV" of=/dev/null bs=64k count=32 iflag=direct 2>/dev/null || return 1
	c=$(uptime_cs)
	free_w=$((b - a)) free_r=$((c - b))
	weight=null want_weight=
	if [ -d /sys/module/bfq ]; then
		weight=500 want_weight="
io.bfq.weight=default 500"
	elif [ -e /sys/fs/cgroup/io.cost.qos ]; then
		weight=500 want_weight="
io.weight=default 4950"
	fi
	bundle io ".linux.devices += [{path: \"$BLOCKDEV\", type: \"b\", major: $maj, minor: $min, fileMode: 432}]
		| .linux.resources.devices += [{allow: true, type: \"b\", major: $maj, minor: $min, access: \"rw\"}]
		| .linux.resources.blockIO = ({weight: $weight} | with_entries(select(.value != null)))
		| .linux.resources.blockIO += {
			throttleReadBpsDevice: [{major: $maj, minor: $min, rate: 2097152}],
			throttleWriteBpsDevice: [{major: $maj, minor: $min, rate: 1048576}],
			throttleReadIOPSDevice: [{major: $maj, minor: $min, rate: 2000}],
			throttleWriteIOPSDevice: [{major: $maj, minor: $min, rate: 3000}]}" || return 1
	# (one line: set_args takes one argument per line)
	run io sh -c 'cd /sys/fs/cgroup && echo "io.max=$(cat io.max)"; for f in io.bfq.weight io.weight; do if [ -e $f ]; then echo "$f=$(cat $f)"; break; fi; done; t() { read -r u _ </proc/uptime && echo "${u%.*}${u#*.}"; }; a=$(t); dd if=/dev/zero of="$1" bs=64k count=16 oflag=direct 2>/dev/null || echo write-failed; b=$(t); dd if="$1" of=/dev/null bs=64k count=32 iflag=direct 2>/dev/null || echo read-failed; c=$(t); echo "write_cs=$((b - a)) read_cs=$((c - b))"' - "$BLOCKDEV"
	say "unthrottled: write_cs=$free_w read_cs=$free_r"
	[ "$rc" = 0 ] || return 1
	[ "${out%$nl*}" = "io.max=$dev rbps=2097152 wbps=1048576 riops=2000 wiops=3000$want_weight" ] || return 1
	last=${out##*$nl} w=${last#write_cs=} w=${w%% *} r=${last##*read_cs=}
	case "$w$r" in '' | *[!0-9]*) return 1 ;; esac
	[ "$w" -ge 70 ] && [ "$r" -ge 70 ] && [ "$free_w" -lt 35 ] && [ "$free_r" -lt 35 ]
}
nl='
'
if [ "$BLOCKDEV" = none ]; then
	echo "ok 7 - blockIO: io.max and io.weight read back, throttling bites # SKIP no block device"
else
	tap 7 "blockIO: io.max and io.weight read back inside the container, bps limits slow direct I/O" block_io
fi

# 8. delete removes the cgroup (and `husk run` removed those of checks 1-3, 6, 7).
delete_cleans() {
	h kill live KILL
	sleep 1
	h delete --force live || return 1
	for c in res oom pids dev io live; do no_cgroup $c || return 1; done
	[ ! -e "$CG" ] || rmdir "$CG" || { say "left in $CG: $(ls "$CG")"; return 1; }
}
tap 8 "delete leaves no cgroup directory behind" delete_cleans

# Checks 9-11: `husk sandbox` on the VM's own / (read-only), from $SBWORK (which it binds at its own
# path), with the --root $T/sbroot, each under a cgroup parent /husk-vm/P and with --name N, so its
# cgroup is /husk-vm/P/N.  Each sandbox must leave nothing behind: no cgroup, no state, no mount.
SBWORK=$T/work
mkdir -p "$SBWORK" && cat /proc/self/mountinfo >"$T/mounts.before" || {
	echo "Bail out! cannot prepare the sandbox checks"
	exit 1
}

# sb P N ARGS...: `husk sandbox --cgroup-parent /husk-vm/P --name N ARGS` (time-limited); $out = its
# output, $rc = its status.
sb() {
	sb_p=$1 sb_n=$2 sb_t0=$(uptime_cs)
	shift 2
	out=$(cd "$SBWORK" && timeout 20 "$HUSK" --root "$T/sbroot" sandbox --cgroup-parent "/husk-vm/$sb_p" \
		--name "$sb_n" "$@" </dev/null 2>&1)
	rc=$?
	say "sandbox $sb_n: status $rc after $(($(uptime_cs) - sb_t0))0 ms: $out"
}

# sb_clean P N: sandbox N left nothing: no cgroup /husk-vm/P/N (nor /husk-vm/P when husk made it,
# i.e. it is not in $premade), nothing under the sandboxes' --root, the VM's mount table as before.
premade=
sb_clean() {
	[ ! -e "$CG/$1/$2" ] || { say "cgroup left: $CG/$1/$2"; return 1; }
	case " $premade " in
	*" $1 "*) ;;
	*) [ ! -e "$CG/$1" ] || { say "cgroup parent left: $CG/$1"; return 1; } ;;
	esac
	left=$(ls -A "$T/sbroot" 2>/dev/null)
	[ -z "$left" ] || { say "state left in $T/sbroot: $left"; return 1; }
	cat /proc/self/mountinfo | cmp -s - "$T/mounts.before" ||
		{ say "mounts changed: $(cat /proc/self/mountinfo | diff "$T/mounts.before" -)"; return 1; }
}

# 9. --memory 32m: the sandbox's cgroup namespace makes its /sys/fs/cgroup the root of its own cgroup
# (a cgroup "/" that holds its pid 1), where memory.max is the limit.
sandbox_memory_max() {
	sb sb-res sb-res-1 --memory 32m -- sh -c 'cat /proc/self/cgroup /sys/fs/cgroup/memory.max
		grep -qx 1 /sys/fs/cgroup/cgroup.procs && echo "pid 1 in cgroup.procs"'
	[ "$rc" = 0 ] && [ "$out" = "0::/
33554432
pid 1 in cgroup.procs" ] && sb_clean sb-res sb-res-1
}
tap 9 "sandbox --memory 32m: memory.max 33554432 in the sandbox's own /sys/fs/cgroup (cgroup namespace)" \
	sandbox_memory_max

# 10. --memory 32m: a shell doubling a string past 32 MiB (8 bytes * 2^30) is OOM-killed: husk exits
# 137, "survived" is never printed, and the parent cgroup /husk-vm/sb-mem (made here, so it outlives
# the sandbox's own cgroup; its memory.events counts its descendants' events) shows an "oom" (the
# limit was reached: a global OOM would not count) and an "oom_kill".  The same shell stopping at
# 5 MiB survives, with no new event.
mem_events() {
	tr '\n' ' ' <"$CG/sb-mem/memory.events" | sed 's/.* oom \([0-9]*\) oom_kill \([0-9]*\) .*/\1 \2/'
}
sandbox_oom() {
	mkdir -p "$CG/sb-mem" && echo +memory >"$CG/cgroup.subtree_control" || return 1
	premade=sb-mem
	e0=$(mem_events)
	sb sb-mem sb-hog --memory 32m -- sh -c 'x=aaaaaaaa i=0; while [ $i -lt 30 ]; do x=$x$x i=$((i+1)); done; echo survived'
	e1=$(mem_events)
	[ "$rc" = 137 ] && [ "$out" = "" ] && sb_clean sb-mem sb-hog || return 1
	sb sb-mem sb-small --memory 32m -- sh -c 'x=aaaaa i=0; while [ $i -lt 20 ]; do x=$x$x i=$((i+1)); done; echo "survived ${#x}"'
	e2=$(mem_events)
	say "oom, oom_kill of /husk-vm/sb-mem: $e0 before, $e1 after the hog, $e2 after the small one"
	[ "$rc" = 0 ] && [ "$out" = "survived 5242880" ] && sb_clean sb-mem sb-small &&
		[ "$e0" = "0 0" ] && [ "$e2" = "$e1" ] && case $e1 in [1-9]*" "[1-9]*) ;; *) false ;; esac
}
tap 10 "sandbox --memory 32m: a memory hog is OOM-killed (137, oom_kill counted), a 5 MiB one survives" \
	sandbox_oom
rmdir "$CG/sb-mem" 2>/dev/null
rmdir "$CG" 2>/dev/null
premade=

# 11. --pids 20: an inner shell starting 50 background `sleep 30` gets a fork failure (dash, the VM's
# sh, says "Cannot fork" and exits 2), and the sandbox ends as soon as its command does: the sleeps
# die with its pid namespace (else the 20 s time limit ends it, 124).  The orphaned sleeps keep the
# outer shell at the limit, so it runs only builtins and exec's grep.
sandbox_pids() {
	sb sb-pids sb-pids-1 --pids 20 -- sh -c 'read m </sys/fs/cgroup/pids.max; echo "pids.max=$m"
		sh -c "i=0; while [ \$i -lt 50 ]; do sleep 30 & i=\$((i+1)); done" 2>/tmp/err; echo "inner=$?"
		exec grep -ci fork /tmp/err'
	case $out in
	"pids.max=20${nl}inner="[1-9]*"${nl}"[1-9]*) ;;
	*) return 1 ;;
	esac
	[ "$rc" = 0 ] && sb_clean sb-pids sb-pids-1
}
tap 11 "sandbox --pids 20: fork fails in a fork loop, the sandbox ends" sandbox_pids

rm -rf "$T"
exit $failed
