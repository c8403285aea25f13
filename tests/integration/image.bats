#!/usr/bin/env bats
# husk image: unpacking OCI images (layout dirs, OCI archives, docker-archives) into bundles over a
# shared layer store, running them, the tree they give compared with umoci's, ls/rm/gc.
#
# The images are built once per run of this file by tests/image/mkimage.py (see its docstring for
# what each layer holds); every test has its own store, bundle and container root.

load helpers
load ../image/helpers

setup_file() {
	[ "$(id -u)" -eq 0 ] || return 0
	IMG=$BATS_FILE_TMPDIR/img
	mkdir -p "$IMG"
	local m="$PYTHON $MKIMAGE --busybox $BUSYBOX --probe $HUSK_PROBE"
	$m busybox "$IMG/bb" >"$IMG/bb.json"
	$m busybox --compression zstd "$IMG/bbz" >"$IMG/bbz.json"
	$m busybox --compression none "$IMG/bbn" >"$IMG/bbn.json"
	$m shared "$IMG/shared" >"$IMG/shared.json"
	$m two "$IMG/two" >"$IMG/two.json"
	$m multi "$IMG/multi" >"$IMG/multi.json"
	$m flat "$IMG/flat" >"$IMG/flat.json"
	$m oci-archive "$IMG/bb" "$IMG/bb-oci.tar"
	$m docker-archive "$IMG/bb" busybox "$IMG/bb-docker.tar" busybox:latest
	# the same archives written by skopeo, where it works (offline: oci: -> *-archive:)
	if command -v skopeo >/dev/null &&
		skopeo copy -q "oci:$IMG/bb:busybox" "docker-archive:$IMG/bb-skopeo-docker.tar:busybox:latest" &&
		skopeo copy -q "oci:$IMG/bb:busybox" "oci-archive:$IMG/bb-skopeo-oci.tar:busybox"; then
		touch "$IMG/skopeo-ok"
	fi
}

setup() {
	setup_image_test
	IMG=$BATS_FILE_TMPDIR/img
	[ -f "$IMG/bb.json" ] || fail "images not built (setup_file)"
}

teardown() {
	local id
	# containers a failed test left (this test's own ids only)
	for id in "$ID" "$ID-a" "$ID-b"; do
		[ -d "$HUSK_ROOT/$id" ] && "$HUSK" --root "$HUSK_ROOT" delete -f "$id" >/dev/null 2>&1
	done
	teardown_bundle
}

# as_root: the container's process runs as root in / with the capabilities to read any file (the
# image's User is app, its WorkingDir /home/app/work is 0750 app's, husk spec's root has no
# CAP_DAC_OVERRIDE).
as_root() {
	update_config '.process.user = {uid: 0, gid: 0} | .process.cwd = "/"
		| .process.capabilities |= map_values(. + ["CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH"] | unique)'
}

# husk_detached ARGS...: `husk ARGS` (create, or run --detach) with stdio to files, since the
# container keeps them open; sets $status and $output (the files' contents).
husk_detached() {
	status=0
	__husk "$@" </dev/null >"$TEST_DIR/detached.out" 2>&1 || status=$?
	output=$(cat "$TEST_DIR/detached.out")
	echo "husk $* -> status $status"
	[ -z "$output" ] || printf '%s\n' "$output" | sed 's/^/  | /'
}

# ---- unpack: the bundle ------------------------------------------------------------------------

@test "image unpack: a layout gives config.json, an empty rootfs and husk-rootfs.json" {
	unpack "$IMG/bb:busybox" "$BUNDLE"
	[ -f "$BUNDLE/config.json" ]
	[ -d "$BUNDLE/rootfs" ]
	[ -z "$(ls -A "$BUNDLE/rootfs")" ]
	# husk-rootfs.json: the store, the manifest, the ChainIDs base first
	[ "$(jq -r .store "$BUNDLE/husk-rootfs.json")" = "$(realpath "$STORE")" ]
	[ "$(jq -r .image "$BUNDLE/husk-rootfs.json")" = "$(facts "$IMG/bb.json" .manifest)" ]
	[ "$(bundle_layers)" = "$(fact_chains "$IMG/bb.json")" ]
	# each layer once in the store, committed; store and bundle private
	[ "$(layer_count)" -eq 3 ]
	local c
	for c in $(fact_chains "$IMG/bb.json"); do
		[ -d "$STORE/layers/$c/fs" ]
		[ -f "$STORE/layers/$c/layer.json" ]
	done
	[ "$(stat -c %a "$STORE")" = 700 ]
	[ "$(stat -c %a "$BUNDLE")" = 700 ]
	assert_store_clean
	assert_no_store_mounts
}

