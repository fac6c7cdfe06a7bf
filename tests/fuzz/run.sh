#!/bin/sh
# tests/fuzz/run.sh [BUILD_DIR] - builds the libFuzzer targets with clang
# (ASan + UBSan, every UBSan finding fatal) and runs each for
# $FUZZ_SECONDS seconds (default 10), one at a time, on a copy of its
# committed corpus (tests/fuzz/corpus/<target>, never written here).
# Prints one line per target (executions, seconds, coverage); exits
# non-zero when any target crashed, leaked, timed out, ran out of memory or
# failed a check.  grow.sh grows the committed corpus.
#
# BUILD_DIR defaults to build-fuzz/ at the top of the tree (git-ignored).
# Environment:
#   FUZZ_SECONDS=N      seconds per target (default 10)
#   FUZZ_TARGETS="a b"  the targets to run (default: all)
#   FUZZ_KEEP_CORPUS=1  keep growing BUILD_DIR/corpus/<target> across runs
#                       (default: start again from the committed seeds)
#   FUZZ_ARGS="..."     extra libFuzzer flags for every target
#   FUZZ_BUILD_ONLY=1   build, do not run
#   CC=clang-14         the compiler (default clang)
# Needs only Debian's clang, libcjson-dev, libcurl4-openssl-dev, zlib1g-dev,
# libfuse3-dev and uthash-dev; no network.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${1:-$top/build-fuzz}
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
seconds=${FUZZ_SECONDS:-10}
all_targets="names object values json_diff response path"
targets=${FUZZ_TARGETS:-$all_targets}
CC=${CC:-clang}

command -v "$CC" >/dev/null || { echo "run.sh: no $CC (apt-get install clang)" >&2; exit 2; }
deps_cflags=$(pkg-config --cflags libcjson libcurl fuse3 zlib) ||
	{ echo "run.sh: pkg-config cannot find libcjson, libcurl, fuse3 or zlib" >&2; exit 2; }
deps_libs="$(pkg-config --libs libcjson libcurl fuse3 zlib) -lpthread -lm"

san="-fsanitize=address,undefined -fno-sanitize-recover=all"
# The quotes in -DTG_VERSION="fuzz" are meant to reach the compiler.
# shellcheck disable=SC2089
cflags="-g -O1 -fno-omit-frame-pointer -std=gnu11 -D_GNU_SOURCE
	-DTG_VERSION=\"fuzz\" -I$top/api -I$top/cache -I$top/fs $deps_cflags"

mkdir -p "$build/obj"
# Other flags (another compiler, say): build everything again.
stamp="$CC $san $cflags"
if [ "$(cat "$build/obj/flags" 2>/dev/null)" != "$stamp" ]; then
	rm -f "$build/obj/"*.o
	printf '%s' "$stamp" >"$build/obj/flags"
fi

# The sources each library is built from, as meson builds them.
sources() { # dir [exclude]
	grep -o "'[A-Za-z0-9_]*\.c'" "$top/$1/meson.build" | tr -d "'" |
		grep -vx "${2:-}" || true
}

# Rebuilds $2 from $1 when it is missing or older than the source or any
# header under the folders $4.
compile() { # src obj extra-flags dirs
	# shellcheck disable=SC2086
	if [ -f "$2" ] && [ -z "$(find "$1" $4 -name '*.[ch]' -newer "$2" \
		2>/dev/null | head -n 1)" ]; then
		return 0
	fi
	echo "  CC $(echo "$1" | sed "s|^$top/||")" >&2
	# shellcheck disable=SC2086,SC2090
	$CC $cflags $san $3 -c "$1" -o "$2"
}

echo "building the fuzz targets in $build" >&2
for lib in api cache fs; do
	objs=
	exclude=
	[ "$lib" = fs ] && exclude=main.c
	for src in $(sources "$lib" "$exclude"); do
		obj="$build/obj/$lib-${src%.c}.o"
		compile "$top/$lib/$src" "$obj" "-fsanitize=fuzzer-no-link" \
			"$top/api $top/cache $top/fs"
		objs="$objs $obj"
	done
	rm -f "$build/libtg$lib.a"
	# shellcheck disable=SC2086
	ar rcs "$build/libtg$lib.a" $objs
