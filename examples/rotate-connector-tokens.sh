#!/usr/bin/env bash
# rotate-connector-tokens.sh - give a connector a new pair of tokens and
# write them into the env file its container is started with.
#
# Writing to networks/NET/connectors/NAME/tokens makes twingatefs generate
# a new access/refresh token pair (DESIGN.md §5); the file then reads
#     TWINGATE_ACCESS_TOKEN=...
#     TWINGATE_REFRESH_TOKEN=...
# This script writes ENV_FILE (mode 0600, replaced atomically) with
#     TWINGATE_NETWORK=<tenant>
#     TWINGATE_ACCESS_TOKEN=...
#     TWINGATE_REFRESH_TOKEN=...
# keeping any other lines the file already had (TWINGATE_LABEL_*, ...).
# The tokens only ever pass through shell built-ins: they are never
# printed, never on a command line (argv), never in a file but ENV_FILE.
#
# The old tokens stop working as soon as new ones are generated: recreate
# the connector's container afterwards so it reads the new file, e.g.
#     docker compose up -d --force-recreate twingate-connector
# (`docker restart` does not re-read an --env-file).
#
# Usage:   rotate-connector-tokens.sh [-m MOUNT] [-t TENANT] NETWORK CONNECTOR ENV_FILE
#            -m MOUNT   the twingatefs mount point (default: $TGFS_MNT, else ~/tg)
#            -t TENANT  the tenant's name, `acme` for acme.twingate.com
#                       (default: $TWINGATE_NETWORK, else read from the mount's
#                       /.twingatefs/status)
#            NETWORK, CONNECTOR  names as `ls` shows them (a `/` may be typed
#                       as is: it is shown, and looked up, as `／`)
# Example: rotate-connector-tokens.sh -t acme 'AWS prod' edge-1 /etc/twingate/edge-1.env
# Needs:   bash, coreutils, and a twingatefs mount whose API token has the
#          Read, Write & Provision permission.
# Exit status: 0 when ENV_FILE holds the new tokens, 1 on any error.
set -euo pipefail

prog=${0##*/}
die() { printf '%s: %s\n' "$prog" "$*" >&2; exit 1; }
usage() { sed -n '/^# Usage:/,/^# Example:/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

mnt=${TGFS_MNT:-$HOME/tg}
tenant=${TWINGATE_NETWORK:-}
while getopts m:t:h opt; do
	case $opt in
	m) mnt=$OPTARG ;;
	t) tenant=$OPTARG ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 1 ;;
	esac
done
shift $((OPTIND - 1))
[[ $# -eq 3 ]] || { usage >&2; exit 1; }
net=${1//\//／} conn=${2//\//／} envfile=$3

dir=$mnt/networks/$net/connectors/$conn
[[ -d $mnt/networks ]] || die "$mnt does not look like a twingatefs mount (no networks/)"
[[ -d $mnt/networks/$net ]] || die "no network '$net' in $mnt/networks"
[[ -d $dir ]] || die "no connector '$conn' in $mnt/networks/$net/connectors"
[[ -f $dir/tokens ]] || die "$dir has no tokens file"

# The tenant name the connector needs: from the endpoint the mount uses
# (https://acme.twingate.com/api/graphql/) when not given.
if [[ -z $tenant ]]; then
	if [[ -r $mnt/.twingatefs/status ]]; then
		while IFS= read -r line; do
			if [[ $line =~ ^endpoint:\ https://([a-z0-9-]+)\.twingate\.com/ ]]; then
				tenant=${BASH_REMATCH[1]}
			fi
		done <"$mnt/.twingatefs/status"
	fi
	[[ -n $tenant ]] || die "cannot tell the tenant's name from the mount: give -t TENANT or set TWINGATE_NETWORK"
fi
[[ $tenant =~ ^[a-z0-9-]+$ ]] || die "bad tenant name '$tenant'"

# The new file is made beside ENV_FILE (so the final mv is atomic), 0600
# from the start, before the old tokens are given up.
envdir=$(dirname -- "$envfile")
[[ -d $envdir && -w $envdir ]] || die "cannot write in $envdir"
umask 077
tmp=$(mktemp -- "$envdir/.${envfile##*/}.XXXXXX") || die "cannot create a file in $envdir"
trap 'rm -f -- "$tmp"' EXIT
if [[ -e $envfile ]]; then
	[[ -f $envfile && -r $envfile ]] || die "$envfile is not a readable file"
	while IFS= read -r line || [[ -n $line ]]; do
		case $line in
		TWINGATE_NETWORK=* | TWINGATE_ACCESS_TOKEN=* | TWINGATE_REFRESH_TOKEN=*) ;;
		*) printf '%s\n' "$line" ;;
		esac
	done <"$envfile" >"$tmp"
fi

# Generate.  A refused write fails here (EACCES: the mount's token may not
# provision); the API's message is in $mnt/.twingatefs/errors.
if ! echo >"$dir/tokens"; then
	die "could not generate tokens for $net/$conn (see $mnt/.twingatefs/errors)"
fi

access='' refresh=''
while IFS= read -r line; do
	case $line in
	TWINGATE_ACCESS_TOKEN=?*) access=${line#*=} ;;
	TWINGATE_REFRESH_TOKEN=?*) refresh=${line#*=} ;;
	esac
done <"$dir/tokens"
[[ -n $access && -n $refresh ]] ||
	die "$dir/tokens does not hold both tokens after the write; ENV_FILE left unchanged"

{
	printf 'TWINGATE_NETWORK=%s\n' "$tenant"
	printf 'TWINGATE_ACCESS_TOKEN=%s\n' "$access"
	printf 'TWINGATE_REFRESH_TOKEN=%s\n' "$refresh"
} >>"$tmp"
access='' refresh=''
chmod 600 -- "$tmp"
trap - EXIT
mv -f -- "$tmp" "$envfile" || die "cannot replace $envfile: the new tokens are in $tmp (mode 0600)"
echo "$prog: new tokens for connector '$conn' of network '$net' written to $envfile"
echo "$prog: recreate the connector's container so it reads them (the old tokens no longer work)"