@test "image unpack: config.json carries the image's Entrypoint+Cmd, Env, WorkingDir, User, Labels" {
	unpack "$IMG/bb:busybox" "$BUNDLE"
	local c=$BUNDLE/config.json
	[ "$(jq -c .process.args "$c")" = '["/bin/echo","ep","cmd1","cmd 2"]' ]
	jq -e '.process.env | index("FOO=bar baz") != null' "$c"
	jq -e '.process.env | index("EMPTY=") != null' "$c"
	jq -e '.process.env | index("PATH=/usr/sbin:/usr/bin:/sbin:/bin") != null' "$c"
	[ "$(jq -r .process.cwd "$c")" = /home/app/work ]
	# User "app" from the image's /etc/passwd (1000:1000); group "extra" (2000) lists app
	[ "$(jq -r .process.user.uid "$c")" = 1000 ]
	[ "$(jq -r .process.user.gid "$c")" = 1000 ]
	[ "$(jq -c '.process.user.additionalGids' "$c")" = '[2000]' ]
	# labels and image facts as annotations (conversion.md)
	[ "$(jq -r '.annotations["org.example.label"]' "$c")" = hello ]
	[ "$(jq -r '.annotations | has("org.example.empty")' "$c")" = true ]
	[ "$(jq -r '.annotations["org.example.empty"]' "$c")" = "" ]
	[ "$(jq -r '.annotations["org.opencontainers.image.architecture"]' "$c")" = amd64 ]
	[ "$(jq -r '.annotations["org.opencontainers.image.os"]' "$c")" = linux ]
	[ "$(jq -r '.annotations["org.opencontainers.image.created"]' "$c")" = 2023-11-14T22:13:20Z ]
	[ "$(jq -r '.annotations["org.opencontainers.image.stopSignal"]' "$c")" = SIGINT ]
	# husk spec's defaults: a new mount namespace, no user namespace
	jq -e '.linux.namespaces | map(.type) | index("mount") != null' "$c"
	jq -e '.linux.namespaces | map(.type) | index("user") == null' "$c"
}

@test "image unpack: --rootfs-only writes no config.json" {
	unpack "$IMG/bb:busybox" "$BUNDLE" --rootfs-only
	[ ! -e "$BUNDLE/config.json" ]
	[ -f "$BUNDLE/husk-rootfs.json" ]
	[ "$(bundle_layers)" = "$(fact_chains "$IMG/bb.json")" ]
}

@test "image unpack: progress on a terminal, silent otherwise and with --quiet" {
	command -v script >/dev/null || skip "needs script (util-linux)"
	# not a terminal: nothing on stdout or stderr
	"$HUSK" image unpack --store "$STORE" "$IMG/bb:busybox" "$BUNDLE" >"$TEST_DIR/out" 2>&1
	[ ! -s "$TEST_DIR/out" ]
	rm -rf "$BUNDLE" "$STORE"
	# a terminal: one line per layer, redrawn in place, ending at 100%
	script -qec "'$HUSK' image unpack --store '$STORE' '$IMG/bb:busybox' '$BUNDLE'" /dev/null >"$TEST_DIR/tty"
	grep -q 'layer 1/3 sha256:[0-9a-f]\{12\}  100.0%' "$TEST_DIR/tty"
	grep -q 'layer 3/3 sha256:[0-9a-f]\{12\}  100.0%' "$TEST_DIR/tty"
	# warm: each layer reported as already in the store
	rm -rf "$BUNDLE"
	script -qec "'$HUSK' image unpack --store '$STORE' '$IMG/bb:busybox' '$BUNDLE'" /dev/null >"$TEST_DIR/tty"
	[ "$(grep -c 'already in the store' "$TEST_DIR/tty")" -eq 3 ]
	# --quiet on a terminal: nothing
	rm -rf "$BUNDLE"
	script -qec "'$HUSK' image unpack --quiet --store '$STORE' '$IMG/bb:busybox' '$BUNDLE'" /dev/null >"$TEST_DIR/tty"
	[ ! -s "$TEST_DIR/tty" ]
}

