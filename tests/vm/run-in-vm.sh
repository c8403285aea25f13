#!/bin/bash
# run-in-vm.sh [--module 'NAME [PARAM=VALUE...]']... [PATH...] -- COMMAND [ARG...]: run COMMAND as
# root in a throw-away QEMU (TCG) VM whose only cgroup hierarchy is cgroup v2 (the kernel boots with
# cgroup_no_v1=all), mounted at /sys/fs/cgroup with every controller enabled for the root's children.
#
# Each PATH (file or directory) is copied into the VM at the same absolute path; a named file that is
# a dynamic ELF binary brings the libraries ldd lists.  The userland is a static busybox plus the
# host's /bin/sh.  Each --module is the kernel module NAME of the VM's kernel (from /lib/modules/
# VERSION, decompressed here when it is .xz/.zst/.gz; its dependencies are not resolved: name them
# first), insmod-ed with its PARAMs (no spaces in values) before COMMAND runs; a module that fails to
# load is reported on stderr and COMMAND runs anyway (e.g. --module 'brd rd_nr=1 rd_size=8192' gives
# /dev/ram0, block device 1:0 of 8 MiB).  COMMAND's stdout and stderr come back on ours, its exit
# status becomes ours; 124: the VM timed out, 125: the VM stopped without a status (its console log
# goes to stderr); 2: bad usage, or a PATH or module not found.
#
# Environment: VM_KERNEL (default: the newest /boot/vmlinuz-*), VM_MEM (MiB, 512), VM_CPUS (2),
# VM_TIMEOUT (seconds, 300).  Needs (Debian): qemu-system-x86 linux-image-amd64 busybox-static cpio
# xz-utils (zstd for .zst modules).  Root is not needed.
set -euo pipefail

