#!/usr/bin/env bash
# deps.sh - installs what building and testing twingatefs needs, on Debian,
# as root.  Only what is missing is installed.  Sourced by demo.sh and
# test.sh; safe to run again.
set -euo pipefail

TGFS_PACKAGES=(gcc meson ninja-build pkg-config fuse3 libfuse3-dev
	libcurl4-openssl-dev libcjson-dev zlib1g-dev uthash-dev libcmocka-dev
	ca-certificates curl rsync vim-nox python3 valgrind clang libclang-rt-dev
	patch)

tgfs_install_deps() {
	local missing=() p
	for p in "${TGFS_PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing+=("$p")
	done
	# Node.js for the simulator: only where it is missing.  A vendor
	# nodejs package may bundle npm, and Debian's npm conflicts with it.
	if ! command -v node >/dev/null; then
		missing+=(nodejs)
		command -v npm >/dev/null || missing+=(npm)
	fi
	if ((${#missing[@]})); then
		if [ "$(id -u)" != 0 ]; then
			echo "missing packages: ${missing[*]} (run as root to install)" >&2
			return 1
		fi
		echo "installing: ${missing[*]}"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends "${missing[@]}" >/dev/null
	fi
	command -v npm >/dev/null || { echo "npm is missing" >&2; return 1; }
	# The simulator's own packages, exactly as locked.
	if [ ! -d tests/sim/node_modules ] ||
		[ tests/sim/package-lock.json -nt tests/sim/node_modules ]; then
		(cd tests/sim && npm ci --no-audit --no-fund --loglevel=error)
	fi
}

# Builds (or rebuilds) build dir $1 with extra meson options after it.
tgfs_build() {
	local dir=$1
	shift
	[ -f "$dir/build.ninja" ] || meson setup "$dir" "$@" >/dev/null
	ninja -C "$dir" >/dev/null
}