@test "image unpack: an existing empty bundle dir is fine, a non-empty one is refused and left alone" {
	mkdir "$BUNDLE"
	unpack "$IMG/bb:busybox" "$BUNDLE"
	mkdir "$TEST_DIR/full"
	echo keep >"$TEST_DIR/full/file"
	himg unpack "$IMG/bb:busybox" "$TEST_DIR/full"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$TEST_DIR/full"* ]]
	[ "$(ls -A "$TEST_DIR/full")" = file ]
	[ "$(cat "$TEST_DIR/full/file")" = keep ]
	assert_store_clean
}

@test "image unpack: references: a missing or ambiguous one is an error that leaves nothing" {
	# two images in one layout: a REF is needed
	himg unpack "$IMG/two" "$BUNDLE"
	[ "$status" -eq 1 ]
	# the names found are listed
	[[ "$output" == *"'busybox'"* ]]
	[[ "$output" == *"'shared'"* ]]
	[ ! -e "$BUNDLE" ]
	himg unpack "$IMG/two:nope" "$BUNDLE"
	[ "$status" -eq 1 ]
	[[ "$output" == *"'nope'"* ]]
	[ ! -e "$BUNDLE" ]
	himg unpack "$TEST_DIR/no-such-layout" "$BUNDLE"
	[ "$status" -eq 1 ]
	[ ! -e "$BUNDLE" ]
	assert_store_clean
	# and each ref picks its image
	unpack "$IMG/two:shared" "$BUNDLE"
	[ "$(jq -r .image "$BUNDLE/husk-rootfs.json")" = "$(jq -r .shared.manifest "$IMG/two.json")" ]
	# a lone image needs no ref
	unpack "$IMG/bb" "$TEST_DIR/b2"
	[ "$(jq -r .image "$TEST_DIR/b2/husk-rootfs.json")" = "$(facts "$IMG/bb.json" .manifest)" ]
}

# ---- run ---------------------------------------------------------------------------------------

@test "image run: the process is the image's Entrypoint+Cmd" {
	unpack "$IMG/bb:busybox" "$BUNDLE"
	husk run "$ID"
	[ "$status" -eq 0 ]
	[ "$output" = "ep cmd1 cmd 2" ]
	assert_no_leftovers
	assert_store_clean
}

@test "image run: Env, cwd, and uid/gid/groups from the image's /etc/passwd and /etc/group" {
	unpack "$IMG/bb:busybox" "$BUNDLE"
	husk_run -- /probe env FOO -- env EMPTY -- env PATH -- cwd -- status Uid -- status Gid -- status Groups
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "bar baz" ]
	[ "${lines[1]}" = "" ]
	[ "${lines[2]}" = /usr/sbin:/usr/bin:/sbin:/bin ]
	[ "${lines[3]}" = /home/app/work ]
	[ "${lines[4]}" = "1000 1000 1000 1000" ]
	[ "${lines[5]}" = "1000 1000 1000 1000" ]
	[ "${lines[6]}" = 2000 ]
	# and the labels reach the runtime as annotations (`husk state` of a created container)
	husk_detached create "$ID"
	[ "$status" -eq 0 ]
	husk state "$ID"
	[ "$(jq -r '.annotations["org.example.label"]' <<<"$output")" = hello ]
	husk delete -f "$ID"
	assert_no_leftovers
	assert_store_clean
}

@test "image run: deleted file and directory are absent, the opaque dir shows only upper entries" {
	unpack "$IMG/bb:busybox" "$BUNDLE"
	as_root
	husk_run -- /probe lstat /etc/delete-me -- lstat /var/olddir -- read /opq -- read /replace-me \
		-- lstat /dir-to-file -- read /etc/hostname-img
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "error: ENOENT" ]
	[ "${lines[1]}" = "error: ENOENT" ]
	[ "${lines[2]}" = layer3 ] # opq/lower1 and opq/lowersub are hidden
	[ "${lines[3]}" = new ]
	[ "${lines[4]}" = inside ]
	[[ "${lines[5]}" == "type=reg "* ]]
	[ "${lines[6]}" = layer3 ]
	[ "${#lines[@]}" -eq 7 ]
	husk_run -- /probe read /var
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
}

