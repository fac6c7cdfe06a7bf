#!/usr/bin/env bash
# grant-group-access.sh - give a group access to a list of resources.
#
# A group's access to a resource is the folder resources/R/access/groups/G
# (an access edge, with its settings), made by `ln -s ../../../../groups/G`
# into resources/R/access/groups/: one resourceAccessAdd (DESIGN.md §3).
# Edges that are already there are skipped, so the script is idempotent:
# run it again with the same list and nothing changes.
#
# Usage:   grant-group-access.sh [-m MOUNT] [-n] GROUP [RESOURCE...]
#            -m MOUNT  the twingatefs mount point (default: $TGFS_MNT, else ~/tg)
#            -n        dry run: only list what would be granted
#            GROUP     the group's name as `ls groups` shows it
#            RESOURCE  resource names as `ls resources` shows them; when none
#                      is given they are read from stdin, one a line (blank
#                      lines and lines starting with # are skipped).
#            A `/` in a name may be typed as is: it is shown as `／`.
# Example: printf '%s\n' prod-db grafana | grant-group-access.sh 'Ops / SRE'
# Needs:   bash and a twingatefs mount whose API token may write.
# Exit status: 0 when the group has access to every resource listed,
# 1 when the group is unknown or any resource is unknown or refused.
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
[[ $# -ge 1 ]] || { usage >&2; exit 1; }
group=${1//\//／}
shift

[[ -d $mnt/resources && -d $mnt/groups ]] || die "$mnt does not look like a twingatefs mount (no resources/ or groups/)"
[[ -n $group && -d $mnt/groups/$group ]] || die "no group '$group' in $mnt/groups"

resources=()
if [[ $# -gt 0 ]]; then
	resources=("$@")
else
	while IFS= read -r line || [[ -n $line ]]; do
		[[ -z ${line//[[:space:]]/} || $line == '#'* ]] && continue
		resources+=("$line")
	done
fi
[[ ${#resources[@]} -gt 0 ]] || die "no resources given (as arguments or on stdin)"

failed=0 added=0 present=0
for r in "${resources[@]}"; do
	r=${r//\//／}
	dir=$mnt/resources/$r/access/groups
	if [[ ! -d $mnt/resources/$r ]]; then
		echo "$prog: no resource '$r' in $mnt/resources" >&2
		failed=$((failed + 1))
		continue
	fi
	# An access edge is a folder (DESIGN.md §2); a link before 2026.
	if [[ -e $dir/$group || -L $dir/$group ]]; then
		echo "already granted: $r"
		present=$((present + 1))
		continue
	fi
	if ((dry)); then
		echo "would grant: $r"
		continue
	fi
	# ln's error is the API's answer (EACCES: the token may not write,
	# EINVAL: refused; the message is in .twingatefs/errors).
	if ln -s -- "../../../../groups/$group" "$dir/$group"; then
		echo "granted: $r"
		added=$((added + 1))
	else
		echo "$prog: could not grant '$group' access to '$r'; see $mnt/.twingatefs/errors" >&2
		failed=$((failed + 1))
	fi
done

((dry)) && exit 0
echo "$prog: $group: $added granted, $present already granted, $failed failed"
((failed == 0)) || exit 1
