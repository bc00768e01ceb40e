#!/usr/bin/env bash
# Runs ad-service from source, installing Bun and the dependencies from npm on first use.
# Configuration comes from the environment or ./.env (see the README's configuration table).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x node_modules/.bin/bun ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[run] installing dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
exec node_modules/.bin/bun run src/index.ts "$@"