@test "image run: hard links share an inode, parent attributes and merged /usr are kept" {
	unpack "$IMG/bb:busybox" "$BUNDLE"
	as_root
	husk_run -- sh -c 'stat -c "%i" /data/h1 /data/h2 /etc/motd /etc/motd.link /bin/busybox /bin/ls
		stat -c "%h" /data/h1; test -e /data/h3 && echo h3-present || echo h3-absent
		stat -c "%a %u %g" /usr/share/keep; cat /usr/share/keep/f /usr/share/keep/old
		readlink /lib; cat /usr/lib/foo /lib/foo; stat -c "%a %u %g" /home/app
		stat -c "%a" /etc/suid /etc/sgid; stat -c "%F %t:%T" /devs/null /devs/sda; stat -c %F /devs/fifo'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "${lines[1]}" ] # data/h1 and data/h2
	[ "${lines[2]}" = "${lines[3]}" ] # etc/motd and the layer-2 link to it
	[ "${lines[4]}" = "${lines[5]}" ] # busybox applet links
	[ "${lines[0]}" != "${lines[2]}" ]
	# h3 was whited out by layer 3 (overlayfs still counts it in st_nlink: the lower inode's count)
	[ "${lines[6]}" = 3 ]
	[ "${lines[7]}" = h3-absent ]
	[ "${lines[8]}" = "700 1234 1234" ] # `pt`: layer 2 added keep/f without keep/
	[ "${lines[9]}" = "parent entries omitted" ]
	[ "${lines[10]}" = old ]
	[ "${lines[11]}" = usr/lib ] # `pt2`: lib/foo went through the link
	[ "${lines[12]}" = "through the lib symlink" ]
	[ "${lines[13]}" = "through the lib symlink" ]
	[ "${lines[14]}" = "750 1000 1000" ] # layer 3 changed the directory's mode
	[ "${lines[15]}" = 4755 ]
	[ "${lines[16]}" = 2750 ]
	[ "${lines[17]}" = "character special file 1:3" ]
	[ "${lines[18]}" = "block special file 8:0" ]
	[ "${lines[19]}" = fifo ]
}

@test "image run: writes go to a private upper dir: layers unchanged, nothing left after delete" {
	unpack "$IMG/bb:busybox" "$BUNDLE"
	as_root
	local before
	before=$(cd "$STORE/layers" && find . -printf '%p %y %m %U %G %s %i\n' | sort | sha256sum)
	set_args sh -c 'echo changed >/etc/motd && echo new >/newfile && rm /etc/passwd && rm -r /opq && cat /etc/motd'
	husk_detached create "$ID"
	[ "$status" -eq 0 ]
	# the container's upper/work dirs exist, its overlay is not visible on the host
	[ -n "$(ls -A "$STORE/containers")" ]
	assert_no_store_mounts
	husk start "$ID"
	[ "$status" -eq 0 ]
	local i
	for ((i = 0; i < 100; i++)); do
		husk state "$ID"
		[ "$(jq -r .status <<<"$output")" = stopped ] && break
		sleep 0.1
	done
	husk delete "$ID"
	[ "$status" -eq 0 ]
	assert_no_leftovers
	assert_no_store_mounts
	assert_store_clean # containers/ is empty again
	[ "$(cd "$STORE/layers" && find . -printf '%p %y %m %U %G %s %i\n' | sort | sha256sum)" = "$before" ]
	# a new container sees the image as it was
	husk_run -- sh -c 'cat /etc/motd; test -e /newfile && echo newfile || echo no-newfile; test -e /etc/passwd && echo passwd; ls /opq'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "motd from layer 1" ]
	[ "${lines[1]}" = no-newfile ]
	[ "${lines[2]}" = passwd ]
	[ "${lines[3]}" = layer3 ]
	[ "${lines[4]}" = new ]
	assert_store_clean
}

