#!/usr/bin/env bash
# The whole test suite from a fresh clone: installs what it needs (Bun and the dependencies from
# npm, Ceph RGW from Debian's packages), starts the services that are not running, type-checks,
# builds the binary, runs `bun test`, and ends with "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '[test] %s\n' "$*" >&2; }

# 1. Dependencies (Bun itself is a devDependency: the npm package carries the binary).
if [ ! -x node_modules/.bin/bun ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi
export PATH="$PWD/node_modules/.bin:$PATH"

# 2. Services: PostgreSQL and RabbitMQ are normally running already; start them if not.
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  say "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if ! (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; then
  say "starting RabbitMQ"
  # A node whose app was stopped (e.g. by an interrupted fault test) only needs start_app.
  rabbitmqctl -q start_app >/dev/null 2>&1 || rabbitmq-server -detached || true
  for _ in $(seq 1 60); do (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null && break; sleep 1; done
fi
rabbitmqctl -q await_startup >/dev/null 2>&1 || true
bash tests/infra/ceph-rgw.sh start
# Headless Chromium for tests/browser (Debian's package, driven by playwright-core; never a
# browser download). Needs root, like the package step of the Ceph script.
if ! command -v chromium >/dev/null; then
  say "installing Chromium (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq chromium </dev/null >/dev/null 2>&1 ||
    { apt-get update -qq </dev/null && apt-get install -y -qq chromium </dev/null >/dev/null; }
fi

# 3. Type-check and build the single executable the end-to-end tests run.
say "type-checking"
tsc --noEmit
say "building ./ad-service"
bun run build >/dev/null

# 4. Tests.
log=$(mktemp)
set +e
# Bun ignores a timeout in bunfig.toml (checked with 1.4.5: the default 5 s still applies), so the
# default for tests without their own limit is given here: the first call to a freshly started
# Ceph or Chromium can take longer than 5 s on this shared 2-core machine.
bun test --timeout 30000 "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
passed=$(grep -Eo '^ *[0-9]+ pass$' "$log" | tail -n1 | grep -Eo '[0-9]+' || echo 0)
failed=$(grep -Eo '^ *[0-9]+ fail$' "$log" | tail -n1 | grep -Eo '[0-9]+' || echo 0)
rm -f "$log"
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "$passed passed, $failed failed"
exit "$rc"
