#!/usr/bin/env bash
# Installs docker-compose (the v1 CLI from Debian) so tests can validate deploy/docker-compose.yml with
# `docker-compose config`. No Docker engine is needed or started. Idempotent.
set -euo pipefail

if command -v docker-compose >/dev/null 2>&1; then
    docker-compose version | sed -n 1p
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends docker-compose >/dev/null 2>&1; then
    apt-get update >/dev/null
    apt-get install -y --no-install-recommends docker-compose >/dev/null
fi
docker-compose version | sed -n 1p