@test "image run: two containers from one bundle do not see each other's writes" {
	unpack "$IMG/bb:busybox" "$BUNDLE"
	as_root
	set_args sleep 60
	update_config '.linux.cgroupsPath = $cg' --arg cg "$CGROUP_PATH/a"
	husk_detached run --detach "$ID-a"
	[ "$status" -eq 0 ]
	update_config '.linux.cgroupsPath = $cg' --arg cg "$CGROUP_PATH/b"
	husk_detached run --detach "$ID-b"
	[ "$status" -eq 0 ]
	[ "$(ls "$STORE/containers" | wc -l)" -eq 2 ]
	husk exec "$ID-a" sh -c 'echo from-a >/etc/motd; echo a >/only-a'
	[ "$status" -eq 0 ]
	husk exec "$ID-b" sh -c 'cat /etc/motd; test -e /only-a && echo sees-a || echo private'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "motd from layer 1" ]
	[ "${lines[1]}" = private ]
	husk exec "$ID-a" cat /etc/motd /only-a
	[ "${lines[0]}" = from-a ]
	[ "${lines[1]}" = a ]
	assert_no_store_mounts
	husk delete -f "$ID-a"
	[ "$status" -eq 0 ]
	husk delete -f "$ID-b"
	[ "$status" -eq 0 ]
	# nothing left but the parent cgroup $CGROUP_PATH this test chose (teardown removes it)
	[ -z "$(ls -A "$HUSK_ROOT")" ]
	[ -z "$(find /sys/fs/cgroup/*/"$CGROUP_PARENT/$ID" /sys/fs/cgroup/"$CGROUP_PARENT/$ID" -mindepth 1 -type d 2>/dev/null)" ]
	assert_no_store_mounts
	assert_store_clean
}

# ---- the store: sharing, concurrency, ls/rm/gc -------------------------------------------------

@test "image store: a layer shared by two images is extracted once" {
	unpack "$IMG/bb:busybox" "$BUNDLE"
	local base inodes
	base=$(fact_chains "$IMG/bb.json" | head -n1)
	[ "$(fact_chains "$IMG/shared.json" | head -n1)" = "$base" ]
	inodes=$(stat -c '%n %i %Y' "$STORE"/layers/*/fs "$STORE"/layers/*/layer.json)
	unpack "$IMG/shared:shared" "$TEST_DIR/b2"
	[ "$(layer_count)" -eq 4 ]
	[ "$(bundle_layers "$TEST_DIR/b2" | head -n1)" = "$base" ]
	# the first image's layers were not touched (same inodes and mtimes)
	[ "$(for c in $(fact_chains "$IMG/bb.json"); do stat -c '%n %i %Y' "$STORE/layers/$c/fs" "$STORE/layers/$c/layer.json"; done | sort)" = "$(sort <<<"$inodes")" ]
	# a second unpack of the same image extracts nothing: fast, no new inode
	local t0 t1
	t0=$(date +%s%N)
	unpack "$IMG/bb:busybox" "$TEST_DIR/b3"
	t1=$(date +%s%N)
	echo "warm unpack: $(((t1 - t0) / 1000000)) ms"
	[ "$(layer_count)" -eq 4 ]
	[ "$(for c in $(fact_chains "$IMG/bb.json"); do stat -c '%n %i %Y' "$STORE/layers/$c/fs" "$STORE/layers/$c/layer.json"; done | sort)" = "$(sort <<<"$inodes")" ]
	[ $(((t1 - t0) / 1000000)) -lt 2000 ]
	assert_store_clean
}

@test "image store: two concurrent unpacks of one image both succeed and extract each layer once" {
	local i pids=()
	for i in 1 2 3; do
		timeout 120 "$HUSK" image unpack --store "$STORE" "$IMG/bb:busybox" "$TEST_DIR/b$i" \
			>"$TEST_DIR/out$i" 2>&1 &
		pids+=($!)
	done
	for i in 0 1 2; do
		wait "${pids[$i]}" || {
			cat "$TEST_DIR"/out*
			fail "unpack $((i + 1)) failed"
		}
	done
	[ "$(layer_count)" -eq 3 ]
	for i in 1 2 3; do
		[ "$(bundle_layers "$TEST_DIR/b$i")" = "$(fact_chains "$IMG/bb.json")" ]
	done
	assert_store_clean
}

@test "image store: ls lists images and layers" {
	unpack "$IMG/bb:busybox" "$BUNDLE"
	unpack "$IMG/shared:shared" "$TEST_DIR/b2"
	himg ls --format json
	[ "$status" -eq 0 ]
	[ "$(jq length <<<"$output")" -eq 2 ]
	[ "$(jq -r --arg d "$(facts "$IMG/bb.json" .manifest)" '.[] | select(.digest == $d) | .ref' <<<"$output")" = busybox ]
	[ "$(jq -r --arg d "$(facts "$IMG/shared.json" .manifest)" '.[] | select(.digest == $d) | .ref' <<<"$output")" = shared ]
	[ "$(jq -r --arg d "$(facts "$IMG/bb.json" .manifest)" '.[] | select(.digest == $d) | .layers | length' <<<"$output")" -eq 3 ]
	himg ls --layers --format json
	[ "$status" -eq 0 ]
	[ "$(jq length <<<"$output")" -eq 4 ]
	[ "$(jq -r '.[].chain_id | ltrimstr("sha256:")' <<<"$output" | sort)" = "$( (fact_chains "$IMG/bb.json"; fact_chains "$IMG/shared.json") | sort -u)" ]
	himg ls
	[ "$status" -eq 0 ]
	[[ "$output" == *busybox* ]]
	[[ "$output" == *shared* ]]
}

