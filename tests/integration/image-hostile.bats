#!/usr/bin/env bats
# husk image unpack against hostile images: every case of the IMAGES.md test list that an image can
# express (T01-T21, T23, T27, T29-T38; tests/image/hostile.py builds one layout per case).
#
# Each image aims at a real victim directory of the host ($VICTIM, with a canary file): names, link
# and symlink targets point at it, so an unpacker that followed them on the host would change it.
# Every test checks husk's exact outcome (refused with an error naming the blob or entry, or
# unpacked with the hostile part contained inside the image's root), that the victim is unchanged
# (content, modes, owners, link counts, mtimes), that no bundle, temp layer or mount is left after a
# failure, and that the layer that failed is not in the store.

load helpers
load ../image/helpers

setup() {
	setup_image_test
	VICTIM=$TEST_DIR/victim
	VR=${VICTIM#/} # the victim's path inside an image's root
	mkdir -p "$VICTIM/sub"
	echo canary >"$VICTIM/canary"
	echo inner >"$VICTIM/sub/file"
	echo 'app:x:4242:4242::/:/bin/sh' >"$VICTIM/passwd"
	chmod 644 "$VICTIM/canary" "$VICTIM/passwd"
	VICTIM_BEFORE=$(snapshot_victim)
}

teardown() {
	[ -n "${TEST_DIR:-}" ] && [ -d "$HUSK_ROOT/$ID" ] && "$HUSK" --root "$HUSK_ROOT" delete -f "$ID" >/dev/null 2>&1
	teardown_bundle
}

# Everything about the victim dir that an escape could change.
snapshot_victim() {
	(cd "$VICTIM" && find . -printf '%p %y %m %U %G %s %n %T@ %l\n' | sort && find . -type f -exec sha256sum {} + | sort)
}

assert_victim_intact() {
	local now
	now=$(snapshot_victim)
	if [ "$now" != "$VICTIM_BEFORE" ]; then
		diff <(echo "$VICTIM_BEFORE") <(echo "$now")
		fail "the victim directory $VICTIM changed"
	fi
}

# hostile CASE [REF]: build the case's layout (against $VICTIM) and `husk image unpack` it into
# $BUNDLE.  $FACTS is the case's facts JSON.
hostile() {
	FACTS=$TEST_DIR/facts.json
	mkimage hostile "$1" "$TEST_DIR/img" --victim "$VICTIM" >"$FACTS"
	himg unpack "$TEST_DIR/img:${2:-hostile}" "$BUNDLE"
	UNPACK_OUTPUT=$output
}

# The hex digests (blob, diff_id, ChainID) of layer $1 of the case (0 = base).
layer_hexes() {
	jq -r --argjson i "$1" '.layers[$i], .diff_ids[$i], .chain_ids[$i] | ltrimstr("sha256:")' "$FACTS"
}

# The error names layer $1 (its blob digest, diff_id or ChainID).
names_layer() {
	local h
	for h in $(layer_hexes "$1"); do
		[[ "$output" == *"$h"* ]] && return 0
	done
	fail "the error does not name layer $1 ($(layer_hexes "$1" | head -n1))"
}

# refused [PATTERN...]: unpack failed with status 1, the message holds each PATTERN, and nothing
# is left: no bundle, no temp layer, no mount, victim intact.
refused() {
	[ "$status" -eq 1 ] || fail "expected the unpack to fail (status 1), got $status"
	local p
	for p in "$@"; do
		[[ "$output" == *"$p"* ]] || fail "the error does not mention '$p'"
	done
	[ ! -e "$BUNDLE" ] || fail "a bundle was left: $BUNDLE"
	assert_store_clean
	assert_no_store_mounts
	assert_victim_intact
}

# Layer $1 of the case did not enter the store.
not_in_store() {
	local c
	c=$(jq -r --argjson i "$1" '.chain_ids[$i] | ltrimstr("sha256:")' "$FACTS")
	[ ! -e "$STORE/layers/$c" ] || fail "layer $1 ($c) is in the store"
}

# contained: unpack succeeded, the victim is intact, the store is clean; the merged tree is mounted
# on $MNT for the case's own checks.
contained() {
	[ "$status" -eq 0 ] || fail "expected the unpack to succeed, got $status"
	assert_victim_intact
	assert_store_clean
	mount_image
	assert_all_statable "$MNT"
}

# The merged tree's file $1 holds $2 (a line).
content_is() {
	[ -f "$MNT/$1" ] && [ ! -L "$MNT/$1" ] || fail "$1 is not a regular file in the image: $(describe "$MNT/$1")"
	[ "$(cat "$MNT/$1")" = "$2" ] || fail "$1 holds '$(cat "$MNT/$1")', not '$2'"
}

# ---- T01-T04: names --------------------------------------------------------------------------

@test "hostile T01a: ../ names are clamped at the image's root" {
	hostile T01a-dotdot
	contained
	content_is "$VR/canary" pwned
	content_is "$VR/new" pwned
}

@test "hostile T01b: ../ in the middle of a name is clamped at the image's root" {
	hostile T01b-dotdot-inner
	contained
	content_is "$VR/new" pwned
}

@test "hostile T02: absolute names land under the image's root" {
	hostile T02-absolute
	contained
	content_is "$VR/new" abs
	content_is "$VR/canary" abs
}

@test "hostile T03a: '.' as a symlink is refused (CVE-2021-29136)" {
	hostile T03a-dot-symlink
	refused "entry '.'" "root directory"
	names_layer 1
	not_in_store 1
}

@test "hostile T03b: './' as a symlink at the end of a layer is refused" {
	hostile T03b-dot-symlink-next-layer
	refused "entry './'" "root directory"
	names_layer 0
	not_in_store 0
}

@test "hostile T03c: '.' as a regular file is refused" {
	hostile T03c-root-file
	refused "entry '.'" "root directory"
	names_layer 1
	not_in_store 1
}

@test "hostile T03d: '/' as a regular file with data is refused (an unreadable tar)" {
	hostile T03d-root-slash-file
	refused
	names_layer 1
	not_in_store 1
}

@test "hostile T04a: a PAX path climbing out is clamped" {
	hostile T04a-pax-path-dotdot
	contained
	content_is "$VR/new" pwned
}

@test "hostile T04b: a GNU long name climbing out is clamped" {
	hostile T04b-gnu-longlink-dotdot
	contained
	content_is "$VR/new" pwned
}

@test "hostile T04c: an empty name is refused" {
	hostile T04c-empty-name
	refused "entry ''" "root directory"
	names_layer 1
	not_in_store 1
}

@test "hostile T04d: a name longer than PATH_MAX is refused" {
	hostile T04d-name-too-long
	refused "longer than 4096"
	names_layer 1
	not_in_store 1
}

@test "hostile T04e: a name deeper than 256 levels is refused" {
	hostile T04e-too-deep
	refused "deeper than 256"
	names_layer 1
	not_in_store 1
}

# ---- T05-T09: symlinks -----------------------------------------------------------------------

@test "hostile T05: a symlink to the victim, written through in the same layer, stays in the root" {
	hostile T05-symlink-absolute
	contained
	[ "$(describe "$MNT/esc")" = "symlink -> $VICTIM" ]
	content_is "$VR/new" pwned
	content_is "$VR/canary" pwned
}

@test "hostile T06a: a relative ../ symlink written through stays in the root" {
	hostile T06a-symlink-relative
	contained
	content_is "$VR/new" pwned
}

@test "hostile T06b: a chain of symlinks with .. written through stays in the root" {
	hostile T06b-symlink-chain
	contained
	content_is "$VR/new" pwned
}

@test "hostile T07: a symlink of a lower layer written through by the next stays in the root" {
	hostile T07-symlink-lower-layer
	contained
	content_is "$VR/new" pwned
	content_is "$VR/canary" pwned
	[ "$(describe "$MNT/esc")" = "symlink -> $VICTIM" ]
}

@test "hostile T08: a directory replaced by a symlink in the same layer is not cached (CVE-2025-47290)" {
	hostile T08-dir-replaced-by-symlink
	contained
	[ "$(describe "$MNT/d")" = "symlink -> $VICTIM" ]
	content_is "$VR/new" pwned
	[ "$(describe "$MNT/$VR/a")" = absent ]
}

@test "hostile T09a: a symlink named 'sub/..' is refused" {
	hostile T09a-symlink-named-dotdot
	refused "entry 'sub/..'" "root directory"
	names_layer 1
	not_in_store 1
}

@test "hostile T09b: a symlink with an empty name is refused" {
	hostile T09b-symlink-empty-name
	refused "entry ''" "root directory"
	names_layer 1
	not_in_store 1
}

# ---- T10-T14: hard links ---------------------------------------------------------------------

@test "hostile T10a: an absolute hard link target is taken inside the root" {
	hostile T10a-hardlink-absolute
	contained
	content_is h inner
	[ "$(stat -c %i "$MNT/h")" = "$(stat -c %i "$MNT/$VR/canary")" ]
	[ "$(stat -c %h "$VICTIM/canary")" = 1 ]
}

@test "hostile T10b: a ../ hard link target missing from the root is refused" {
	hostile T10b-hardlink-relative-up
	refused "entry 'h'" "'$VR/canary' not found"
	names_layer 1
	not_in_store 1
}

@test "hostile T11: a hard link to a symlink links the symlink, never chmods its target (CVE-2021-32760)" {
	hostile T11-hardlink-to-symlink
	contained
	[ "$(describe "$MNT/h")" = "symlink -> $VICTIM/canary" ]
	[ "$(describe "$MNT/s")" = "symlink -> $VICTIM/canary" ]
}

@test "hostile T12: a hard link through a symlinked parent resolves inside the root" {
	hostile T12-hardlink-through-symlink
	refused "entry 'l'" "not found"
	names_layer 1
	not_in_store 1
}

@test "hostile T13a: a hard link entry's data (pax) is never written (libarchive #746)" {
	hostile T13a-hardlink-with-data-pax
	contained
	content_is f orig
	content_is h orig
	[ "$(stat -c %i "$MNT/h")" = "$(stat -c %i "$MNT/f")" ]
	[[ "$UNPACK_OUTPUT" == *"warning"*"'h'"*"5 bytes"* ]]
}

@test "hostile T13b: a hard link entry's data in a ustar archive makes the tar unreadable: refused" {
	hostile T13b-hardlink-with-data-ustar
	refused
	names_layer 1
	not_in_store 1
}

@test "hostile T14a: a hard link to itself does not lose the file" {
	hostile T14a-hardlink-self
	contained # ignored with a warning
	content_is f self
	[[ "$UNPACK_OUTPUT" == *"warning"*"'f'"*"itself"* ]]
}

@test "hostile T14b: a hard link to a directory is refused" {
	hostile T14b-hardlink-dir
	refused "entry 'h'" "directory"
	names_layer 1
	not_in_store 1
}

@test "hostile T14c: a hard link to a lower layer's file copies it up" {
	hostile T14c-hardlink-lower-layer
	contained
	content_is h lower
	content_is lowerfile lower
	local l1 l2
	l1=$STORE/layers/$(bundle_layers | sed -n 1p)/fs
	l2=$STORE/layers/$(bundle_layers | sed -n 2p)/fs
	# layer 1's file is not linked from layer 2's directory
	[ "$(stat -c %h "$l1/lowerfile")" = 1 ]
	[ "$(stat -c %i "$l2/h")" = "$(stat -c %i "$l2/lowerfile")" ]
}

# ---- T15-T21: whiteouts ----------------------------------------------------------------------

@test "hostile T15a: '.wh..' is refused" {
	hostile T15a-whiteout-dotdot
	refused "entry '.wh..'" "invalid whiteout"
	names_layer 1
	not_in_store 1
}

@test "hostile T15b: '.wh...' is refused" {
	hostile T15b-whiteout-dotdotdot
	refused "entry '.wh...'" "invalid whiteout"
	names_layer 1
	not_in_store 1
}

@test "hostile T15c: 'etc/.wh..' is refused and etc/ survives in the layer below" {
	hostile T15c-whiteout-dotdot-in-dir
	refused "entry 'etc/.wh..'" "invalid whiteout"
	names_layer 1
	not_in_store 1
	local c0
	c0=$(jq -r '.chain_ids[0] | ltrimstr("sha256:")' "$FACTS")
	if [ -d "$STORE/layers/$c0" ]; then
		[ -f "$STORE/layers/$c0/fs/etc/passwd" ]
	fi
}

@test "hostile T16: an empty whiteout name '.wh.' is refused" {
	hostile T16-whiteout-empty
	refused "entry 'etc/.wh.'" "invalid whiteout"
	names_layer 1
	not_in_store 1
}

@test "hostile T17a: a whiteout through a symlink acts inside the root" {
	hostile T17a-whiteout-through-symlink
	contained
	[ "$(describe "$MNT/$VR/canary")" = absent ]
	[ "$(describe "$MNT/link")" = "symlink -> $VICTIM" ]
	if compgen -G "$VICTIM/.wh.*"; then
		fail "whiteouts written into the victim"
	fi
}

@test "hostile T17b: an opaque marker through a symlink acts inside the root" {
	hostile T17b-opaque-through-symlink
	contained
	[ -d "$MNT/$VR" ]
	[ -z "$(ls -A "$MNT/$VR")" ]
	[ "$(describe "$MNT/link")" = "symlink -> $VICTIM" ]
	[ "$(xattr_of "$VICTIM" trusted.overlay.opaque)" = "(none)" ]
}

@test "hostile T18a: a whiteout of a symlink removes the link, not its target" {
	hostile T18a-whiteout-symlink
	contained
	[ "$(describe "$MNT/s")" = absent ]
}

@test "hostile T18b: a .wh. prefix on a directory component is an ordinary name" {
	hostile T18b-whiteout-prefix-dir
	contained
	content_is ".wh.x/file" ordinary
	content_is x "x stays"
}

@test "hostile T19a: an opaque marker after its siblings still hides only the lower children" {
	hostile T19a-opaque-after-siblings
	contained
	[ "$(ls -A "$MNT/o")" = c ]
	content_is o/c c
}

@test "hostile T19b: a whiteout and a file of the same name in one layer: the file stays" {
	hostile T19b-whiteout-and-same-name
	contained
	content_is w/f new
	content_is w/g new
}

@test "hostile T20a: whiteouts in the base layer leave no broken entry" {
	hostile T20a-whiteout-in-base
	contained
	[ "$(describe "$MNT/foo")" = absent ]
	[ -z "$(ls -A "$MNT/d")" ]
	[ "$(ls -A "$MNT/o")" = kept ]
	# nor in the layer's own directory
	local l1
	l1=$STORE/layers/$(bundle_layers | sed -n 1p)/fs
	[ -z "$(find "$l1" -type c)" ]
}

@test "hostile T20b: a whiteout in a directory no lower layer has leaves no broken entry" {
	hostile T20b-whiteout-dir-absent-below
	contained
	[ "$(ls -A "$MNT/newdir")" = y ]
}

@test "hostile T21: overlay xattrs and 0:0 devices in a layer cannot forge overlay metadata" {
	hostile T21-forged-overlay-metadata
	contained
	content_is o/lower lower # not made opaque
	content_is u/lower lower
	content_is shadow lower  # not whited out
	[ "$(ls -A "$MNT/r")" = "" ] # no redirect to o/
	[[ "$UNPACK_OUTPUT" == *"warning"*"'shadow'"* ]] # the skipped 0:0 device is reported
	local l2
	l2=$STORE/layers/$(bundle_layers | sed -n 2p)/fs
	[ "$(xattr_of "$l2/o" trusted.overlay.opaque)" = "(none)" ]
	[ "$(xattr_of "$l2/o" trusted.overlay.overlay.opaque)" = y ]
	[ "$(xattr_of "$l2/u" user.overlay.opaque)" = "(none)" ]
	[ "$(xattr_of "$l2/r" trusted.overlay.redirect)" = "(none)" ]
	[ "$(describe "$l2/shadow")" = absent ]
}

# ---- T23: special files ----------------------------------------------------------------------

@test "hostile T23a: devices, fifos, setuid and setgid bits are kept, in a 0700 store and bundle" {
	hostile T23a-devices
	contained
	[ "$(describe "$MNT/devs/null")" = "chr 0666 0:0 1:3" ]
	[ "$(describe "$MNT/devs/sda")" = "blk 0660 0:0 8:0" ]
	[ "$(describe "$MNT/devs/fifo")" = "fifo 0644 0:0" ]
	[ "$(describe "$MNT/suid")" = "file 4755 0:0" ]
	[ "$(describe "$MNT/sgid")" = "file 2755 0:0" ]
	[ "$(stat -c %a "$STORE")" = 700 ]
	[ "$(stat -c %a "$STORE/layers")" = 700 ]
	[ "$(stat -c %a "$BUNDLE")" = 700 ]
}

@test "hostile T23b: a device number beyond 32 bits is refused" {
	hostile T23b-device-major-64bit
	refused "entry 'bigdev'" "out of range"
	names_layer 1
	not_in_store 1
}

# ---- T27: decompression bomb -----------------------------------------------------------------

@test "hostile T27: a gzip bomb is stopped by the uncompressed-size cap" {
	# 1 GiB of zeros in about 1 MiB of gzip; the cap is lowered for the test
	HUSK_IMAGE_MAX_LAYER_BYTES=$((256 << 20)) hostile T27-gzip-bomb
	refused "exceeds"
	names_layer 1
	not_in_store 1
}

# ---- T29-T35: JSON, digests, blobs -----------------------------------------------------------

@test "hostile T29a: an index.json over 4 MiB is refused" {
	hostile T29a-huge-index-json
	refused index.json "larger than 4194304"
}

@test "hostile T29b: a config blob over 4 MiB is refused before it is read" {
	hostile T29b-huge-config
	refused "$(jq -r '.config | ltrimstr("sha256:")' "$FACTS")" "exceeds the limit"
	[ "$(layer_count)" -eq 0 ]
}

@test "hostile T29c: 100000 nested arrays in a config are refused, not a crash" {
	hostile T29c-deep-json
	refused "$(jq -r '.config | ltrimstr("sha256:")' "$FACTS")" "nested deeper than"
	[ "$(layer_count)" -eq 0 ]
}

@test "hostile T29d: index.json with manifests: null is refused" {
	hostile T29d-manifests-null
	refused "$TEST_DIR/img" "no image named 'hostile'"
}

@test "hostile T29e: indexes nested deeper than 8 levels are refused" {
	hostile T29e-nested-index-depth
	refused "nested deeper than 8"
	[ "$(layer_count)" -eq 0 ]
}

@test "hostile T29f: indexes nested 3 levels deep are followed" {
	hostile T29f-nested-index-ok
	contained
	[ "$(jq -r .image "$BUNDLE/husk-rootfs.json")" = "$(jq -r .manifest "$FACTS")" ]
}

@test "hostile T30a: a digest 'sha256:../../…' is refused before it becomes a path" {
	hostile T30a-digest-dotdot
	refused "manifests[0].digest" "invalid digest"
}

@test "hostile T30b: an uppercase hex digest is refused" {
	hostile T30b-digest-uppercase
	refused "invalid digest"
}

@test "hostile T30c: a short digest is refused" {
	hostile T30c-digest-short
	refused "invalid digest"
}

@test "hostile T30d: an unknown digest algorithm is refused" {
	hostile T30d-digest-unknown-algorithm
	refused sha512
}

@test "hostile T30e: a layer digest with '/../' is refused" {
	hostile T30e-layer-digest-slash
	refused "layers[0].digest" "invalid digest"
	[ "$(layer_count)" -eq 0 ]
}

@test "hostile T30f: a config digest with '../' is refused" {
	hostile T30f-config-digest-dotdot
	refused "invalid digest"
}

@test "hostile T31a: a layer blob that does not match its digest is refused and not stored" {
	hostile T31a-blob-digest-mismatch
	refused "$(jq -r '.layers[0] | ltrimstr("sha256:")' "$FACTS")" "digest mismatch"
	not_in_store 0
	[ "$(layer_count)" -eq 0 ]
}

@test "hostile T31b: a blob longer than its descriptor's size is refused" {
	hostile T31b-blob-longer-than-size
	refused "$(jq -r '.layers[0] | ltrimstr("sha256:")' "$FACTS")" "size mismatch"
	not_in_store 0
}

@test "hostile T31c: a negative descriptor size is refused" {
	hostile T31c-negative-size
	refused "layers[0].size" "negative size"
	not_in_store 0
}

@test "hostile T31d: a blob shorter than its descriptor's size is refused" {
	hostile T31d-blob-shorter-than-size
	refused "$(jq -r '.layers[0] | ltrimstr("sha256:")' "$FACTS")" "size mismatch"
	not_in_store 0
}

@test "hostile T32a: a diff_id mismatch is refused and leaves no cache entry" {
	hostile T32a-diff-id-mismatch
	refused "diff_id mismatch"
	names_layer 1
	not_in_store 1
}

@test "hostile T32b: fewer diff_ids than layers is refused" {
	hostile T32b-diff-ids-count
	refused "$(jq -r '.config | ltrimstr("sha256:")' "$FACTS")" diff_ids
	[ "$(layer_count)" -eq 0 ]
}

@test "hostile T32c: rootfs.type other than 'layers' is refused" {
	hostile T32c-rootfs-type
	refused "$(jq -r '.config | ltrimstr("sha256:")' "$FACTS")" rootfs.type
	[ "$(layer_count)" -eq 0 ]
}

@test "hostile T33a: bytes after the end of a gzip stream (covered by the blob digest) are ignored" {
	hostile T33a-gzip-trailing-garbage
	contained
	content_is two 2
}

@test "hostile T33b: a multi-member gzip layer is accepted (valid gzip)" {
	hostile T33b-gzip-multi-member
	contained
	content_is two 2
	content_is three 3
}

@test "hostile T34a: an index given the manifest media type is refused" {
	hostile T34a-index-typed-as-manifest
	refused "$(jq -r '.bad | ltrimstr("sha256:")' "$FACTS")" "where an image manifest was expected"
	[ "$(layer_count)" -eq 0 ]
}

@test "hostile T34b: a manifest given the index media type is refused" {
	hostile T34b-manifest-typed-as-index
	refused "$(jq -r '.manifest | ltrimstr("sha256:")' "$FACTS")" "where an image index was expected"
	[ "$(layer_count)" -eq 0 ]
}

@test "hostile T34c: a config descriptor of a layer media type is refused" {
	hostile T34c-config-not-image-config
	refused "application/vnd.oci.image.layer.v1.tar+gzip"
	[ "$(layer_count)" -eq 0 ]
}

@test "hostile T34d: a manifest layer of an unknown media type is refused" {
	hostile T34d-layer-unknown-type
	refused "application/vnd.example.unknown"
	[ "$(layer_count)" -eq 0 ]
}

@test "hostile T35: a layer claiming another's diff_id never enters the store under it" {
	# evil's config claims good's diff_ids; its second layer blob holds other files
	hostile T35-chainid-poisoning evil
	refused "diff_id mismatch"
	[ "$(layer_count)" -le 1 ] # at most the shared, verified base
	local good
	good=$(jq -r '.good.chain_ids[1] | ltrimstr("sha256:")' "$FACTS")
	[ ! -e "$STORE/layers/$good" ]
	# good unpacks with its own content
	himg unpack "$TEST_DIR/img:good" "$BUNDLE"
	contained
	content_is which good
	umount_image
	# evil again, now that the ChainID is in the store: the verified layer is reused, never evil's content
	himg unpack "$TEST_DIR/img:evil" "$TEST_DIR/b2"
	[ "$status" -eq 0 ]
	mount_image "$TEST_DIR/b2"
	content_is which good
	[ "$(describe "$MNT/evil")" = absent ]
	assert_store_clean
	assert_victim_intact
}

# ---- T36-T38: config -> runtime spec ---------------------------------------------------------

@test "hostile T36a: User 4294967296 is out of range, never wrapped to root (CVE-2024-40635)" {
	hostile T36a-uid-2p32
	refused "config.User" "uid '4294967296' out of range"
}

@test "hostile T36b: User 4294967295 (-1) is out of range" {
	hostile T36b-uid-2p32-minus-1
	refused "config.User" "uid '4294967295' out of range"
}

@test "hostile T36c: User 2147483648:2147483649 is taken as it is" {
	hostile T36c-uid-2p31
	contained
	[ "$(jq -r .process.user.uid "$BUNDLE/config.json")" = 2147483648 ]
	[ "$(jq -r .process.user.gid "$BUNDLE/config.json")" = 2147483649 ]
}

@test "hostile T36d: a passwd uid beyond 32 bits is refused, never wrapped (CVE-2026-46680)" {
	hostile T36d-passwd-uid-overflow
	refused "config.User" "'big' not found"
}

@test "hostile T36e: a gid beyond 32 bits is refused" {
	hostile T36e-gid-overflow
	refused "config.User" "gid '4294967296' out of range"
}

@test "hostile T36f: User -1 is a name, and not found" {
	hostile T36f-negative
	refused "config.User" "'-1'"
}

@test "hostile T37a: /etc/passwd symlinked to a host file is read inside the root (CVE-2024-9676)" {
	hostile T37a-passwd-symlink-to-host
	# the image's root has no $VR/passwd: user app is not found; the host's file (uid 4242) is never read
	refused "config.User" "'app' not found"
	[[ "$output" != *4242* ]]
}

@test "hostile T37b: /etc/passwd as a fifo is refused, without hanging" {
	hostile T37b-passwd-fifo
	refused /etc/passwd "not a regular file"
}

@test "hostile T37c: /etc/group as a char device is refused, without reading it" {
	hostile T37c-group-char-device
	refused /etc/group "not a regular file"
}

@test "hostile T37d: an /etc/passwd over 4 MiB is refused" {
	hostile T37d-passwd-huge
	refused /etc/passwd "larger than 4194304"
}

@test "hostile T37e: an /etc/group of more than 100000 lines is refused (CVE-2026-47262)" {
	hostile T37e-group-many-lines
	refused /etc/group "more than 100000 lines"
}

@test "hostile T37f: /etc/passwd -> /dev/zero is resolved inside the root" {
	hostile T37f-passwd-symlink-dev-zero
	refused "config.User" "'app' not found"
}

@test "hostile T38a: Volumes are not mounted, whatever their path (CVE-2022-23648)" {
	hostile T38a-volumes-dotdot
	contained
	[ "$(jq -r --arg v "$VR" '[.mounts[] | select((.source + .destination) | contains($v))] | length' "$BUNDLE/config.json")" -eq 0 ]
	[ "$(jq -r '[.mounts[] | select(.destination | contains(".."))] | length' "$BUNDLE/config.json")" -eq 0 ]
}

@test "hostile T38b: WorkingDir /proc/self/fd/7 never gives a host directory (CVE-2024-21626)" {
	hostile T38b-workdir-proc-fd
	[ "$status" -eq 0 ]
	assert_victim_intact
	update_config '.process.terminal = false | .linux.cgroupsPath = $cg' --arg cg "$CGROUP_PATH"
	husk run "$ID"
	# the container must not start in a directory of the host: husk refuses the cwd
	[ "$status" -eq 1 ]
	[[ "$output" == *"process.cwd"*"/proc/self/fd/7"* ]]
	assert_no_leftovers
}

@test "hostile T38c: labels shaped like commands are only annotations (CVE-2026-53488)" {
	hostile T38c-labels-not-commands
	contained
	[ "$(jq -r '.annotations["io.containerd.logger"]' "$BUNDLE/config.json")" = "touch $VICTIM/pwned" ]
	[ "$(jq -r '.annotations["com.example.sh"]' "$BUNDLE/config.json")" = "\$(touch $VICTIM/pwned2)" ]
	[ "$(jq -r '.annotations["com.example.tick"]' "$BUNDLE/config.json")" = "\`touch $VICTIM/pwned3\`" ]
	umount_image
	update_config '.process.terminal = false | .linux.cgroupsPath = $cg' --arg cg "$CGROUP_PATH"
	husk run "$ID"
	[ "$status" -eq 0 ]
	assert_victim_intact
	assert_no_leftovers
}
