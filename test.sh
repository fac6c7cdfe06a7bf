#!/usr/bin/env bash
# test.sh - runs every test of twingatefs: unit (cmocka), simulator (node),
# integration (real FUSE mounts against the simulator), the unit tests
# under valgrind memcheck, then the unit and integration tests again on a
# build with AddressSanitizer and UndefinedBehaviorSanitizer.  Installs
# what is missing first (root).
# Ends with one line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")"
. tests/deps.sh
tgfs_install_deps || exit 1

logs=$(mktemp -d /tmp/tgfs-test-logs.XXXXXX)
passed=0
failed=0
broken=()
# Whatever stops this script early still ends with the counts, one more
# failure among them, and a non-zero status.
trap 'echo "test.sh stopped early"; echo "$passed passed, $((failed + 1)) failed"; exit 1' EXIT

# Adds the counts of a cmocka run (its output in $2) for suite $1.
count_cmocka() {
	local p f
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$2" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$2" | tail -1)
	if [ -z "$p$f" ]; then
		broken+=("$1")
		failed=$((failed + 1))
		return
	fi
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
}

# Adds the counts of a node --test run (TAP in $2) for suite $1.
count_node() {
	local p f
	p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$2" | tail -1)
	f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$2" | tail -1)
	if [ -z "$p" ]; then
		broken+=("$1")
		failed=$((failed + 1))
		return
	fi
	passed=$((passed + p))
	failed=$((failed + ${f:-0}))
}

run_unit() { # build dir, label
	local t name
	for t in "$1"/tests/unit/test_*; do
		[ -f "$t" ] && [ -x "$t" ] || continue
		name="$2/$(basename "$t")"
		echo "== $name"
		"$t" >"$logs/unit.out" 2>&1
		local rc=$?
		cat "$logs/unit.out"
		if grep -q 'runtime error:\|ERROR: AddressSanitizer\|ERROR: LeakSanitizer' "$logs/unit.out"; then
			broken+=("$name (sanitizer report)")
			failed=$((failed + 1))
		elif [ $rc -ne 0 ] && ! grep -q '^\[  FAILED  \]' "$logs/unit.out"; then
			broken+=("$name (exit $rc)")
			failed=$((failed + 1))
		fi
		count_cmocka "$name" "$logs/unit.out"
	done
}

# The unit tests again under valgrind memcheck: any error or definite
# leak fails the suite (one failure per test program).
run_valgrind() { # build dir
	local t name
	for t in "$1"/tests/unit/test_*; do
		[ -f "$t" ] && [ -x "$t" ] || continue
		name="valgrind/$(basename "$t")"
		echo "== $name"
		if valgrind -q --error-exitcode=99 --leak-check=full \
			--errors-for-leak-kinds=definite \
			--show-leak-kinds=definite "$t" >"$logs/vg.out" 2>&1; then
			passed=$((passed + 1))
		else
			cat "$logs/vg.out"
			broken+=("$name")
			failed=$((failed + 1))
		fi
	done
}

# Every libFuzzer target briefly (FUZZ_SECONDS, 5 s here) from its
# committed corpus (tests/fuzz/corpus, only read); one pass or failure per
# target.
run_fuzz() {
	local line
	echo "== fuzz"
	FUZZ_SECONDS=${FUZZ_SECONDS:-5} tests/fuzz/run.sh build-fuzz \
		>"$logs/fuzz.out" 2>&1
	cat "$logs/fuzz.out"
	while read -r line; do
		case $line in
		*" ok") passed=$((passed + 1)) ;;
		*execs=*) broken+=("fuzz: $line"); failed=$((failed + 1)) ;;
		esac
	done <"$logs/fuzz.out"
	if ! grep -q 'execs=' "$logs/fuzz.out"; then
		broken+=("fuzz (did not run)")
		failed=$((failed + 1))
	fi
}

run_node() { # label, dir of tests, env...
	local label=$1 dir=$2
	shift 2
	echo "== $label"
	env "$@" node --test --test-reporter=spec --test-reporter-destination=stdout \
		--test-reporter=tap --test-reporter-destination="$logs/$label.tap" \
		"$dir"/*.test.mjs
	count_node "$label" "$logs/$label.tap"
}

# The read tests again with about 10% of API requests faulted at random
# (tests/integration/README.md, "Fault mode").
run_faults() {
	echo "== integration-faults (TGFS_FAULTS=1)"
	env TGFS_FAULTS=1 TWINGATEFS_BIN="$PWD/build/fs/twingatefs" \
		node --test --test-reporter=spec --test-reporter-destination=stdout \
		--test-reporter=tap \
		--test-reporter-destination="$logs/integration-faults.tap" \
		tests/integration/read.test.mjs tests/integration/tree.test.mjs \
		tests/integration/rsync.test.mjs
	count_node integration-faults "$logs/integration-faults.tap"
}

tgfs_build build || { echo "build failed"; exit 1; }
run_unit build unit
run_valgrind build
run_fuzz
run_node simulator tests/sim/test
run_node integration tests/integration TWINGATEFS_BIN="$PWD/build/fs/twingatefs"
run_faults

if [ "${TGFS_SKIP_SANITIZERS:-0}" != 1 ]; then
	if tgfs_build build-asan -Db_sanitize=address,undefined -Db_lundef=false \
		-Dc_args=-fno-sanitize-recover=undefined; then
		export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
		run_unit build-asan unit-asan
		run_node integration-asan tests/integration \
			TWINGATEFS_BIN="$PWD/build-asan/fs/twingatefs"
	else
		broken+=("sanitizer build")
		failed=$((failed + 1))
	fi
fi

trap - EXIT
rm -rf "$logs"
for b in "${broken[@]}"; do echo "broken: $b"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
