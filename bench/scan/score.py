#!/usr/bin/env python3
"""Score one scanner's report against the corpus labels.

    score.py REPORT LABELS [--format auto|sarif|betterleaks|detect-secrets|ripsecrets]
             [--root DIR] [--reviewed known_background_findings.json] [--json]
             [--dump-fp FILE] [--dump-fn FILE]

REPORT is SARIF 2.1.0 (Coffer, gitleaks, kingfisher) or one of the adapters' inputs:
betterleaks JSON (`-o x.json`), detect-secrets JSON (`scan --all-files`), ripsecrets text
(`path:line:content`). Every input is reduced to findings (file, start line, end line, rule).

Matching, per finding:
  1. exact: the finding's line range overlaps a label's [line, end_line] -> every such label is
     found (a multi-line secret is found by a finding on any of its lines);
  2. an exact overlap with a planted hard negative or an ignored region -> not a match
     (so a finding on a negative is never rescued by a secret on the next line);
  3. tolerance: else the nearest label within +-1 line is found.
Findings that match no label are false positives, counted once per (file, line) however
many rules fired there. TP = labels found; recall = TP / labels; precision = TP / (TP + FP).
Reviewed background findings (known_background_findings.json): verdict "secret" entries are
extra labels, "ambiguous" entries are ignored, "not-secret" entries stay false positives.
"""

import argparse
import json
import os
import re
import sys
import urllib.parse
from collections import Counter, defaultdict

# ----------------------------------------------------------------------------- readers


def read_sarif(doc):
    out = []
    for run in doc.get("runs", []):
        for res in run.get("results", []):
            rule = res.get("ruleId") or (res.get("rule") or {}).get("id") or "?"
            for loc in res.get("locations", [])[:1]:
                pl = loc.get("physicalLocation", {})
                uri = pl.get("artifactLocation", {}).get("uri", "")
                reg = pl.get("region", {})
                start = reg.get("startLine")
                if not uri or start is None:
                    continue
                out.append((uri, int(start), int(reg.get("endLine", start)), rule))
    return out


def read_betterleaks(doc):
    items = doc["findings"] if isinstance(doc, dict) else doc
    out = []
    for f in items:
        if "location" in f:
            loc = f["location"]
            out.append((loc["path"], int(loc["start_line"]), int(loc.get("end_line", loc["start_line"])), f.get("rule_id", "?")))
        else:  # gitleaks-style JSON report
            out.append((f["File"], int(f["StartLine"]), int(f.get("EndLine", f["StartLine"])), f.get("RuleID", "?")))
    return out


def read_detect_secrets(doc):
    out = []
    for path, items in doc.get("results", {}).items():
        for f in items:
            out.append((path, int(f["line_number"]), int(f["line_number"]), f.get("type", "?")))
    return out


RIP_RE = re.compile(r"^(.+?):(\d+):")


def read_ripsecrets(text):
    out = []
    for ln in text.splitlines():
        m = RIP_RE.match(ln)
        if m:
            out.append((m.group(1), int(m.group(2)), int(m.group(2)), "ripsecrets"))
    return out


def load_findings(path, fmt):
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    if fmt == "ripsecrets":
        return read_ripsecrets(text)
    if not text.strip():
        return []
    doc = json.loads(text)
    if fmt == "auto":
        if isinstance(doc, dict) and "runs" in doc:
            fmt = "sarif"
        elif isinstance(doc, dict) and "results" in doc and "plugins_used" in doc:
            fmt = "detect-secrets"
        else:
            fmt = "betterleaks"
    return {"sarif": read_sarif, "betterleaks": read_betterleaks, "detect-secrets": read_detect_secrets}[fmt](doc)


def normalize(uri, root):
    """Path relative to the scanned tree, whatever form the tool printed."""
    if uri.startswith("file://"):
        uri = urllib.parse.urlparse(uri).path
    uri = urllib.parse.unquote(uri)
    root_abs = os.path.abspath(root) if root else None
    if os.path.isabs(uri):
        if root_abs and uri.startswith(root_abs + os.sep):
            return uri[len(root_abs) + 1:]
        return uri
    p = os.path.normpath(uri)
    if root:
        for cand in (os.path.normpath(root), os.path.relpath(root_abs), os.path.basename(root_abs)):
            if p.startswith(cand + os.sep):
                return p[len(cand) + 1:]
    return p


# ----------------------------------------------------------------------------- scoring


def overlaps(a0, a1, b0, b1, tol=0):
    return a0 <= b1 + tol and b0 <= a1 + tol


