#!/usr/bin/env bash
# Validates docker-compose.yml offline (no Docker engine needed) with docker-compose v1.29 from
# Debian (apt-get install -y --no-install-recommends docker-compose) or, when present, the
# `docker compose` v2 plugin. Exit status: 0 valid (or SKIPPED when no validator is installed),
# non-zero when the file is invalid.
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v docker-compose >/dev/null 2>&1; then
  validator=(docker-compose)
elif command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
  validator=(docker compose)
else
  echo "SKIPPED: docker-compose not installed (apt-get install -y --no-install-recommends docker-compose)"
  exit 0
fi

if ! "${validator[@]}" -f docker-compose.yml config -q; then
  echo "docker-compose.yml is INVALID (${validator[*]} config -q)" >&2
  exit 1
fi
echo "docker-compose.yml is valid ($("${validator[@]}" version --short 2>/dev/null || echo "${validator[*]}"))"
