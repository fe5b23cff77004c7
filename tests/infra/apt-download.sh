#!/usr/bin/env bash
# Sourced by the installers in this folder: downloads Debian packages of one suite from this machine's own
# Debian mirror with a private apt configuration, without touching the system's apt sources.
#
#   apt_download SUITE DIRECTORY PACKAGE...   the .deb files land in DIRECTORY

# Prints the URI of the mirror that serves this machine's own suite (not -updates/-security only).
debian_mirror_uri() {
    local sources_file="/etc/apt/sources.list.d/debian.sources" codename
    if [[ ! -r "$sources_file" ]]; then
        echo "cannot read $sources_file (needed to find this machine's Debian mirror)" >&2
        return 1
    fi
    codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")"
    awk -v codename="$codename" 'BEGIN { RS = ""; FS = "\n" }
        {
            uri = ""; suites = ""
            for (i = 1; i <= NF; i++) {
                if ($i ~ /^URIs:/)   { sub(/^URIs:[ \t]*/, "", $i);   uri = $i }
                if ($i ~ /^Suites:/) { sub(/^Suites:[ \t]*/, "", $i); suites = " " $i " " }
            }
            if (uri != "" && index(suites, " " codename " ") > 0) { split(uri, u, " "); print u[1]; exit }
        }' "$sources_file"
}

apt_download() {
    local suite=$1 directory=$2 mirror work
    shift 2
    mirror="$(debian_mirror_uri)"
    if [[ -z "$mirror" ]]; then
        echo "no Debian mirror found for this machine's suite" >&2
        return 1
    fi
    work="$(mktemp -d /tmp/apt-download.XXXXXX)"
    mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$directory"
    cat >"$work/$suite.sources" <<SOURCES
Types: deb
URIs: $mirror
Suites: $suite
Components: main
Targets: Packages
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
    # Only the sources, lists, cache and preferences are private: the rest of the machine's apt
    # configuration (how it reaches its mirror) still applies.
    local options=(
        -o "Dir::Etc::SourceList=$work/$suite.sources"
        -o "Dir::Etc::SourceParts=/dev/null"
        -o "Dir::Etc::Preferences=/dev/null"
        -o "Dir::Etc::PreferencesParts=/dev/null"
        -o "Dir::State::Lists=$work/lists"
        -o "Dir::Cache=$work/cache"
        -o "Dir::Cache::pkgcache="
        -o "Dir::Cache::srcpkgcache="
        -o "APT::Sandbox::User=root"
        -o "Acquire::Languages=none"
    )
    apt-get "${options[@]}" update -qq \
        && (cd "$directory" && apt-get "${options[@]}" download -qq "$@")
    local status=$?
    rm -rf "$work"
    return $status
}
