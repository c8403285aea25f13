#!/usr/bin/env bats
# Bad input: each case must exit non-zero with one clear line, and leave nothing behind
# (--root, host mounts, cgroups).

load helpers

setup() { setup_bundle; }
teardown() { teardown_bundle; }

# expect_error PATTERN: the last `husk` call failed, nothing is left, and (husk only) its output is the
# one line "husk: ..." matching the bash glob PATTERN.
expect_error() {
	[ "$status" -ne 0 ]
	assert_no_leftovers
	husk_only "message"
	[ "${#lines[@]}" -eq 1 ]
	[[ "${lines[0]}" == "husk: "* ]]
	# shellcheck disable=SC2053
	[[ "${lines[0]}" == $1 ]]
}

@test "errors: missing rootfs" {
	rm -rf "$ROOTFS"
	husk_run -- /probe pid
	expect_error "husk: config.json: root.path: *rootfs*"
}

@test "errors: rootfs is a file" {
	rm -rf "$ROOTFS"
	touch "$ROOTFS"
	husk_run -- /probe pid
	expect_error "husk: config.json: root.path: *rootfs*"
}

@test "errors: a config field of the wrong type" {
	update_config '.linux.resources.pids.limit = "many"'
	husk_run -- /probe pid
	expect_error "husk: config.json: linux.resources.pids.limit: expected integer"
}

@test "errors: missing config.json" {
	rm "$BUNDLE/config.json"
	husk run "$ID"
	expect_error "husk: *config.json*"
}

@test "errors: config.json that is not JSON" {
	head -c 100 "$BUNDLE/config.json" >"$BUNDLE/config.json.cut"
	mv "$BUNDLE/config.json.cut" "$BUNDLE/config.json"
	husk run "$ID"
	expect_error "husk: config.json: *"
}

@test "errors: invalid container ids are refused before anything is made" {
	local id
	for id in "../escape" "a/b" "." ".." "with space" "$(printf 'x%.0s' {1..300})"; do
		husk run "$id"
		[ "$status" -ne 0 ]
		[ ! -e "$TEST_DIR/escape" ]
		[ ! -e "$HUSK_ROOT/a/b" ]
		if ! is_runc; then
			[[ "$output" == "husk: "* ]]
		fi
	done
	assert_no_leftovers
	# control: a valid id runs
	husk_run -- /probe pid
	[ "$status" -eq 0 ]
}

@test "errors: an unknown namespace type" {
	update_config '.linux.namespaces += [{type: "bogus"}]'
	husk_run -- /probe pid
	expect_error "husk: config.json: linux.namespaces\[*\].type: *bogus*"
}

@test "errors: the same namespace twice" {
	update_config '.linux.namespaces += [{type: "ipc"}]'
	husk_run -- /probe pid
	expect_error "husk: config.json: linux.namespaces*ipc*"
}

@test "errors: empty process.args" {
	update_config '.process.args = []'
	husk run "$ID"
	expect_error "husk: config.json: process.args*"
}

@test "errors: a mount destination with .. stays inside the rootfs" {
	mkdir "$TEST_DIR/outside"
	# from the bundle's rootfs, ../../outside is $TEST_DIR/outside
	update_config '.mounts += [{destination: "/../../outside/sub", type: "tmpfs", source: "tmpfs"}]'
	husk_run -- /probe mountinfo /outside/sub
	# refused, or resolved inside the rootfs: the host directory stays empty either way
	[ -z "$(ls -A "$TEST_DIR/outside")" ]
	if [ "$status" -eq 0 ]; then
		[[ "$output" == *" /outside/sub "*" - tmpfs "* ]]
	fi
	assert_no_leftovers
}

@test "errors: an unknown mount type fails cleanly" {
	update_config '.mounts += [{destination: "/mnt", type: "no-such-fs", source: "none"}]'
	husk_run -- /probe pid
	expect_error "husk: *mounts\[*\]*"
}

@test "errors: --log-format json writes the error as JSON to --log" {
	rm -rf "$ROOTFS"
	husk --log "$TEST_DIR/log.json" --log-format json run "$ID"
	[ "$status" -ne 0 ]
	# every line is a JSON object; the last one is the error
	jq -e . "$TEST_DIR/log.json" >/dev/null
	[ "$(tail -n1 "$TEST_DIR/log.json" | jq -r .level)" = error ]
	[ -n "$(tail -n1 "$TEST_DIR/log.json" | jq -r .msg)" ]
	[ -n "$(tail -n1 "$TEST_DIR/log.json" | jq -r .time)" ]
	assert_no_leftovers
}

@test "errors: an unknown option or command is a usage error" {
	husk run --no-such-option "$ID"
	[ "$status" -ne 0 ]
	husk no-such-command
	[ "$status" -ne 0 ]
	assert_no_leftovers
}

@test "errors: an option without its argument says so" {
	husk run --bundle
	[ "$status" -ne 0 ]
	husk_only "message"
	[ "$output" = "husk: run: option '--bundle' needs an argument" ]
}
