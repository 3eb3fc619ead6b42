#!/usr/bin/env bash
# Validates docker-compose.yml offline (no Docker engine needed): docker-compose v1.29 from Debian
# (apt-get install -y --no-install-recommends docker-compose) or the `docker compose` v2 plugin.
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v docker-compose >/dev/null 2>&1; then
  docker-compose -f docker-compose.yml config -q
elif docker compose version >/dev/null 2>&1; then
  docker compose -f docker-compose.yml config -q
else
  echo "SKIPPED: no compose tool installed (apt-get install -y --no-install-recommends docker-compose)"
  exit 0
fi
echo "docker-compose.yml is valid"
