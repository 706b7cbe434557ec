"""Fixtures for the compatibility tests: the real `coffer` binary, judged by real clients
(hvac and the OpenBao `bao` CLI).

The binary comes from $COFFER_BIN, else <workspace>/target/debug/coffer. A missing binary
fails the tests loudly; it never skips them.
"""

import os
import socket
import subprocess
import time
from pathlib import Path

import hvac
import pytest
import requests

HERE = Path(__file__).resolve().parent
DEFAULT_BIN = HERE.parent.parent / "target" / "debug" / "coffer"
START_TIMEOUT = 30.0


def pytest_configure(config):
    # hvac's own kv.v2.patch() calls read_secret_version without raise_on_deleted_version.
    config.addinivalue_line(
        "filterwarnings", "ignore:The raise_on_deleted_version parameter:DeprecationWarning")


def coffer_bin() -> Path:
    path = Path(os.environ.get("COFFER_BIN") or DEFAULT_BIN)
    if not path.is_file():
        pytest.fail(
            f"coffer binary not found at {path}: run `cargo build --bin coffer` "
            "(or set COFFER_BIN)",
            pytrace=False,
        )
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A `coffer server` child process on a free loopback port with SQLite storage."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.db = workdir / "coffer.db"
        self.proc = None
        self.port = None
        self.root_token = None
        self.keys = []

    @property
    def addr(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def logs(self) -> str:
        out = []
        for name in ("stdout.log", "stderr.log"):
            p = self.workdir / name
            out.append(f"--- {name} ---\n{p.read_text(errors='replace') if p.exists() else ''}")
        return "\n".join(out)

    def start(self):
        self.port = free_port()
        stdout = open(self.workdir / "stdout.log", "ab")
        stderr = open(self.workdir / "stderr.log", "ab")
        self.proc = subprocess.Popen(
            [str(coffer_bin()), "server", "--listen", f"127.0.0.1:{self.port}",
             "--storage", f"sqlite:{self.db}"],
            stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
        )
        stdout.close()
        stderr.close()
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                pytest.fail(f"coffer server exited with {self.proc.returncode}\n{self.logs()}")
            try:
                requests.get(f"{self.addr}/v1/sys/health", timeout=2)
                return
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"coffer server did not answer within {START_TIMEOUT}s\n{self.logs()}")
            time.sleep(0.05)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=15)
        self.proc = None

    def restart(self):
        self.stop()
        self.start()

    def client(self, token=None) -> hvac.Client:
        return hvac.Client(url=self.addr, token=token)

    def root_client(self) -> hvac.Client:
        return self.client(self.root_token)


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path)
    s.start()
    yield s
    s.stop()


@pytest.fixture
def initialized(server):
    """A server initialised with one key share and unsealed; `server.root_token` is set."""
    client = server.client()
    result = client.sys.initialize(secret_shares=1, secret_threshold=1)
    server.root_token = result["root_token"]
    server.keys = result["keys"]
    status = client.sys.submit_unseal_keys(server.keys)
    assert status["sealed"] is False, status
    return server


@pytest.fixture
def with_kv2(initialized):
    """`initialized`, plus `secret/` mounted as KV version 2 (as in Vault's dev mode)."""
    initialized.root_client().sys.enable_secrets_engine("kv", path="secret", options={"version": "2"})
    return initialized
