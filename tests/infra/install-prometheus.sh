#!/usr/bin/env bash
# Installs Debian's prometheus (with promtool) for the tests, which start their own Prometheus on a free
# loopback port. The package's own service, if it got started, is stopped and disabled so nothing is
# left listening on port 9090.
#
# Idempotent and non-interactive; must run as root. Prints the versions when done.
set -euo pipefail

log() { echo "install-prometheus: $*" >&2; }

export DEBIAN_FRONTEND=noninteractive

if command -v prometheus >/dev/null && command -v promtool >/dev/null; then
    log "already installed"
else
    if [[ "$(id -u)" -ne 0 ]]; then
        log "must run as root (it installs the prometheus package with apt-get)"
        exit 1
    fi
    log "apt-get update"
    apt-get update -qq
    # Without recommends: prometheus-node-exporter would be one more service listening on a port.
    log "apt-get install prometheus"
    apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi

# The package's maintainer scripts start the service where services may start. The tests never use it.
if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null; then
    if systemctl is-active --quiet prometheus.service 2>/dev/null \
        || systemctl is-enabled --quiet prometheus.service 2>/dev/null; then
        log "stopping and disabling prometheus.service"
        systemctl disable --now prometheus.service >/dev/null 2>&1 || true
    fi
elif [[ -x /etc/init.d/prometheus ]] && /etc/init.d/prometheus status >/dev/null 2>&1; then
    # Called directly: invoke-rc.d would ask policy-rc.d, which may refuse to stop it too.
    log "stopping the prometheus init.d service"
    /etc/init.d/prometheus stop >/dev/null 2>&1 || true
fi

# Whatever started it, the packaged daemon runs as the 'prometheus' user; stop it by its PID.
if command -v ss >/dev/null; then
    for pid in $(ss -Hltnp 'sport = :9090' 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
        if [[ "$(stat -c %U "/proc/$pid" 2>/dev/null)" == "prometheus" ]]; then
            log "stopping the packaged prometheus (pid $pid) listening on port 9090"
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -9 "$pid" 2>/dev/null || true
        fi
    done
fi

# Captured before cutting: with pipefail, head closing the pipe early could fail the script.
for tool in prometheus promtool; do
    version="$("$tool" --version 2>&1)"
    echo "${version%%$'\n'*}"
done
