#!/bin/bash
# husk's whole test suite, for a fresh Debian 12 machine, as root:
#   install the build and test dependencies, build, `make check` (criterion unit tests and the bats
#   integration tests), then print one summary line "N passed, N failed, N skipped".
# Non-interactive: no tty, no stdin.  Exit status 0 only when the build worked and no test failed.
#
#   bash tests/ci.sh            (from anywhere; it works in the source tree it belongs to)
#   HUSK_CI_NO_APT=1 bash tests/ci.sh   skips apt-get (dependencies already there)

set -u
export DEBIAN_FRONTEND=noninteractive
exec </dev/null
cd "$(dirname "$0")/.." || exit 1

PACKAGES=(
	autoconf automake make gcc libc6-dev pkg-config
	libseccomp-dev libcap-dev libyajl-dev libmnl-dev libarchive-dev libssl-dev
	libcriterion-dev busybox-static bats jq iproute2 go-md2man perl
	podman containerd
	qemu-system-x86 linux-image-amd64 cpio xz-utils
	python3 zstd umoci skopeo
)

step() { printf '\n==> %s\n' "$*"; }

# summary PASSED FAILED SKIPPED: the closing line, alone on its line.
summary() {
	echo
	echo "$1 passed, $2 failed, $3 skipped"
}

if [ "$(id -u)" -ne 0 ]; then
	echo "tests/ci.sh: run me as root (the integration tests create containers)" >&2
	exit 1
fi

if [ -z "${HUSK_CI_NO_APT:-}" ]; then
	step "apt-get install ${PACKAGES[*]}"
	ok=0
	for try in 1 2 3; do
		if apt-get update -q && apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"; then
			ok=1
			break
		fi
		echo "apt-get failed (try $try), retrying" >&2
		sleep 5
	done
	if [ $ok -eq 0 ]; then
		echo "tests/ci.sh: could not install the dependencies" >&2
		summary 0 1 0
		exit 1
	fi
fi

step "build"
if ! { ./autogen.sh && ./configure && make -j2; }; then
	echo "tests/ci.sh: the build failed" >&2
	summary 0 1 0
	exit 1
fi

step "make check"
# Serial on purpose: the integration tests share the /husk-test cgroup parent.  The time limit keeps
# a hung container from eating CI's time.
rm -f test-suite.log
find . -name '*.trs' -delete
timeout --kill-after=60 3000 make check
check_status=$?

# Count the results of every test case: automake's .trs files hold one ":test-result:" line per
# TAP line (criterion and bats).  The TAP driver adds an ERROR when a test program exits non-zero;
# that counts as a failure only when no case of that program failed already.
count() {
	find . -name '*.trs' -print0 | xargs -0 -r awk '
		FNR == 1 { if (prev != "" && errors > 0 && fails == 0) failed++; prev = FILENAME; errors = fails = 0 }
		/^:test-result:/ {
			r = $2
			if (r == "PASS" || r == "XFAIL") passed++
			else if (r == "SKIP") skipped++
			else if (r == "ERROR") errors++
			else { failed++; fails++ }
		}
		END {
			if (prev != "" && errors > 0 && fails == 0) failed++
			printf "%d %d %d\n", passed, failed, skipped
		}'
}
read -r passed failed skipped < <(count)
: "${passed:=0}" "${failed:=0}" "${skipped:=0}"

if [ $check_status -ne 0 ] || [ $failed -ne 0 ]; then
	# test-suite.log holds the .log of every failing test file; without it, print those directly
	if [ -f test-suite.log ]; then
		step "test-suite.log"
		cat test-suite.log
	else
		for trs in $(grep -lE '^:test-result: *(FAIL|XPASS|ERROR)' $(find . -name '*.trs') 2>/dev/null); do
			step "${trs%.trs}.log"
			cat "${trs%.trs}.log"
		done
	fi
	# make check failed without a failing test case (a build error in a test, a timeout...)
	[ $failed -ne 0 ] || failed=1
fi

summary $passed $failed $skipped
[ $failed -eq 0 ]
