#!/usr/bin/env bash
# demo.sh - builds twingatefs, starts the simulated tenant, mounts it and
# shows it.  Leaves it mounted; "./demo.sh stop" unmounts and stops the
# simulator.  As root on Debian 12 it installs what is missing first.
#
#   ./demo.sh [MOUNTPOINT]      (default /tmp/twingatefs-demo/mnt)
#   ./demo.sh stop
set -euo pipefail
cd "$(dirname "$0")"
state=/tmp/twingatefs-demo

stop() {
	if [ -f "$state/mountpoint" ]; then
		local mp
		mp=$(cat "$state/mountpoint")
		if grep -qs " $mp fuse" /proc/mounts; then
			fusermount3 -u "$mp" 2>/dev/null || fusermount3 -uz "$mp"
		fi
	fi
	if [ -f "$state/sim.pid" ]; then
		kill "$(cat "$state/sim.pid")" 2>/dev/null || true
	fi
	rm -f "$state/sim.pid" "$state/mountpoint" "$state/url"
}

if [ "${1:-}" = stop ]; then
	stop
	echo "unmounted, simulator stopped"
	exit 0
fi

. tests/deps.sh
tgfs_install_deps
echo "building..."
tgfs_build build

stop # a previous demo, if any
mkdir -p "$state"
mp=${1:-$state/mnt}
mkdir -p "$mp"
mp=$(cd "$mp" && pwd)

# The simulated tenant, in the background, on a free loopback port.
setsid node tests/sim/server.mjs --size small >"$state/url" 2>"$state/sim.log" &
echo $! >"$state/sim.pid"
for _ in $(seq 100); do
	[ -s "$state/url" ] && break
	sleep 0.1
done
url=$(head -1 "$state/url")
[ -n "$url" ] || { echo "the simulator did not start:"; cat "$state/sim.log"; exit 1; }

# The token goes in a file only we can read, never on the command line.
umask 077
echo sim-provision >"$state/token"
./build/fs/twingatefs "$mp" -o "url=$url,api_token_file=$state/token"
echo "$mp" >"$state/mountpoint"

show() {
	echo
	echo "\$ $*"
	(cd "$mp" && eval "$@")
}
echo
echo "A simulated Twingate tenant ($url) is mounted on $mp"
show ls
show ls -l networks
show "ls 'networks/AWS prod'"
show "cat 'networks/AWS prod/location' 'networks/AWS prod/updated-at'"
show "ls 'networks/AWS prod/connectors'"
show "cat 'networks/AWS prod/connectors/'*/state"
show "cat 'networks/AWS prod/object.json'"
cat <<MSG

Look around:   cd $mp && ls -R | less
Unmount:       ./demo.sh stop      (or: fusermount3 -u $mp)
MSG
