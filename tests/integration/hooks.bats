#!/usr/bin/env bats
# OCI hooks (config.md "POSIX-platform Hooks", runtime.md "Lifecycle"): each kind at its moment and
# in its namespace, the state JSON on stdin, timeouts, and what a failure does.

load helpers

setup() {
	setup_bundle
}

teardown() {
	teardown_bundle
}

# host_hook NAME: a hook, run from the host's /bin/sh, that saves its stdin as NAME.json and appends
# NAME to hooks.log in the test dir.
host_hook() {
	jq -n --arg n "$1" --arg d "$TEST_DIR" \
		'{path: "/bin/sh", args: ["sh", "-c", "cat >\($d)/\($n).json; echo \($n) >>\($d)/hooks.log"]}'
}

set_all_hooks() {
	local h
	for h in prestart createRuntime createContainer poststart poststop; do
		update_config ".hooks.$h = [\$h]" --argjson h "$(host_hook "$h")"
	done
	# startContainer runs inside the container: its path is the container's /bin/sh
	update_config '.hooks.startContainer = [{path: "/bin/sh", args: ["sh", "-c", "echo startContainer >/startContainer.log; cat >/startContainer.json"]}]'
}

@test "hooks: run runs every kind, in order, with the state on stdin" {
	set_all_hooks
	set_args /probe pid
	husk run "$ID"
	[ "$status" -eq 0 ]
	[ "$(cat "$TEST_DIR/hooks.log" | tr '\n' ' ')" = "prestart createRuntime createContainer poststart poststop " ]
	[ "$(cat "$ROOTFS/startContainer.log")" = startContainer ]
	# state: runtime-namespace hooks see the host pid, container ones the container's (1)
	[ "$(jq -r .id "$TEST_DIR/prestart.json")" = "$ID" ]
	[ "$(jq -r .status "$TEST_DIR/prestart.json")" = creating ]
	[ "$(jq -r .bundle "$TEST_DIR/prestart.json")" = "$BUNDLE" ]
	[ "$(jq -r .pid "$TEST_DIR/createRuntime.json")" -gt 1 ]
	[ "$(jq -r .pid "$TEST_DIR/createContainer.json")" -eq 1 ]
	[ "$(jq -r .status "$ROOTFS/startContainer.json")" = created ]
	[ "$(jq -r .pid "$ROOTFS/startContainer.json")" -eq 1 ]
	[ "$(jq -r .status "$TEST_DIR/poststart.json")" = running ]
	[ "$(jq -r .status "$TEST_DIR/poststop.json")" = stopped ]
	assert_no_leftovers
}

@test "hooks: create, start and delete each run their own kinds" {
	set_all_hooks
	set_args /probe sleep 60
	status=0
	__husk create "$ID" </dev/null >"$TEST_DIR/c.out" 2>&1 || status=$?
	[ "$status" -eq 0 ]
	[ "$(cat "$TEST_DIR/hooks.log" | tr '\n' ' ')" = "prestart createRuntime createContainer " ]
	[ ! -e "$ROOTFS/startContainer.log" ]
	husk start "$ID"
	[ "$status" -eq 0 ]
	[ "$(cat "$TEST_DIR/hooks.log" | tr '\n' ' ')" = "prestart createRuntime createContainer poststart " ]
	# start returns (and poststart runs) only once the process was executed: startContainer is done
	[ -e "$ROOTFS/startContainer.log" ]
	husk delete --force "$ID"
	[ "$status" -eq 0 ]
	[ "$(tail -n 1 "$TEST_DIR/hooks.log")" = poststop ]
	assert_no_leftovers
}

@test "hooks: a failing createRuntime hook fails the run, removes the container, runs poststop" {
	update_config '.hooks.createRuntime = [{path: "/bin/sh", args: ["sh", "-c", "exit 3"]}]
		| .hooks.poststop = [$h]' --argjson h "$(host_hook poststop)"
	set_args sh -c 'echo ran >/ran'
	husk run "$ID"
	[ "$status" -ne 0 ]
	[ ! -e "$ROOTFS/ran" ]
	[ "$(cat "$TEST_DIR/hooks.log")" = poststop ]
	assert_no_leftovers
	husk_only "message"
	[[ "$output" == *"hooks.createRuntime[0]: '/bin/sh' exited with status 3"* ]]
}

@test "hooks: a hook that outlives its timeout is killed and fails the run" {
	update_config '.hooks.prestart = [{path: "/bin/sh", args: ["sh", "-c", "sleep 30"], timeout: 1}]'
	SECONDS=0
	husk run "$ID"
	[ "$status" -ne 0 ]
	[ "$SECONDS" -lt 10 ]
	assert_no_leftovers
	husk_only "message"
	[[ "$output" == *"timed out after 1 s"* ]]
}

@test "hooks: a failing poststart hook is only a warning" {
	update_config '.hooks.poststart = [{path: "/bin/false"}]'
	set_args /probe exit 0
	husk run "$ID"
	[ "$status" -eq 0 ]
	assert_no_leftovers
	husk_only "message"
	[[ "$output" == *"warning"*"poststart"* ]]
}

@test "hooks: a failing startContainer hook makes start fail with its message" {
	update_config '.hooks.startContainer = [{path: "/bin/sh", args: ["sh", "-c", "exit 4"]}]'
	set_args /probe sleep 60
	status=0
	__husk create "$ID" </dev/null >"$TEST_DIR/c.out" 2>&1 || status=$?
	[ "$status" -eq 0 ]
	husk start "$ID"
	[ "$status" -ne 0 ]
	local start_output=$output
	husk delete --force "$ID"
	assert_no_leftovers
	husk_only "message"
	[[ "$start_output" == *"hooks.startContainer[0]: '/bin/sh' exited with status 4"* ]]
}
