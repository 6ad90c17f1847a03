#!/usr/bin/env bash
# Work on the guest kernel's series as git commits.
#
#   guest-kernel/series.sh tree DIR
#       Extract Debian's linux-source-6.12 into DIR, commit it as the
#       base, and apply guest-kernel/patches on top with git am: one
#       commit per patch.  Edit, commit or rebase there.
#   guest-kernel/series.sh export DIR
#       Write DIR's commits over the base back to guest-kernel/patches
#       with git format-patch (numbered [PATCH NN/N]), keeping the cover
#       letter's subject and text from the current 0000-cover-letter.patch;
#       its shortlog and diffstat are regenerated.  Edit the text for
#       what changed, then run guest-kernel/build.sh.
#
# Commits are made as the series' author, "NUMA migrator developers".
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
patches=$top/guest-kernel/patches
tarball=/usr/src/linux-source-6.12.tar.xz
export GIT_AUTHOR_NAME="NUMA migrator developers"
export GIT_AUTHOR_EMAIL=devel@numa-migrator.invalid
export GIT_COMMITTER_NAME=$GIT_AUTHOR_NAME
export GIT_COMMITTER_EMAIL=$GIT_AUTHOR_EMAIL

usage() {
    sed -n '2,15s/^# \{0,1\}//p' "$0" >&2
    exit 2
}

[ $# -eq 2 ] || usage
dir=$2
case $1 in
tree)
    [ ! -e "$dir" ] || { echo "series.sh: $dir exists" >&2; exit 1; }
    mkdir -p "$dir.tmp"
    tar -C "$dir.tmp" -xf "$tarball"
    mv "$dir.tmp"/linux-source-6.12 "$dir"
    rmdir "$dir.tmp"
    git -C "$dir" init -q
    git -C "$dir" add -A -f .
    # Fixed dates make the commits, and so the patches' From lines, the
    # same in every tree made from the same series.
    GIT_AUTHOR_DATE=2026-01-01T00:00:00Z GIT_COMMITTER_DATE=2026-01-01T00:00:00Z \
        git -C "$dir" commit -q -m "linux 6.12 (Debian's linux-source-6.12)"
    mapfile -t series < <(ls "$patches"/*.patch | grep -v /0000-cover-letter.patch)
    git -C "$dir" am -q --committer-date-is-author-date "${series[@]}"
    echo "series.sh: $dir: $(git -C "$dir" rev-list --count HEAD^) commits over the base"
    ;;
export)
    base=$(git -C "$dir" rev-list --max-parents=0 HEAD)
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    # A fixed abbreviation keeps the index lines of unchanged patches.
    git -C "$dir" -c core.abbrev=7 format-patch -q --cover-letter \
        --numbered -o "$tmp" "$base..HEAD"
    # The cover letter is dated as the newest patch, not as this export.
    python3 - "$patches/0000-cover-letter.patch" \
        "$tmp/0000-cover-letter.patch" \
        "$(git -C "$dir" log -1 --format=%aD)" <<'PY'
import re
import sys

old = open(sys.argv[1]).read().split('\n')
new = open(sys.argv[2]).read()
start = next(i for i, l in enumerate(old) if l.startswith('Subject: '))
end = old.index('', start)
subject = old[start:end]
subject[0] = re.sub(r'^Subject: \[PATCH 00/\d+\] ', '', subject[0])
shortlog = next(i for i, l in enumerate(old)
                if re.match(r'^NUMA migrator developers \(\d+\):$', l))
text = '\n'.join(old[end + 1:shortlog]).rstrip('\n')
new = new.replace('*** SUBJECT HERE ***', '\n'.join(subject), 1)
new = new.replace('*** BLURB HERE ***', text, 1)
new = re.sub(r'^Date: .*$', 'Date: ' + sys.argv[3], new, count=1,
             flags=re.M)
open(sys.argv[2], 'w').write(new)
PY
    rm -f "$patches"/*.patch
    cp "$tmp"/*.patch "$patches"/
    echo "series.sh: wrote $(ls "$patches" | wc -l) files to ${patches#"$top"/}"
    ;;
*)
    usage
    ;;
esac