@test "image store: gc removes layers once no bundle uses them; rm removes an image" {
	unpack "$IMG/bb:busybox" "$BUNDLE"
	unpack "$IMG/shared:shared" "$TEST_DIR/b2"
	[ "$(layer_count)" -eq 4 ]
	# nothing to collect while both bundles exist
	himg gc
	[ "$status" -eq 0 ]
	[ "$(layer_count)" -eq 4 ]
	# rm of an image whose bundle still exists keeps the layers the bundle needs
	himg rm busybox
	[ "$status" -eq 0 ]
	himg ls --format json
	[ "$(jq length <<<"$output")" -eq 1 ]
	[ "$(layer_count)" -eq 4 ]
	# the bundle goes: its own two layers go with gc, the shared base stays
	rm -rf "$BUNDLE"
	himg gc
	[ "$status" -eq 0 ]
	[ -n "$output" ] # each removal is printed
	[ "$(layer_count)" -eq 2 ]
	local c
	for c in $(fact_chains "$IMG/shared.json"); do
		[ -d "$STORE/layers/$c" ]
	done
	# the second bundle still runs
	BUNDLE=$TEST_DIR/b2 husk_run -- cat /shared
	[ "$status" -eq 0 ]
	[ "$output" = "second image" ]
	# rm by digest prefix, then the bundle goes: the store is empty
	himg rm "$(facts "$IMG/shared.json" .manifest | cut -c8-20)"
	[ "$status" -eq 0 ]
	rm -rf "$TEST_DIR/b2"
	himg gc
	[ "$status" -eq 0 ]
	[ "$(layer_count)" -eq 0 ]
	himg ls --format json
	[ "$(jq length <<<"$output")" -eq 0 ]
	# a stale temp dir of a crashed unpack goes too
	mkdir -p "$STORE/tmp/$(printf '%064d' 0)/fs"
	himg gc
	[ "$status" -eq 0 ]
	[ -z "$(ls -A "$STORE/tmp")" ]
	assert_store_clean
}

@test "image store: rm of an unknown image is an error" {
	unpack "$IMG/bb:busybox" "$BUNDLE"
	himg rm nope
	[ "$status" -eq 1 ]
	[[ "$output" == *nope* ]]
	himg rm sha256:0123
	[ "$status" -eq 1 ]
	[ "$(layer_count)" -eq 3 ]
}

# ---- the tree, compared with umoci -------------------------------------------------------------

# compare_with_umoci LAYOUT REF: the bundle's merged tree (husk image mount) equals
# `umoci raw unpack` of LAYOUT:REF (modes, owners, xattrs, hard links, devices, symlinks, content).
compare_with_umoci() {
	command -v umoci >/dev/null || fail "umoci is needed (apt-get install umoci)"
	umoci raw unpack --image "$1:$2" "$TEST_DIR/umoci-rootfs" >"$TEST_DIR/umoci.log" 2>&1 ||
		{ cat "$TEST_DIR/umoci.log"; fail "umoci raw unpack failed"; }
	mount_image
	local cmp=0
	"$PYTHON" "$TREECMP" "$MNT" "$TEST_DIR/umoci-rootfs" >"$TEST_DIR/treecmp.out" || cmp=$?
	cat "$TEST_DIR/treecmp.out"
	umount_image
	[ "$cmp" -eq 0 ] || fail "the trees differ"
	grep -q '^identical: ' "$TEST_DIR/treecmp.out"
}

@test "image tree: gzip layers give umoci raw unpack's tree" {
	unpack "$IMG/bb:busybox" "$BUNDLE"
	compare_with_umoci "$IMG/bb" busybox
	assert_no_store_mounts
}