def score(findings, labels_doc, reviewed=None):
    labels = [dict(r) for r in labels_doc["labels"]]
    ignore = list(labels_doc.get("ignore", []))
    negatives = labels_doc.get("negatives", [])
    reviewed_fp = set()
    for r in (reviewed or {}).get("entries", []):
        if r.get("verdict") == "secret":
            labels.append(dict(r, end_line=r.get("end_line", r["line"]), source="reviewed", kind=r.get("kind", "reviewed"),
                               family=r.get("family", "reviewed")))
        elif r.get("verdict") == "ambiguous":
            ignore.append(dict(r, end_line=r.get("end_line", r.get("line", 0))))
        else:
            reviewed_fp.add((r["file"], r.get("line")))
    by_file = defaultdict(list)
    for i, r in enumerate(labels):
        by_file[r["file"]].append(i)
    neg_by_file = defaultdict(list)
    for r in negatives:
        neg_by_file[r["file"]].append(r)
    ign_by_file = defaultdict(list)
    for r in ignore:
        ign_by_file[r["file"]].append(r)

    found = set()
    fps = {}
    seen_locs = set()
    for file, start, end, rule in findings:
        cands = by_file.get(file, [])
        exact = [i for i in cands if overlaps(start, end, labels[i]["line"], labels[i]["end_line"])]
        if exact:
            found.update(exact)
            continue
        if any(r.get("line") is None or overlaps(start, end, r["line"], r["end_line"]) for r in ign_by_file.get(file, [])):
            continue
        neg = next((r for r in neg_by_file.get(file, []) if overlaps(start, end, r["line"], r["end_line"])), None)
        if neg is None:
            near = [i for i in cands if overlaps(start, end, labels[i]["line"], labels[i]["end_line"], 1)]
            if near:
                found.add(min(near, key=lambda i: min(abs(start - labels[i]["line"]), abs(start - labels[i]["end_line"]))))
                continue
        loc = (file, start)
        if loc in seen_locs:
            continue
        seen_locs.add(loc)
        if neg is not None:
            cat = "negative:" + neg["kind"]
        elif file.startswith("vendor/"):
            cat = "background(reviewed)" if (file, start) in reviewed_fp or (file, None) in reviewed_fp else "background(unreviewed)"
        elif any(overlaps(start, end, r["line"], r["end_line"], 1) for r in neg_by_file.get(file, [])):
            cat = "negative-adjacent"
        else:
            cat = "planted-other"
        fps[loc] = {"file": file, "line": start, "rule": rule, "category": cat}

    tp, fn = len(found), len(labels) - len(found)
    fp = len(fps)
    recall = tp / len(labels) if labels else 0.0
    precision = tp / (tp + fp) if tp + fp else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    fam_total, fam_found = Counter(), Counter()
    for i, r in enumerate(labels):
        fam_total[r["family"]] += 1
        if i in found:
            fam_found[r["family"]] += 1
    missed = [labels[i] for i in range(len(labels)) if i not in found]
    return {
        "findings": len(findings), "labels": len(labels), "tp": tp, "fp": fp, "fn": fn,
        "recall": round(recall, 4), "precision": round(precision, 4), "f1": round(f1, 4),
        "recall_by_family": {k: f"{fam_found[k]}/{fam_total[k]}" for k in sorted(fam_total)},
        "fn_by_kind": dict(Counter(r["kind"] for r in missed).most_common()),
        "fp_by_category": dict(Counter(v["category"] for v in fps.values()).most_common()),
        "fp_by_rule": dict(Counter(v["rule"] for v in fps.values()).most_common(15)),
        "_fps": list(fps.values()),
        "_fns": [{k: r.get(k) for k in ("file", "line", "end_line", "kind", "family", "source")} for r in missed],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("report")
    ap.add_argument("labels")
    ap.add_argument("--format", default="auto", choices=["auto", "sarif", "betterleaks", "detect-secrets", "ripsecrets"])
    ap.add_argument("--root", help="the scanned directory (default: LABELS' dir/tree)")
    ap.add_argument("--reviewed", help="known_background_findings.json")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--dump-fp")
    ap.add_argument("--dump-fn")
    args = ap.parse_args()
    with open(args.labels) as f:
        labels_doc = json.load(f)
    root = args.root or os.path.join(os.path.dirname(os.path.abspath(args.labels)), labels_doc.get("root", "tree"))
    reviewed = None
    if args.reviewed and os.path.exists(args.reviewed):
        with open(args.reviewed) as f:
            reviewed = json.load(f)
    raw = load_findings(args.report, args.format)
    findings = [(normalize(u, root), s, e, r) for u, s, e, r in raw]
    res = score(findings, labels_doc, reviewed)
    if args.dump_fp:
        with open(args.dump_fp, "w") as f:
            for v in sorted(res["_fps"], key=lambda v: (v["file"], v["line"])):
                f.write(f"{v['file']}\t{v['line']}\t{v['rule']}\t{v['category']}\n")
    if args.dump_fn:
        with open(args.dump_fn, "w") as f:
            for v in res["_fns"]:
                f.write(f"{v['file']}\t{v['line']}\t{v['kind']}\t{v['family']}\n")
    res = {k: v for k, v in res.items() if not k.startswith("_")}
    if args.json:
        json.dump(res, sys.stdout, indent=1)
        print()
        return
    print(f"findings {res['findings']}  labels {res['labels']}  TP {res['tp']}  FP {res['fp']}  FN {res['fn']}")
    print(f"recall {res['recall']:.3f}  precision {res['precision']:.3f}  F1 {res['f1']:.3f}")
    print("recall by family: " + ", ".join(f"{k} {v}" for k, v in res["recall_by_family"].items()))
    print("missed kinds: " + ", ".join(f"{k} {v}" for k, v in res["fn_by_kind"].items()))
    print("FP by category: " + ", ".join(f"{k} {v}" for k, v in res["fp_by_category"].items()))
    print("FP by rule: " + ", ".join(f"{k} {v}" for k, v in res["fp_by_rule"].items()))


if __name__ == "__main__":
    main()
