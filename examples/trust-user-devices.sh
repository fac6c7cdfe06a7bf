#!/usr/bin/env bash
# trust-user-devices.sh - mark every device of a user as trusted.
#
# users/EMAIL/devices/ holds one symlink per device of the user; writing
# `trusted` to a device's `trust` file is one deviceUpdate mutation
# (DESIGN.md §3).  Devices already trusted are left alone, so a second run
# changes nothing.
#
# Usage:   trust-user-devices.sh [-m MOUNT] [-n] EMAIL
#            -m MOUNT  the twingatefs mount point (default: $TGFS_MNT, else ~/tg)
#            -n        dry run: only list what would be trusted
#            EMAIL     the user's folder name under users/ (its email, or
#                      its id for a user without one)
# Example: trust-user-devices.sh ada.lovelace@example.com
# Needs:   bash and a twingatefs mount whose API token may write.
# Exit status: 0 when every device is trusted (or the user has none),
# 1 when the user is unknown or any device could not be trusted.
set -euo pipefail

prog=${0##*/}
die() { printf '%s: %s\n' "$prog" "$*" >&2; exit 1; }
usage() { sed -n '/^# Usage:/,/^# Example:/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

mnt=${TGFS_MNT:-$HOME/tg}
dry=0
while getopts m:nh opt; do
	case $opt in
	m) mnt=$OPTARG ;;
	n) dry=1 ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 1 ;;
	esac
done
shift $((OPTIND - 1))
[[ $# -eq 1 ]] || { usage >&2; exit 1; }
user=$1

[[ -d $mnt/users ]] || die "$mnt does not look like a twingatefs mount (no users/)"
[[ -d $mnt/users/$user ]] || die "no user '$user' in $mnt/users"
[[ -d $mnt/users/$user/devices ]] || die "$mnt/users/$user has no devices/ folder"

shopt -s nullglob dotglob
devices=("$mnt/users/$user/devices"/*)
if [[ ${#devices[@]} -eq 0 ]]; then
	echo "$prog: $user has no devices"
	exit 0
fi

failed=0 changed=0
for dev in "${devices[@]}"; do
	id=${dev##*/}
	# Read through the symlink: devices/<id>/trust and name.
	if ! IFS= read -r trust <"$dev/trust"; then
		echo "$prog: cannot read $dev/trust" >&2
		failed=$((failed + 1))
		continue
	fi
	name=''
	IFS= read -r name <"$dev/name" || true
	if [[ $trust == trusted ]]; then
		echo "already trusted: $id ($name)"
		continue
	fi
	if ((dry)); then
		echo "would trust: $id ($name)"
		continue
	fi
	# The write(2) carries the API's answer: EACCES when the token may not
	# write, EINVAL when the API refuses (message in .twingatefs/errors).
	if echo trusted >"$dev/trust"; then
		echo "trusted: $id ($name)"
		changed=$((changed + 1))
	else
		echo "$prog: could not trust $id ($name); see $mnt/.twingatefs/errors" >&2
		failed=$((failed + 1))
	fi
done

((dry)) && exit 0
echo "$prog: $user: $changed device(s) newly trusted, ${#devices[@]} in all, $failed failed"
((failed == 0)) || exit 1
