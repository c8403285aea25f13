# Shared setup for the tests that drive husk through real container engines (podman.bats,
# containerd.bats).  Each of those files does
#
#   load helpers
#   load clients
#
# and builds, in setup_file, a private engine configuration under $CLIENT_DIR (a temp dir) from the
# templates in tests/clients/, and a busybox image made here from Debian's busybox-static (no
# registry, no network).  The runtime under test is $HUSK, as in helpers.bash: HUSK=/usr/sbin/runc
# checks the tests themselves.
#
# Every client call runs under `timeout` (a hung engine or container must not hang the suite), every
# container goes into a cgroup under a project-named parent ($CLIENT_CGROUP_PARENT, never the
# caller's own cgroup), and teardown_file removes that parent in every hierarchy.

bats_require_minimum_version 1.5.0 # run -N

CLIENTS_TEMPLATES=$(cd "$BATS_TEST_DIRNAME/../clients" && pwd)
CLIENT_TIMEOUT=${CLIENT_TIMEOUT:-30} # seconds for one client command before it is killed
# applets in the image: those helpers.bash links plus what the engines' tests use
ROOTFS_APPLETS="$ROOTFS_APPLETS|tty|stty|uname|whoami|touch|nproc|cut|awk|find|dd"

# client_require CMD...: in setup_file, check that this file can run: root, every client program
# CMD installed.  If not, set CLIENT_SKIP to the reason (exported) and return 1: setup_file then
# returns, and client_skip_if_unusable skips every test (bats 1.8 has no skip in setup_file).
client_require() {
	local c
	CLIENT_SKIP=
	if [ "$(id -u)" -ne 0 ]; then
		CLIENT_SKIP="needs root"
	else
		for c in "$@"; do
			command -v "$c" >/dev/null || { CLIENT_SKIP="'$c' is not installed" && break; }
		done
	fi
	export CLIENT_SKIP
	[ -z "$CLIENT_SKIP" ] || return 1
	[ -x "$HUSK" ] || fail "no runtime at HUSK='$HUSK' (build husk first)"
}

# client_skip_if_unusable: in setup, skip the test when setup_file found that this file cannot run.
client_skip_if_unusable() {
	[ -z "${CLIENT_SKIP:-}" ] || skip "$CLIENT_SKIP"
}

# runtime_has CMD...: true when the runtime under test lists every CMD in its --help.
runtime_has() {
	local help c
	help=$("$HUSK" --help 2>&1)
	for c in "$@"; do
		grep -qE "^[[:space:]]+$c([[:space:]]|,|$)" <<<"$help" || return 1
	done
}

# require_runtime CMD...: skip the current test (or file) when the runtime lacks one of CMD.
require_runtime() {
	local c
	for c in "$@"; do
		runtime_has "$c" || skip "runtime '$HUSK' has no '$c' command yet"
	done
}

# client_dir_new PREFIX: make $CLIENT_DIR (exported for the tests), world-readable so that
# containers with other uids reach their rootfs.
client_dir_new() {
	CLIENT_DIR=$(mktemp -d "/tmp/$1.XXXXXX")
	chmod 755 "$CLIENT_DIR"
	export CLIENT_DIR
}

# client_template NAME OUT: tests/clients/NAME with @DIR@ and @HUSK@ replaced.
client_template() {
	sed -e "s|@DIR@|$CLIENT_DIR|g" -e "s|@HUSK@|$HUSK|g" "$CLIENTS_TEMPLATES/$1" >"$2"
}

# busybox_rootfs_tar OUT: a tarball of a busybox + probe root filesystem (helpers.bash make_rootfs),
# owned by root, for `podman import` or an OCI layer.
busybox_rootfs_tar() {
	local root=$CLIENT_DIR/rootfs
	make_rootfs "$root" || return 1
	echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >>"$root/etc/passwd"
	echo 'nogroup:x:65534:' >>"$root/etc/group"
	tar -C "$root" --numeric-owner --owner=0 --group=0 -cf "$1" . && rm -rf "$root"
}

# client [-N] CMD ARGS...: like bats `run [-N] CMD ARGS` under `timeout`, stdin from /dev/null; sets
# $status, $output and $lines (empty lines kept) and prints them so a failing test shows what
# happened.  -N (e.g. -127): the status expected, checked after the output is printed.
client() {
	local expect=
	[[ $1 =~ ^-[0-9]+$ ]] && expect=$1 && shift
	# with -N bats takes 127 as expected, not as "command not found"; its own check is ignored
	run $expect timeout --kill-after=5 "$CLIENT_TIMEOUT" "$@" </dev/null || true
	mapfile -t lines <<<"$output"
	echo "$* -> status $status"
	[ -z "$output" ] || printf '%s\n' "$output" | sed 's/^/  | /'
	[ -z "$expect" ] || assert_status "${expect#-}"
}

