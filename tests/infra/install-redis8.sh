#!/usr/bin/env bash
# Installs Redis 8 (with vector sets: VADD/VSIM) into <repo>/.tools/redis8 without touching the
# system's apt sources or its libc.
#
# Debian bookworm ships Redis 7.0, which has no vector sets. Debian trixie ships Redis 8, but its
# binaries need trixie's glibc and libstdc++. So this script downloads those few trixie packages with a
# private apt configuration (the machine's own package mirror, suite trixie), unpacks them into the
# repo, and writes wrappers that run the binaries through trixie's dynamic loader. The remaining
# libraries (libjemalloc2, liblzf1, libatomic1, libssl3, libsystemd0) come from bookworm.
#
# Idempotent and non-interactive; must run as root (it may apt-get install the bookworm libraries).
# Prints the path of the redis-server wrapper when done.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TARGET="$REPO_ROOT/.tools/redis8"
WRAPPER="$TARGET/bin/redis-server"
SUITE="trixie"
TRIXIE_PACKAGES=(redis-server redis-tools libc6 libstdc++6 libgcc-s1)
BOOKWORM_LIBRARIES=(libjemalloc2 liblzf1 libatomic1 libssl3 libsystemd0)

log() { echo "install-redis8: $*" >&2; }

is_installed() {
    [[ -x "$WRAPPER" && -x "$TARGET/bin/redis-cli" ]] || return 1
    local version
    version="$("$WRAPPER" --version 2>/dev/null)" || return 1
    [[ "$version" =~ v=8\. ]]
}

if is_installed; then
    log "already installed: $("$WRAPPER" --version)"
    echo "$WRAPPER"
    exit 0
fi

if [[ "$(id -u)" -ne 0 ]]; then
    log "must run as root (it installs bookworm libraries with apt-get)"
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive

# --- bookworm libraries the trixie binaries link against --------------------------------------
missing=()
for package in "${BOOKWORM_LIBRARIES[@]}"; do
    if [[ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null)" != "install ok installed" ]]; then
        missing+=("$package")
    fi
done
if ((${#missing[@]} > 0)); then
    # Package lists are empty on a fresh machine; refresh them only when apt cannot see a candidate.
    # (Output is captured before matching: with pipefail, grep -q closing the pipe early fails the test.)
    for package in "${missing[@]}"; do
        if [[ ! "$(apt-cache policy "$package" 2>/dev/null)" =~ Candidate:\ [0-9] ]]; then
            log "apt-get update"
            apt-get update -qq
            break
        fi
    done
    log "apt-get install ${missing[*]}"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- private apt configuration pointing at trixie on the machine's own mirror -----------------
SOURCES_FILE="/etc/apt/sources.list.d/debian.sources"
if [[ ! -r "$SOURCES_FILE" ]]; then
    log "cannot read $SOURCES_FILE (needed to find this machine's Debian mirror)"
    exit 1
fi
CODENAME="$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")"
# The URI of the stanza that serves the main suite (not -updates/-security only).
MIRROR_URI="$(awk -v codename="$CODENAME" 'BEGIN { RS = ""; FS = "\n" }
    {
        uri = ""; suites = ""
        for (i = 1; i <= NF; i++) {
            if ($i ~ /^URIs:/)   { sub(/^URIs:[ \t]*/, "", $i);   uri = $i }
            if ($i ~ /^Suites:/) { sub(/^Suites:[ \t]*/, "", $i); suites = " " $i " " }
        }
        if (uri != "" && index(suites, " " codename " ") > 0) { split(uri, u, " "); print u[1]; exit }
    }' "$SOURCES_FILE")"
if [[ -z "$MIRROR_URI" ]]; then
    log "no stanza for suite '$CODENAME' with a URIs: field in $SOURCES_FILE"
    exit 1
fi
KEYRING="/usr/share/keyrings/debian-archive-keyring.gpg"

WORK="$(mktemp -d /tmp/install-redis8.XXXXXX)"
STAGING="$TARGET.staging.$$"
cleanup() { rm -rf "$WORK" "$STAGING"; }
trap cleanup EXIT

mkdir -p "$WORK/lists/partial" "$WORK/cache/archives/partial" "$WORK/debs"
cat >"$WORK/trixie.sources" <<EOF
Types: deb
URIs: $MIRROR_URI
Suites: $SUITE
Components: main
Targets: Packages
Signed-By: $KEYRING
EOF
# Only the sources, lists, cache and preferences are private: the rest of the machine's apt
# configuration (how it reaches its mirror) still applies.
APT_OPTIONS=(
    -o "Dir::Etc::SourceList=$WORK/trixie.sources"
    -o "Dir::Etc::SourceParts=/dev/null"
    -o "Dir::Etc::Preferences=/dev/null"
    -o "Dir::Etc::PreferencesParts=/dev/null"
    -o "Dir::State::Lists=$WORK/lists"
    -o "Dir::Cache=$WORK/cache"
    -o "Dir::Cache::pkgcache="
    -o "Dir::Cache::srcpkgcache="
    -o "APT::Sandbox::User=root"
    -o "Acquire::Languages=none"
)
log "downloading ${TRIXIE_PACKAGES[*]} from $SUITE"
apt-get "${APT_OPTIONS[@]}" update -qq
(cd "$WORK/debs" && apt-get "${APT_OPTIONS[@]}" download -qq "${TRIXIE_PACKAGES[@]}")

# --- unpack and write the wrappers --------------------------------------------------------------
rm -rf "$STAGING"
mkdir -p "$STAGING/root" "$STAGING/bin"
for deb in "$WORK"/debs/*.deb; do
    dpkg-deb -x "$deb" "$STAGING/root"
done

TRIXIE_LIB="$STAGING/root/usr/lib/x86_64-linux-gnu"
if [[ ! -e "$TRIXIE_LIB/ld-linux-x86-64.so.2" ]]; then
    log "trixie's loader was not found at ${TRIXIE_LIB#"$STAGING/"}/ld-linux-x86-64.so.2"
    exit 1
fi

for program in redis-server redis-cli; do
    if [[ ! -e "$STAGING/root/usr/bin/$program" ]]; then
        log "$program is missing from the downloaded packages"
        exit 1
    fi
    # The loader is started through a link named after the program: the kernel names a process
    # after the file it executes, so ps/pgrep show "redis-server" rather than "ld-linux-x86-64".
    mkdir -p "$STAGING/loader/$program"
    ln -s ../../root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$STAGING/loader/$program/$program"
    cat >"$STAGING/bin/$program" <<EOF
#!/bin/sh
# Generated by tests/infra/install-redis8.sh: runs Debian trixie's $program with trixie's loader,
# glibc and libstdc++, and bookworm's other libraries.
HERE="\$(dirname "\$(dirname "\$(readlink -f "\$0")")")"
T="\$HERE/root/usr/lib/x86_64-linux-gnu"
exec "\$HERE/loader/$program/$program" --library-path "\$T:/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu" "\$HERE/root/usr/bin/$program" "\$@"
EOF
    chmod 755 "$STAGING/bin/$program"
done

version="$("$STAGING/bin/redis-server" --version 2>&1)" || {
    log "the unpacked redis-server does not run: $version"
    exit 1
}
if [[ ! "$version" =~ v=8\. ]]; then
    log "expected Redis 8, got: $version"
    exit 1
fi

rm -rf "$TARGET"
mv "$STAGING" "$TARGET"
log "installed: $("$WRAPPER" --version)"
echo "$WRAPPER"
