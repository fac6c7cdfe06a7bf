#!/usr/bin/env bash
# offline-connectors.sh - list the connectors that are not alive.
#
# Reads networks/*/connectors/*/state (the API's ConnectorState in lower
# case: alive, dead_no_heartbeat, dead_heartbeat_too_old,
# dead_no_relays; DESIGN.md §2) and prints one line, tab-separated, per
# connector whose state is not `alive`:
#     NETWORK <tab> CONNECTOR <tab> STATE <tab> LAST-HEARTBEAT-AT
# Names are the folder names (as `ls` shows them); an empty last column
# means the connector never sent a heartbeat.  Hidden names (.name) count.
#
# Usage:   offline-connectors.sh [-m MOUNT]
#            -m MOUNT  the twingatefs mount point (default: $TGFS_MNT, else ~/tg)
# Example: offline-connectors.sh >/tmp/offline || mail -s "connectors down" ops </tmp/offline
# Needs:   bash and a twingatefs mount (a read-only API token is enough).
# Exit status: 0 when every connector is alive, 2 when some are not (they
# are listed), 1 on any error.
set -euo pipefail

prog=${0##*/}
die() { printf '%s: %s\n' "$prog" "$*" >&2; exit 1; }
usage() { sed -n '/^# Usage:/,/^# Example:/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

mnt=${TGFS_MNT:-$HOME/tg}
while getopts m:h opt; do
	case $opt in
	m) mnt=$OPTARG ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 1 ;;
	esac
done
shift $((OPTIND - 1))
[[ $# -eq 0 ]] || { usage >&2; exit 1; }
[[ -d $mnt/networks ]] || die "$mnt does not look like a twingatefs mount (no networks/)"

# A listing that fails (EIO: API unreachable and nothing cached) must be
# an error, not "no connectors"; a glob would hide it, `ls` does not.
ls -A -- "$mnt/networks" >/dev/null || die "cannot list $mnt/networks"
shopt -s nullglob dotglob
offline=0
for net in "$mnt"/networks/*/; do
	ls -A -- "${net}connectors" >/dev/null || die "cannot list ${net}connectors"
	for conn in "${net}connectors"/*/; do
		state='' seen=''
		IFS= read -r state <"${conn}state" || die "cannot read ${conn}state"
		IFS= read -r seen <"${conn}last-heartbeat-at" || true
		if [[ $state != alive ]]; then
			n=${net%/} c=${conn%/}
			printf '%s\t%s\t%s\t%s\n' "${n##*/}" "${c##*/}" "$state" "$seen"
			offline=$((offline + 1))
		fi
	done
done
((offline == 0)) || exit 2