done

wraps() {
	case $1 in
	response) echo "-Wl,--wrap=http_post,--wrap=clock_nanosleep" ;;
	path) echo "-Wl,--wrap=tg_api_list,--wrap=tg_api_list_partial,--wrap=tg_api_list_with,--wrap=tg_api_lookup,--wrap=tg_api_mutate,--wrap=tg_api_update,--wrap=tg_api_create,--wrap=kcache_new,--wrap=pthread_create" ;;
	*) echo "" ;;
	esac
}

# The fixed tenant served with no network (tests/fixture), for path.
compile "$top/tests/fixture/tenant.c" "$build/obj/fixture-tenant.o" \
	"-fsanitize=fuzzer-no-link -Wall -Wextra" "$top/api $top/tests/fixture"

extra() {
	case $1 in
	path) echo "$build/obj/fixture-tenant.o" ;;
	*) echo "" ;;
	esac
}

for t in $targets; do
	[ -f "$here/fuzz_$t.c" ] || { echo "run.sh: no target $t" >&2; exit 2; }
	compile "$here/fuzz_$t.c" "$build/obj/fuzz_$t.o" \
		"-fsanitize=fuzzer-no-link -Wall -Wextra -Wno-missing-field-initializers -DFUZZ_TENANT_FILE=\"$here/tenant.json\"" \
		"$top/api $top/cache $top/fs $here $top/tests/unit/canned.h"
	# shellcheck disable=SC2086,SC2046
	$CC $san -fsanitize=fuzzer "$build/obj/fuzz_$t.o" $(extra "$t") $(wraps "$t") \
		"$build/libtgfs.a" "$build/libtgcache.a" "$build/libtgapi.a" \
		$deps_libs -o "$build/fuzz_$t"
done
[ "${FUZZ_BUILD_ONLY:-}" = 1 ] && exit 0

# libFuzzer flags per target: longest input, dictionary.
max_len() {
	case $1 in
	object|response) echo 65536 ;;
	json_diff|path) echo 16384 ;;
	values) echo 6000 ;;
	*) echo 4096 ;;
	esac
}

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
failed=0
for t in $targets; do
	work=$build/corpus/$t
	arts=$build/artifacts/$t
	log=$build/logs/$t.log
	if [ "${FUZZ_KEEP_CORPUS:-}" != 1 ]; then
		rm -rf "$work"
	fi
	mkdir -p "$work" "$arts" "$build/logs"
	if [ -d "$here/corpus/$t" ]; then
		cp -pR "$here/corpus/$t/." "$work/"
	fi
	dict=
	[ -f "$here/$t.dict" ] && dict="-dict=$here/$t.dict"
	start=$(date +%s)
	rc=0
	# shellcheck disable=SC2086
	(cd "$build" && "$build/fuzz_$t" "$work" $dict \
		-max_total_time="$seconds" -max_len="$(max_len "$t")" \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$arts/" ${FUZZ_ARGS:-}) >"$log" 2>&1 || rc=$?
	end=$(date +%s)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	# Coverage at the end: edges (cov) and features (ft) of the last
	# status line.
	cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -n 1 |
		sed 's/cov: \([0-9]*\) ft: \([0-9]*\)/cov=\1 ft=\2/')
	if [ "$rc" = 0 ]; then
		result=ok
	else
		failed=1
		what=$(grep -m 1 -o -E 'ERROR: libFuzzer: [a-z-]+|ERROR: (Address|Leak|Undefined)Sanitizer: [a-zA-Z-]+|runtime error: .*|fuzz check failed: .*' "$log" | head -n 1)
		art=$(sed -n 's/.*Test unit written to \(.*\)/\1/p' "$log" | head -n 1)
		result="FAILED (exit $rc): ${what:-see log} ${art:+[$art]} [log: $log]"
	fi
	printf '%-10s execs=%-10s seconds=%-5s %-20s %s\n' "$t" "${execs:-?}" \
		"$((end - start))" "${cov:-cov=? ft=?}" "$result"
done
exit $failed
