# Helpers shared by run.sh and million.sh (sourced): ports, waiting for a server, init and
# unseal, the OpenBao raft configuration both benchmarks use, and enabling a file audit device.
# Needs VENV set by the caller (for `bao`).

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 1000); do curl -s "$1/v1/sys/seal-status" >/dev/null && return 0; sleep 0.01; done; echo "server at $1 did not start" >&2; exit 1; }
now_ms() { date +%s%3N; }
init_unseal() { # addr -> prints root token
  local out; out=$(curl -s -X PUT -d '{"secret_shares":1,"secret_threshold":1}' "$1/v1/sys/init")
  local key; key=$(python3 -c 'import json,sys;print(json.load(sys.stdin)["keys_base64"][0])' <<<"$out")
  curl -s -X PUT -d "{\"key\":\"$key\"}" "$1/v1/sys/unseal" >/dev/null
  python3 -c 'import json,sys;print(json.load(sys.stdin)["root_token"])' <<<"$out"
}
bao_config() { # dir port cluster_port: persistent single-node raft in dir/data, config in dir/config.hcl
  mkdir -p "$1/data"
  cat > "$1/config.hcl" <<HCL
storage "raft" { path = "$1/data"  node_id = "n1" }
listener "tcp" { address = "127.0.0.1:$2"  cluster_address = "127.0.0.1:$3"  tls_disable = true }
api_addr = "http://127.0.0.1:$2"
cluster_addr = "http://127.0.0.1:$3"
disable_mlock = true
unsafe_allow_api_audit_creation = true
HCL
}
wait_unsealed() { for _ in $(seq 100); do curl -s "$1/v1/sys/health" | grep -q '"sealed":false' && return 0; sleep 0.2; done; }
enable_file_audit() { # addr token file
  curl -s -H "X-Vault-Token: $2" -X PUT -d "{\"type\":\"file\",\"options\":{\"file_path\":\"$3\"}}" "$1/v1/sys/audit/file" >/dev/null
}
