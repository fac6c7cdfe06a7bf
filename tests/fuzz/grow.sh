#!/bin/sh
# tests/fuzz/grow.sh [BUILD_DIR] - grows the committed corpus: runs each
# target (run.sh, $FUZZ_SECONDS seconds, default 600) on its working corpus
# BUILD_DIR/corpus/<target>, which is kept across runs and starts from
# tests/fuzz/corpus/<target>, then minimises what it found into
# tests/fuzz/corpus/<target> with libFuzzer's -set_cover_merge=1.
#
# The committed corpus is the hand-written seeds (readable names, kept as
# they are: each is a case or a bug found) plus the inputs the fuzzer found
# (named by their SHA-1, as libFuzzer names them).  A merge starts from the
# seeds alone and takes, out of the inputs found before and the working
# corpus, a small set that adds all the coverage they add (features, as
# libFuzzer counts them; -set_cover_merge=1, a greedy set cover: for
# response 316 inputs and 744 KB where -merge=1 kept 492 and 1,045 KB), so
# the found inputs are replaced by a minimal set each time.  The working
# corpus becomes that set too.
#
# A target that fails (crash, leak, timeout, a check) leaves its committed
# corpus alone; the input is in BUILD_DIR/artifacts/<target>/.  Prints
# run.sh's line, then the corpus before and after (files, bytes).  Commit
# the result with git (git add -A tests/fuzz/corpus).
#
# Environment: FUZZ_SECONDS (default 600; 0: merge only, no run),
# FUZZ_TARGETS, FUZZ_ARGS, CC as run.sh.  Run it when nothing else needs
# the cores (nice -n 19).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${1:-$top/build-fuzz}
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
targets=${FUZZ_TARGETS:-names object values json_diff response path}
export FUZZ_SECONDS="${FUZZ_SECONDS:-600}"

FUZZ_BUILD_ONLY=1 FUZZ_TARGETS="$targets" "$here/run.sh" "$build"

# Files and bytes of folder $1.
size() {
	printf '%s files, %s bytes' "$(find "$1" -type f | wc -l)" \
		"$(find "$1" -type f -exec cat {} + | wc -c)"
}

# The names libFuzzer gives what it finds.
found() { # dir
	find "$1" -maxdepth 1 -type f | grep -E '/[0-9a-f]{40}$' || true
}

failed=0
for t in $targets; do
	committed=$here/corpus/$t
	mkdir -p "$committed"
	before=$(size "$committed")
	if [ "$FUZZ_SECONDS" = 0 ]; then
		mkdir -p "$build/corpus/$t"
	elif ! FUZZ_KEEP_CORPUS=1 FUZZ_TARGETS=$t "$here/run.sh" "$build"; then
		failed=1
		echo "$t: failed, $committed left as it was"
		continue
	fi
	# The seeds, then what adds to them out of the found inputs before
	# and the working corpus.
	merged=$build/merge/$t
	old=$build/merge/$t.old
	rm -rf "$merged" "$old"
	mkdir -p "$merged" "$old"
	find "$committed" -maxdepth 1 -type f | grep -Ev '/[0-9a-f]{40}$' |
		while read -r f; do cp -p "$f" "$merged/"; done
	for f in $(found "$committed"); do cp -p "$f" "$old/"; done
	# (The inputs found are within run.sh's -max_len already.)
	(cd "$build" && "$build/fuzz_$t" -set_cover_merge=1 "$merged" "$old" \
		"$build/corpus/$t") >"$build/logs/$t.merge.log" 2>&1 || {
		failed=1
		echo "$t: merge failed [log: $build/logs/$t.merge.log]"
		continue
	}
	for f in $(found "$committed"); do rm -f "$f"; done
	for f in $(found "$merged"); do cp -p "$f" "$committed/"; done
	rm -rf "$build/corpus/$t"
	cp -pR "$merged" "$build/corpus/$t"
	echo "$t: corpus $before -> $(size "$committed")"
done
exit $failed
