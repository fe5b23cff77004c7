#!/usr/bin/env bash
# Installs Debian bookworm's Redis 7.0 (no vector sets) into <repo>/.tools/redis7, for the one test that checks the
# gateway refuses to start a semantic cache on a Redis without vector sets. Downloads the packages without touching
# the system's apt sources; the libraries they need are the ones install-redis8.sh installs (run it first).
#
# Idempotent and non-interactive; must run as root. Prints the path of redis-server when done.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TARGET="$REPO_ROOT/.tools/redis7"
SERVER="$TARGET/bin/redis-server"

log() { echo "install-redis7: $*" >&2; }

if [[ -x "$SERVER" ]] && [[ "$("$SERVER" --version 2>/dev/null)" =~ v=7\. ]]; then
    log "already installed: $("$SERVER" --version)"
    echo "$SERVER"
    exit 0
fi

# shellcheck source=tests/infra/apt-download.sh
source "$REPO_ROOT/tests/infra/apt-download.sh"
WORK="$(mktemp -d /tmp/install-redis7.XXXXXX)"
STAGING="$TARGET.staging.$$"
cleanup() { rm -rf "$WORK" "$STAGING"; }
trap cleanup EXIT

log "downloading redis-server and redis-tools from bookworm"
apt_download bookworm "$WORK/debs" redis-server redis-tools
mkdir -p "$STAGING/root" "$STAGING/bin"
for deb in "$WORK"/debs/*.deb; do
    dpkg-deb -x "$deb" "$STAGING/root"
done
ln -s ../root/usr/bin/redis-server "$STAGING/bin/redis-server"

version="$("$STAGING/bin/redis-server" --version 2>&1)" || {
    log "the unpacked redis-server does not run: $version"
    exit 1
}
if [[ ! "$version" =~ v=7\. ]]; then
    log "expected Redis 7, got: $version"
    exit 1
fi

rm -rf "$TARGET"
mv "$STAGING" "$TARGET"
log "installed: $("$SERVER" --version)"
echo "$SERVER"
