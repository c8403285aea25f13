#!/usr/bin/env bats
# husk features: the features document (runtime-spec features.md, features-linux.md) parses, has
# the versions, says what husk does and does not do, and every name it lists is accepted by husk run.

load helpers

setup() {
	FEATURES=$(mktemp /tmp/husk-features.XXXXXX)
}
teardown() {
	rm -f "$FEATURES"
	teardown_bundle
}

# Run `husk features` into $FEATURES; fail unless it succeeds and prints one JSON document.
features() {
	run "$HUSK" features
	echo "husk features -> status $status"
	[ "$status" -eq 0 ] || fail "husk features failed: $output"
	printf '%s\n' "$output" >"$FEATURES"
	jq -e 'type == "object"' "$FEATURES" >/dev/null || fail "not a JSON object: $output"
}

# jq_true FILTER: FILTER is true of the document.
jq_true() {
	jq -e "$1" "$FEATURES" >/dev/null || fail "not true of the features document: $1"
}

@test "features: one JSON document with the spec versions" {
	features
	jq_true '.ociVersionMin == "1.0.0"'
	husk_only "runc has its own maximum"
	jq_true '.ociVersionMax == "1.2.0"'
}

@test "features: hooks, namespaces and capabilities" {
	features
	jq_true '.hooks | sort == ["createContainer", "createRuntime", "poststart", "poststop", "prestart", "startContainer"]'
	jq_true '.linux.namespaces | index("cgroup") != null'
	jq_true '.linux.capabilities | index("CAP_SYS_ADMIN") != null'
	husk_only "husk's exact lists"
	jq_true '.linux.namespaces | sort == ["cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"]'
	jq_true '.linux.capabilities | length == 41 and .[40] == "CAP_CHECKPOINT_RESTORE"'
}

@test "features: cgroup managers and seccomp" {
	features
	jq_true '.linux.cgroup.v1 == true and .linux.cgroup.v2 == true'
	jq_true '.linux.seccomp.enabled == true'
	jq_true '.linux.seccomp.archs | index("SCMP_ARCH_X86_64") != null'
	# supportedFlags is a subset of knownFlags (features-linux.md)
	jq_true '.linux.seccomp as $s | ($s.supportedFlags - $s.knownFlags) == []'
	husk_only "husk has no seccomp notify yet"
	jq_true '.linux.seccomp.actions | index("SCMP_ACT_NOTIFY") == null'
	jq_true '.linux.seccomp.actions | index("SCMP_ACT_ERRNO") != null'
	jq_true '.linux.seccomp.operators | length == 7'
	# WAIT_KILLABLE_RECV is known, but dropped without a notify listener
	jq_true '.linux.seccomp.knownFlags | index("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") != null'
	jq_true '.linux.seccomp.supportedFlags | index("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") == null'
}

@test "features: what husk does not do is false" {
	husk_only "husk's own limits"
	features
	jq_true '.linux.cgroup.systemd == true and .linux.cgroup.systemdUser == false and .linux.cgroup.rdma == false'
	jq_true '.linux.apparmor.enabled == false and .linux.selinux.enabled == false'
	jq_true '.linux.intelRdt.enabled == false and .linux.mountExtensions.idmap.enabled == false'
	jq_true '.mountOptions | index("idmap") == null and index("ridmap") == null'
	jq_true '.mountOptions | index("tmpcopyup") != null'
	jq_true '.annotations["io.github.husk.version"] | type == "string"'
}

@test "features: takes no arguments" {
	run "$HUSK" features extra
	[ "$status" -ne 0 ]
	husk_only "message"
	[[ "$output" == *"features: unexpected argument 'extra'"* ]]
}

@test "features: every listed mount option, capability and seccomp name is accepted by husk run" {
	husk_only "runc lists options that need kernel or bundle support"
	features
	setup_bundle
	mkdir "$TEST_DIR/src"
	# One mount per option (tmpfs, or a bind of a directory for bind/rbind), all capabilities in the
	# bounding set, and a seccomp profile naming every architecture, flag, action and operator.
	update_config '
		($f[0].mountOptions | to_entries | map(
			{destination: "/mnt/o\(.key)", options: [.value]}
			+ (if .value == "bind" or .value == "rbind"
			   then {type: "bind", source: $src} else {type: "tmpfs", source: "tmpfs"} end))) as $m
		| .mounts += $m
		| .process.capabilities.bounding = $f[0].linux.capabilities
		| .linux.seccomp = {
			defaultAction: "SCMP_ACT_ALLOW",
			architectures: $f[0].linux.seccomp.archs,
			flags: $f[0].linux.seccomp.supportedFlags,
			syscalls: (
				[$f[0].linux.seccomp.actions | to_entries[]
				 | {names: [["acct", "swapon", "swapoff", "vhangup", "syslog", "quotactl", "kexec_load",
				             "init_module", "delete_module"][.key]], action: .value}]
				+ [$f[0].linux.seccomp.operators | to_entries[]
				   | {names: [["iopl", "ioperm", "add_key", "request_key", "ustat", "sysfs", "uselib",
				               "lookup_dcookie"][.key]],
				      action: "SCMP_ACT_ERRNO",
				      args: [{index: 0, value: 1, valueTwo: 1, op: .value}]}])
		}' --slurpfile f "$FEATURES" --arg src "$TEST_DIR/src"
	[ "$(jq '.linux.seccomp.syscalls | length' "$BUNDLE/config.json")" -ge 15 ]
	husk_run
	[ "$status" -eq 0 ]
	assert_no_leftovers
}
