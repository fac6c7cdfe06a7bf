#!/usr/bin/env bash
# nightly-backup.sh - snapshot a twingatefs mount into a git repository.
#
# Copies the whole tenant tree with `rsync -a --delete` into REPO (a git
# work tree; `git init` is run when REPO is not one yet) and commits what
# changed, so `git log -p REPO` is the history of the tenant's settings.
# When nothing changed, no commit is made.  Because twingatefs keeps sizes
# and mtimes stable (DESIGN.md §6), an unchanged tenant copies no file.
#
# Usage:   nightly-backup.sh [-m MOUNT] REPO
#            -m MOUNT  the twingatefs mount point (default: $TGFS_MNT, else ~/tg)
#            REPO      the git work tree to copy into (default: $TGFS_BACKUP_REPO)
# Cron:    15 2 * * *  /path/to/nightly-backup.sh -m "$HOME/tg" "$HOME/tenant-backup"
# Needs:   bash, rsync, git, util-linux (mountpoint), and a mounted twingatefs;
#          a read-only API token and `-o ro` are enough.
#
# Secrets are never copied: connectors' `tokens` and service keys' `token`
# files are excluded (they only hold something on the mount that made them).
# Exit status: 0 when a commit was made or nothing changed, 1 on any error
# (then nothing is committed).
set -euo pipefail

prog=${0##*/}
die() { printf '%s: %s\n' "$prog" "$*" >&2; exit 1; }
usage() { sed -n '/^# Usage:/,/^# Cron:/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

mnt=${TGFS_MNT:-$HOME/tg}
while getopts m:h opt; do
	case $opt in
	m) mnt=$OPTARG ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 1 ;;
	esac
done
shift $((OPTIND - 1))
repo=${1:-${TGFS_BACKUP_REPO:-}}
[[ -n $repo && $# -le 1 ]] || { usage >&2; exit 1; }

command -v rsync >/dev/null || die "rsync is not installed"
command -v git >/dev/null || die "git is not installed"

# Never sync an empty folder over the backup: an unmounted mount point
# would make rsync --delete remove every file of the copy.
mountpoint -q -- "$mnt" || die "$mnt is not a mount point (mount twingatefs there first)"
[[ -d $mnt/networks ]] || die "$mnt does not look like a twingatefs mount (no networks/)"

mkdir -p -- "$repo"
if ! git -C "$repo" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git -C "$repo" init -q || die "cannot create a git repository in $repo"
	echo "$prog: created a git repository in $repo"
fi
top=$(git -C "$repo" rev-parse --show-toplevel)

# /.git is excluded, so --delete leaves it alone.  Exit status 24 ("some
# files vanished") only means the tenant changed during the copy.
rc=0
rsync -a --delete \
	--exclude=/.git \
	--exclude='/networks/*/connectors/*/tokens' \
	--exclude='/service-accounts/*/keys/*/token' \
	-- "$mnt/" "$top/" || rc=$?
case $rc in
0) ;;
24) echo "$prog: warning: some files vanished during the copy (the tenant changed meanwhile)" >&2 ;;
*) die "rsync from $mnt failed (exit status $rc); nothing committed" ;;
esac
[[ -d $top/networks ]] || die "the copy in $top has no networks/; nothing committed"

git -C "$top" add -A
if git -C "$top" diff --cached --quiet; then
	echo "$prog: no changes since the last backup"
	exit 0
fi

# Cron jobs often have no git identity: supply one only when none is set.
ident=()
git -C "$top" config user.email >/dev/null ||
	ident=(-c user.name="twingatefs backup" -c "user.email=twingatefs-backup@$(hostname)")
summary=$(git -C "$top" diff --cached --shortstat)
git -C "$top" "${ident[@]}" commit -q \
	-m "twingatefs backup $(date -u +%Y-%m-%dT%H:%M:%SZ)" -m "${summary# }" ||
	die "git commit in $top failed"
echo "$prog: committed $(git -C "$top" rev-parse --short HEAD):${summary}"