# client_tty 'COMMAND LINE': run a shell command line with a terminal as its stdin/stdout (under
# `script`), with a time limit; $output has the carriage returns removed.  script's own stdin is a
# FIFO held open for reading and writing by this shell, so it never reaches EOF: at EOF on its stdin
# script sends ^D to the terminal, and Podman may then end the session before the container's
# output arrives.
client_tty() {
	local fifo=$CLIENT_DIR/tty-stdin fd
	rm -f "$fifo"
	mkfifo "$fifo"
	exec {fd}<>"$fifo"
	run timeout --kill-after=5 "$CLIENT_TIMEOUT" script -qec "$1" /dev/null <&$fd
	exec {fd}>&-
	rm -f "$fifo"
	output=${output//$'\r'/}
	mapfile -t lines <<<"$output"
	echo "[tty] $1 -> status $status"
	[ -z "$output" ] || printf '%s\n' "$output" | sed 's/^/  | /'
}

# assert_output_line TEXT: some line of $output is exactly TEXT.
assert_output_line() {
	printf '%s\n' "${lines[@]}" | grep -qxF -- "$1" || fail "no line '$1' in the output"
}

# assert_status N: $status is N.
assert_status() {
	[ "$status" -eq "$1" ] || fail "status $status, expected $1"
}

# assert_in_cgroup_parent PID: process PID is in a cgroup under /$CLIENT_CGROUP_PARENT/ in every
# v1 hierarchy the host mounts (and in the v2 one), i.e. not in the caller's own cgroup.
assert_in_cgroup_parent() {
	local line path
	[ -r "/proc/$1/cgroup" ] || fail "no process $1"
	while IFS= read -r line; do
		path=${line#*:*:}
		case $line in
		*:name=systemd:*) continue ;; # not a resource controller: engines leave it alone
		0::*) [ "$path" = / ] && continue ;; # this host's cgroup2 has no controller in use
		esac
		case $path in
		/"$CLIENT_CGROUP_PARENT"/?*) ;;
		*) fail "process $1 is in cgroup '$line', not under /$CLIENT_CGROUP_PARENT/" ;;
		esac
	done <"/proc/$1/cgroup"
}

# client_cgroup_dirs: the parent cgroup directory in every hierarchy where it exists.
client_cgroup_dirs() {
	local d
	for d in /sys/fs/cgroup/*/"$CLIENT_CGROUP_PARENT" "/sys/fs/cgroup/$CLIENT_CGROUP_PARENT"; do
		[ -d "$d" ] && echo "$d"
	done
	return 0
}

# client_cgroup_cleanup: kill -9 every process under the parent cgroup (they can only be this
# file's containers and monitors), then remove the parent and everything below it in every
# hierarchy.
client_cgroup_cleanup() {
	local d pid i found
	for ((i = 0; i < 50; i++)); do
		found=0
		for d in $(client_cgroup_dirs); do
			for pid in $(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null); do
				found=1
				kill -9 "$pid" 2>/dev/null
			done
		done
		[ $found -eq 0 ] && break
		sleep 0.05
	done
	for d in $(client_cgroup_dirs); do
		for ((i = 0; i < 40; i++)); do
			find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
			[ -d "$d" ] || break
			sleep 0.05
		done
		[ -d "$d" ] && echo "# clients.bash: could not remove cgroup '$d'" >&3
	done
	return 0
}

# kill_procs_under DIR: kill -9 the processes whose command line mentions DIR (monitors and shims
# this file started through its engine: conmon, containerd-shim), except this shell.
kill_procs_under() {
	local p pid
	for p in /proc/[0-9]*; do
		pid=${p#/proc/}
		[ "$pid" = $$ ] || [ "$pid" = "$BASHPID" ] && continue
		tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF -- "$1" && kill -9 "$pid" 2>/dev/null
	done
	return 0
}

# umount_under DIR: lazily unmount every host mount under DIR, deepest first.
umount_under() {
	local mnt
	for mnt in $(awk -v d="$1/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
		umount -l "$mnt" 2>/dev/null
	done
	return 0
}

# client_dir_remove: unmount, then remove $CLIENT_DIR.
client_dir_remove() {
	[ -n "${CLIENT_DIR:-}" ] && [ -d "$CLIENT_DIR" ] || return 0
	umount_under "$CLIENT_DIR"
	rm -rf "$CLIENT_DIR"
}