@test "image tree: uncompressed layers give umoci raw unpack's tree" {
	unpack "$IMG/bbn:busybox" "$BUNDLE"
	[ "$(bundle_layers)" = "$(fact_chains "$IMG/bbn.json")" ]
	compare_with_umoci "$IMG/bbn" busybox
}

@test "image tree: zstd layers give the same tree (umoci 0.4.7 has no zstd: compared with gzip's)" {
	unpack "$IMG/bbz:busybox" "$BUNDLE"
	# same diff_ids, so the same ChainIDs as the gzip image
	[ "$(bundle_layers)" = "$(fact_chains "$IMG/bb.json")" ]
	compare_with_umoci "$IMG/bb" busybox
}

@test "image tree: the merged tree has the escaped xattr, devices and no overlay artefacts" {
	unpack "$IMG/bb:busybox" "$BUNDLE"
	mount_image
	[ "$(xattr_of "$MNT/etc/xattr-file" user.husk.test)" = hello ]
	[ "$(describe "$MNT/devs/null")" = "chr 0666 0:0 1:3" ]
	[ "$(describe "$MNT/devs/sda")" = "blk 0660 0:6 8:0" ]
	[ "$(describe "$MNT/etc/delete-me")" = absent ]
	[ "$(describe "$MNT/var/olddir")" = absent ]
	assert_all_statable "$MNT"
	# read-only
	run touch "$MNT/x"
	[ "$status" -ne 0 ]
	umount_image
	# the base layer has no whiteout; layer 2 has whiteouts for what it deletes and an opaque opq/
	local l2
	l2=$STORE/layers/$(bundle_layers | sed -n 2p)/fs
	[[ "$(describe "$l2/etc/delete-me")" == "chr "*" 0:0" ]] # a whiteout: char device 0:0
	[ "$(xattr_of "$l2/opq" trusted.overlay.opaque)" = y ]
}

# ---- platforms ---------------------------------------------------------------------------------

@test "image platform: the host's by default, --platform picks another, unknown/unknown is skipped" {
	unpack "$IMG/multi:multi" "$BUNDLE"
	[ "$(jq -r .image "$BUNDLE/husk-rootfs.json")" = "$(jq -r '.["linux/amd64"].manifest' "$IMG/multi.json")" ]
	jq -e '.process.env | index("PLATFORM=linux/amd64") != null' "$BUNDLE/config.json"
	mount_image
	[ "$(cat "$MNT/arch")" = linux/amd64 ]
	umount_image

	unpack "$IMG/multi:multi" "$TEST_DIR/arm64" --platform linux/arm64
	[ "$(jq -r .image "$TEST_DIR/arm64/husk-rootfs.json")" = "$(jq -r '.["linux/arm64/v8"].manifest' "$IMG/multi.json")" ]
	[ "$(jq -r '.annotations["org.opencontainers.image.architecture"]' "$TEST_DIR/arm64/config.json")" = arm64 ]
	mount_image "$TEST_DIR/arm64"
	[ "$(cat "$MNT/arch")" = linux/arm64/v8 ]
	umount_image

	unpack "$IMG/multi:multi" "$TEST_DIR/arm64v8" --platform linux/arm64/v8
	[ "$(jq -r .image "$TEST_DIR/arm64v8/husk-rootfs.json")" = "$(jq -r '.["linux/arm64/v8"].manifest' "$IMG/multi.json")" ]
	unpack "$IMG/multi:multi" "$TEST_DIR/armv7" --platform linux/arm/v7
	[ "$(jq -r .image "$TEST_DIR/armv7/husk-rootfs.json")" = "$(jq -r '.["linux/arm/v7"].manifest' "$IMG/multi.json")" ]
	# the base layer is shared by all three
	[ "$(layer_count)" -eq 4 ]

	himg unpack --platform linux/arm/v6 "$IMG/multi:multi" "$TEST_DIR/armv6"
	[ "$status" -eq 1 ]
	[[ "$output" == *linux/arm/v6* ]]
	[ ! -e "$TEST_DIR/armv6" ]
	himg unpack --platform linux/s390x "$IMG/multi:multi" "$TEST_DIR/s390x"
	[ "$status" -eq 1 ]
	[ ! -e "$TEST_DIR/s390x" ]
	himg unpack --platform linux "$IMG/multi:multi" "$TEST_DIR/bad"
	[ "$status" -eq 1 ]
	assert_store_clean
}