usage() {
	sed -n '2,19s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

modules=()
while [ "${1:-}" = --module ]; do
	[ $# -ge 2 ] && [ -n "$2" ] || usage
	modules+=("$2")
	shift 2
done
paths=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
	paths+=("$1")
	shift
done
[ "${1:-}" = -- ] && [ $# -ge 2 ] || usage
shift

KERNEL=${VM_KERNEL:-$(ls /boot/vmlinuz-* | sort -V | tail -n1)}
BUSYBOX=$(command -v busybox)
if ldd "$BUSYBOX" >/dev/null 2>&1; then
	echo "run-in-vm: need a static busybox (busybox-static)" >&2
	exit 2
fi
W=$(mktemp -d "${TMPDIR:-/tmp}/husk-vm.XXXXXX")
trap 'rm -rf "$W"' EXIT
S=$W/root # the initramfs tree

# put FILE: copy FILE (following a symlink) to the same absolute path under $S.
put() {
	mkdir -p "$S${1%/*}"
	cp -a -H "$1" "$S${1%/*}/"
}

# Userland: the host's merged-/usr links, busybox, the host's /bin/sh (Debian's busybox sh prefers
# its own applets to $PATH), the given paths and the libraries of the ELF files among them.
mkdir -p "$S"/{usr/bin,usr/sbin,usr/lib,usr/lib64,dev,proc,sys,run,tmp,root,etc,mnt,newroot}
chmod 1777 "$S/tmp"
for d in bin sbin lib lib64; do
	if [ -L /$d ]; then ln -s "$(readlink /$d)" "$S/$d"; else mkdir -p "$S/$d"; fi
done
cp "$BUSYBOX" "$S/bin/busybox"
echo 'root:x:0:0:root:/root:/bin/sh' >"$S/etc/passwd"
echo 'root:x:0:' >"$S/etc/group"
for p in /bin/sh "${paths[@]}"; do
	[ -e "$p" ] || { echo "run-in-vm: no such file '$p'" >&2; exit 2; }
	p=$(realpath -s "$p")
	put "$p"
	[ -f "$p" ] && deps=$(ldd "$p" 2>/dev/null) || continue # not a dynamic ELF file
	# lines "libx.so.1 => /lib/x/libx.so.1 (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)"
	for lib in $(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$deps"); do
		mkdir -p "$S${lib%/*}"
		cp -L "$lib" "$S${lib%/*}/"
	done
done

# Kernel modules: /modules/NAME.ko (uncompressed: busybox insmod may not decompress), and
# /modules/list, one line "NAME PARAM..." each, in the given order.
if [ ${#modules[@]} -gt 0 ]; then
	mkdir -p "$S/modules"
	for m in "${modules[@]}"; do
		read -r name params <<<"$m"
		ko=$(find "/lib/modules/${KERNEL##*/vmlinuz-}/kernel" -type f \( -name "$name.ko" -o \
			-name "$name.ko.xz" -o -name "$name.ko.zst" -o -name "$name.ko.gz" \) -print -quit 2>/dev/null || true)
		[ -n "$ko" ] || { echo "run-in-vm: no module '$name' for kernel ${KERNEL##*/vmlinuz-}" >&2; exit 2; }
		case $ko in
		*.xz) xz -dc "$ko" >"$S/modules/$name.ko" ;;
		*.zst) zstd -qdc "$ko" >"$S/modules/$name.ko" ;;
		*.gz) gzip -dc "$ko" >"$S/modules/$name.ko" ;;
		*) cp "$ko" "$S/modules/$name.ko" ;;
		esac
		echo "$name $params" >>"$S/modules/list"
	done
fi

# The command, quoted for sh (a'b -> 'a'\''b').
printf 'exec' >"$S/cmd"
printf " '%s'" "${@//\'/\'\\\'\'}" >>"$S/cmd"

# /init.  pivot_root(2) fails (EINVAL) on the initial rootfs, so stage 1 makes a bind mount of it
# the root; stage 2 mounts the usual filesystems and cgroup2, loads the modules, runs the command
# with stdout, stderr and the exit status on serial ports ttyS1..3, and powers off.
cat >"$S/init" <<'EOF'
#!/bin/busybox sh
if [ "$1" != stage2 ]; then
	/bin/busybox mount --bind / /newroot && cd /newroot &&
		/bin/busybox mount --move . / && exec /bin/busybox chroot . /init stage2
	exit 1
fi
/bin/busybox --install -s /bin
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev
exec </dev/null >/dev/console 2>&1
mkdir -p /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts && ln -sf pts/ptmx /dev/ptmx
ln -s /proc/self/fd /dev/fd
mount -t tmpfs -o mode=1777 shm /dev/shm
mount -t tmpfs -o mode=0755 run /run
mount -t tmpfs tmp /mnt && cp -a /tmp/. /mnt/ && mount --move /mnt /tmp
mount --make-rshared /
mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 /sys/fs/cgroup
for c in $(cat /sys/fs/cgroup/cgroup.controllers); do
	echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control
done
for t in 1 2 3; do stty -F /dev/ttyS$t -opost; done
if [ -f /modules/list ]; then
	while read -r name params; do
		insmod "/modules/$name.ko" $params 2>/dev/ttyS2 ||
			echo "run-in-vm: insmod $name${params:+ $params} failed" >/dev/ttyS2
	done </modules/list
fi
cd /
/bin/sh /cmd </dev/null >/dev/ttyS1 2>/dev/ttyS2
echo $? >/dev/ttyS3
poweroff -f
EOF
chmod 755 "$S/init"
own=()
[ "$(id -u)" = 0 ] || own=(-R 0:0)
(cd "$S" && find . -print0 | cpio --null -o -H newc "${own[@]}" --quiet) >"$W/initrd.cpio"

# Boot the uncompressed vmlinux when it can be extracted from the bzImage (cached): TCG spends ~4 s
# decompressing the kernel otherwise.
cache=${XDG_CACHE_HOME:-$HOME/.cache}/husk-vm
boot=$cache/vmlinux-${KERNEL##*/vmlinuz-}
if [ ! -s "$boot" ]; then
	boot=$KERNEL
	off=$(LC_ALL=C grep -abo $'\xfd7zXZ' "$KERNEL" | head -n1 | cut -d: -f1 || true)
	if [ -n "$off" ] && mkdir -p "$cache" 2>/dev/null; then
		tail -c +$((off + 1)) "$KERNEL" | xz -dcq >"$W/vmlinux" 2>/dev/null || true
		[ "$(head -c4 "$W/vmlinux")" != $'\x7fELF' ] || mv "$W/vmlinux" "$cache/vmlinux-${KERNEL##*/vmlinuz-}"
		[ ! -s "$cache/vmlinux-${KERNEL##*/vmlinuz-}" ] || boot=$cache/vmlinux-${KERNEL##*/vmlinuz-}
	fi
fi

rc=0
timeout -k 10 "${VM_TIMEOUT:-300}" qemu-system-x86_64 -M q35 -accel tcg -m "${VM_MEM:-512}" \
	-smp "${VM_CPUS:-2}" -nographic -nodefaults -no-reboot -kernel "$boot" -initrd "$W/initrd.cpio" \
	-append "console=ttyS0 quiet panic=-1 cgroup_no_v1=all" \
	-serial "file:$W/console" -serial "file:$W/stdout" -serial "file:$W/stderr" \
	-serial "file:$W/status" </dev/null >"$W/qemu.log" 2>&1 || rc=$?
cat "$W/stdout"
cat "$W/stderr" >&2
status=$(tr -dc 0-9 <"$W/status")
if [ -z "$status" ]; then
	echo "run-in-vm: no exit status from the VM (qemu status $rc)" >&2
	tail -n 30 "$W/console" "$W/qemu.log" >&2
	[ "$rc" = 124 ] && exit 124
	exit 125
fi
exit "$status"
