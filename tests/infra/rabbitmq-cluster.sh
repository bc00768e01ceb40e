#!/usr/bin/env bash
# A three-node RabbitMQ cluster of our own for the cluster tests (tests/cluster/), following
# ../shared/reference/rabbitmq-cluster.md: nodes rmq-a/b/c@localhost, AMQP on 127.0.0.1:5701-5703,
# Erlang distribution on 25701-25703, every directory owned by the `rabbitmq` user.
# The shared node rabbit@localhost (5672) is never touched: every command names its node.
#
#   tests/infra/rabbitmq-cluster.sh start    # idempotent: starts what is not running, joins b and c to a
#   tests/infra/rabbitmq-cluster.sh stop     # stops the three nodes by name, removes the directory
#   tests/infra/rabbitmq-cluster.sh status   # exit 0 when the three nodes run as one cluster
#   tests/infra/rabbitmq-cluster.sh urls     # the AMQP_URL list for the three nodes
#
# Env: RMQ_CLUSTER_DIR (default /tmp/ad-service-rmq-cluster), RMQ_CLUSTER_TIMEOUT (seconds to
# wait for each node, default 90), RMQ_CLUSTER_OWNER_PID (start: a watcher stops the cluster once
# that process is gone, even if it was SIGKILLed and never ran its own cleanup).
# Runs as root (the Debian wrapper drops to `rabbitmq`), no stdin.
set -uo pipefail

BASE=${RMQ_CLUSTER_DIR:-/tmp/ad-service-rmq-cluster}
TIMEOUT=${RMQ_CLUSTER_TIMEOUT:-90}
NAMES=(a b c)

node() { echo "rmq-$1@localhost"; }
port() { case $1 in a) echo 5701 ;; b) echo 5702 ;; c) echo 5703 ;; esac; }
ctl() { rabbitmqctl -q "$@" </dev/null; }
log() { echo "[rabbitmq-cluster] $(date +%T) $*" >&2; }

# Liveness by TCP port (rabbitmqctl takes ~2 s per call on 2 cores): the Erlang distribution
# port is open while the VM runs, the AMQP listener only once the rabbit app has booted.
port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }
vm_up() { port_open $(($(port "$1") + 20000)); }
app_up() { port_open "$(port "$1")"; }
# 0 when node $1 sees all three nodes running.
clustered() {
  local out
  out=$(ctl -n "$(node "$1")" eval '[atom_to_list(N) || N <- lists:sort(rabbit_nodes:all_running())].' 2>/dev/null) || return 1
  [[ $out == *rmq-a@localhost*rmq-b@localhost*rmq-c@localhost* ]]
}

FRESH=" "
start_node() {
  local n=$1 d=$BASE/$1 p
  p=$(port "$n")
  if vm_up "$n"; then
    app_up "$n" || ctl -n "$(node "$n")" start_app >/dev/null 2>&1 || true
    return 0
  fi
  mkdir -p "$d/log" "$d/mnesia"
  printf 'listeners.tcp.default = 127.0.0.1:%s\nloopback_users = none\n' "$p" >"$d/rabbitmq.conf"
  : >"$d/env.conf"
  echo '[].' >"$d/enabled_plugins"
  chown -R rabbitmq:rabbitmq "$BASE"
  [[ -d $d/mnesia/$(node "$n") ]] || FRESH+="$n "
  log "starting $(node "$n") on 127.0.0.1:$p"
  RABBITMQ_CONF_ENV_FILE=$d/env.conf RABBITMQ_NODENAME=$(node "$n") \
    RABBITMQ_NODE_PORT=$p RABBITMQ_DIST_PORT=$((p + 20000)) \
    RABBITMQ_MNESIA_BASE=$d/mnesia RABBITMQ_LOG_BASE=$d/log \
    RABBITMQ_CONFIG_FILE=$d/rabbitmq RABBITMQ_ENABLED_PLUGINS_FILE=$d/enabled_plugins \
    rabbitmq-server -detached </dev/null >>"$BASE/start-$n.out" 2>&1
}

wait_app() {
  local n=$1 end=$((SECONDS + TIMEOUT))
  until app_up "$n"; do
    if ((SECONDS > end)); then
      log "$(node "$n") did not start within ${TIMEOUT}s; its log:"
      tail -n 40 "$BASE/$n/log/"*.log >&2 2>/dev/null || true
      cat "$BASE/start-$n.out" >&2 2>/dev/null || true
      return 1
    fi
    sleep 0.5
  done
}

start() {
  if status >/dev/null 2>&1; then
    log "already running"
    watch_owner
    return 0
  fi
  mkdir -p "$BASE"
  chmod 755 "$BASE"
  for n in "${NAMES[@]}"; do start_node "$n" || return 1; done
  for n in "${NAMES[@]}"; do wait_app "$n" || return 1; done
  for n in b c; do
    # A node that has never run cannot be clustered yet (saves a 2 s rabbitmqctl call).
    if [[ $FRESH != *" $n "* ]] && clustered "$n"; then continue; fi
    log "joining $(node "$n") to rmq-a@localhost"
    ctl -n "$(node "$n")" stop_app || return 1
    local out
    out=$(ctl -n "$(node "$n")" join_cluster rmq-a@localhost 2>&1)
    if [[ $? -ne 0 && $out != *already_member* ]]; then
      log "join_cluster failed: $out"
      ctl -n "$(node "$n")" start_app || true
      return 1
    fi
    ctl -n "$(node "$n")" start_app || return 1
  done
  local end=$((SECONDS + TIMEOUT))
  until clustered a; do
    if ((SECONDS > end)); then
      log "the three nodes did not form one cluster"
      ctl -n rmq-a@localhost cluster_status >&2 || true
      return 1
    fi
    sleep 1
  done
  log "running: rmq-a, rmq-b, rmq-c (AMQP 5701-5703)"
  watch_owner
}

# The trap that survives a killed test run: a detached watcher polls the owner pid and runs
# `stop` when it is gone, unless a later start has taken the cluster over (the owner file).
watch_owner() {
  local owner=${RMQ_CLUSTER_OWNER_PID:-}
  [[ -n $owner ]] || return 0
  echo "$owner" >"$BASE/owner"
  setsid nohup bash -c '
    while kill -0 "$1" 2>/dev/null; do sleep 2; done
    if [[ "$(cat "$2/owner" 2>/dev/null)" == "$1" ]]; then RMQ_CLUSTER_DIR="$2" bash "$3" stop; fi
  ' rmq-cluster-watch "$owner" "$BASE" "$(readlink -f "$0")" </dev/null >/dev/null 2>&1 &
}

stop() {
  for n in "${NAMES[@]}"; do
    if vm_up "$n"; then
      log "stopping $(node "$n")"
      ctl -n "$(node "$n")" stop >/dev/null 2>&1 || true
    fi
  done
  # `stop` returns once the VM is gone; make sure before deleting its files.
  for n in "${NAMES[@]}"; do
    local end=$((SECONDS + 30))
    while vm_up "$n" && ((SECONDS < end)); do sleep 1; done
  done
  rm -rf "$BASE"
}

status() {
  for n in "${NAMES[@]}"; do app_up "$n" || return 1; done
  clustered a
}

urls() {
  local out=()
  for n in "${NAMES[@]}"; do out+=("amqp://guest:guest@127.0.0.1:$(port "$n")"); done
  (IFS=,; echo "${out[*]}")
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  urls) urls ;;
  *)
    echo "usage: $0 start|stop|status|urls" >&2
    exit 2
    ;;
esac