@test "image platform: index.json listing the platforms under one ref name" {
	unpack "$IMG/flat:flat" "$BUNDLE"
	[ "$(jq -r .image "$BUNDLE/husk-rootfs.json")" = "$(jq -r '.["linux/amd64"].manifest' "$IMG/flat.json")" ]
	unpack "$IMG/flat:flat" "$TEST_DIR/arm64" --platform linux/arm64
	[ "$(jq -r .image "$TEST_DIR/arm64/husk-rootfs.json")" = "$(jq -r '.["linux/arm64/v8"].manifest' "$IMG/flat.json")" ]
	# no ref: the names are all "flat", so this is one image for several platforms
	unpack "$IMG/flat" "$TEST_DIR/noref" --platform linux/arm/v7
	[ "$(jq -r .image "$TEST_DIR/noref/husk-rootfs.json")" = "$(jq -r '.["linux/arm/v7"].manifest' "$IMG/flat.json")" ]
	himg unpack --platform linux/riscv64 "$IMG/flat:flat" "$TEST_DIR/riscv"
	[ "$status" -eq 1 ]
	[ ! -e "$TEST_DIR/riscv" ]
	assert_store_clean
}

@test "image platform: the selected image runs" {
	unpack "$IMG/multi:multi" "$BUNDLE" --platform linux/arm64
	husk_run -- cat /arch
	[ "$status" -eq 0 ]
	[ "$output" = linux/arm64/v8 ]
}

# ---- archives ----------------------------------------------------------------------------------

@test "image archive: an OCI archive (tar of a layout), with and without a ref" {
	unpack "$IMG/bb-oci.tar" "$BUNDLE"
	[ "$(bundle_layers)" = "$(fact_chains "$IMG/bb.json")" ]
	[ "$(jq -r .image "$BUNDLE/husk-rootfs.json")" = "$(facts "$IMG/bb.json" .manifest)" ]
	unpack "$IMG/bb-oci.tar:busybox" "$TEST_DIR/b2"
	[ "$(jq -r .image "$TEST_DIR/b2/husk-rootfs.json")" = "$(facts "$IMG/bb.json" .manifest)" ]
	compare_with_umoci "$IMG/bb" busybox
	# the staged copy of the archive is gone
	assert_store_clean
	[ -z "$(ls -A "$STORE/tmp")" ]
}

@test "image archive: a docker-archive (docker save layout written by Python), by RepoTag" {
	unpack "$IMG/bb-docker.tar:busybox:latest" "$BUNDLE"
	[ "$(bundle_layers)" = "$(fact_chains "$IMG/bb.json")" ]
	[ "$(jq -c .process.args "$BUNDLE/config.json")" = '["/bin/echo","ep","cmd1","cmd 2"]' ]
	[ "$(jq -r .process.user.uid "$BUNDLE/config.json")" = 1000 ]
	husk run "$ID"
	[ "$status" -eq 0 ]
	[ "$output" = "ep cmd1 cmd 2" ]
	# lone image: no ref needed; a wrong tag is an error
	unpack "$IMG/bb-docker.tar" "$TEST_DIR/b2"
	himg unpack "$IMG/bb-docker.tar:busybox:nope" "$TEST_DIR/b3"
	[ "$status" -eq 1 ]
	[ ! -e "$TEST_DIR/b3" ]
	compare_with_umoci "$IMG/bb" busybox
	assert_store_clean
}

@test "image archive: skopeo's docker-archive and oci-archive" {
	[ -f "$IMG/skopeo-ok" ] || skip "skopeo could not write the archives"
	unpack "$IMG/bb-skopeo-docker.tar:docker.io/library/busybox:latest" "$BUNDLE"
	[ "$(bundle_layers)" = "$(fact_chains "$IMG/bb.json")" ]
	husk run "$ID"
	[ "$status" -eq 0 ]
	[ "$output" = "ep cmd1 cmd 2" ]
	unpack "$IMG/bb-skopeo-docker.tar" "$TEST_DIR/b2"
	unpack "$IMG/bb-skopeo-oci.tar:busybox" "$TEST_DIR/b3"
	[ "$(bundle_layers "$TEST_DIR/b3")" = "$(fact_chains "$IMG/bb.json")" ]
	BUNDLE=$TEST_DIR/b3 compare_with_umoci "$IMG/bb" busybox
	assert_store_clean
}
