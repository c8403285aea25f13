#!/usr/bin/env bats
# husk spec: a default config.json that husk run can run; never overwrites; --rootless.

load helpers

setup() {
	setup_bundle
	SPEC_DIR=$TEST_DIR/spec
	mkdir "$SPEC_DIR"
}
teardown() { teardown_bundle; }

@test "spec: writes a valid config.json into --bundle" {
	run "$HUSK" spec --bundle "$SPEC_DIR"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	jq -e '.ociVersion and .process.args and .root.path and .linux.namespaces' "$SPEC_DIR/config.json"
	[ "$(jq -r .root.path "$SPEC_DIR/config.json")" = rootfs ]
}

@test "spec: without --bundle it writes into the current directory" {
	run bash -c 'cd "$1" && exec "$2" spec' sh "$SPEC_DIR" "$HUSK"
	[ "$status" -eq 0 ]
	jq -e . "$SPEC_DIR/config.json" >/dev/null
}

@test "spec: the default config runs" {
	rm "$BUNDLE/config.json"
	run "$HUSK" spec --bundle "$BUNDLE"
	[ "$status" -eq 0 ]
	# only what a test must change: the cgroup, no terminal (no tty here), the probe as process
	update_config '.linux.cgroupsPath = $cg | .process.terminal = false' --arg cg "$CGROUP_PATH"
	husk_run -- /probe status NoNewPrivs -- ns mnt -- write /probe-was-here x
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1 ]
	[ "${lines[1]}" != "$(readlink /proc/self/ns/mnt)" ]
	# the default root is read-only
	[ "$(jq -r .root.readonly "$BUNDLE/config.json")" != true ] || [ "${lines[2]}" = "error: EROFS" ]
	assert_no_leftovers
}

@test "spec: refuses to overwrite an existing config.json" {
	echo '{"mine": true}' >"$SPEC_DIR/config.json"
	run "$HUSK" spec --bundle "$SPEC_DIR"
	[ "$status" -ne 0 ]
	[ "$(cat "$SPEC_DIR/config.json")" = '{"mine": true}' ]
	husk_only "message"
	[[ "$output" == "husk: "*config.json* ]]
}

@test "spec: a missing --bundle directory is an error" {
	run "$HUSK" spec --bundle "$TEST_DIR/no-such-dir"
	[ "$status" -ne 0 ]
	[ ! -e "$TEST_DIR/no-such-dir" ]
}

@test "spec: --rootless has a user namespace mapping the caller" {
	run "$HUSK" spec --rootless --bundle "$SPEC_DIR"
	[ "$status" -eq 0 ]
	local c=$SPEC_DIR/config.json
	jq -e '.linux.namespaces | map(.type) | index("user")' "$c"
	[ "$(jq -r '.linux.uidMappings[0].hostID' "$c")" = "$(id -u)" ]
	[ "$(jq -r '.linux.gidMappings[0].hostID' "$c")" = "$(id -g)" ]
	[ "$(jq -r '.linux.uidMappings[0].containerID' "$c")" = 0 ]
}

@test "spec: the default config follows the runtime-spec defaults husk documents" {
	husk_only "husk's own defaults"
	run "$HUSK" spec --bundle "$SPEC_DIR"
	[ "$status" -eq 0 ]
	local c=$SPEC_DIR/config.json
	[[ "$(jq -r .ociVersion "$c")" == 1.2.* ]]
	[ "$(jq -r .process.noNewPrivileges "$c")" = true ]
	[ "$(jq -r '.process.args | join(" ")' "$c")" = sh ]
	jq -e '.linux.maskedPaths | index("/proc/kcore")' "$c"
	jq -e '.linux.readonlyPaths | index("/proc/sys")' "$c"
	jq -e '[.linux.namespaces[].type] | contains(["pid", "network", "ipc", "uts", "mount", "cgroup"])' "$c"
	jq -e '.process.capabilities.bounding | index("CAP_KILL")' "$c"
	[ "$(jq -r '.process.capabilities.inheritable // [] | length' "$c")" = 0 ]
}
