"""Shared fixtures: real pyoxigraph stores (in memory or on disk), the real CLI, a real server."""

from __future__ import annotations

import http.client
import http.server
import itertools
import json
import os
import re
import subprocess
import sys
import textwrap
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mlg.admission import Gate
from mlg.cli import cli
from mlg.identity import Minter
from mlg.store import OxigraphStore, open_store
from mlg.vocab import MLG

BASE = "https://mlg.example.org/"
SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture
def minter() -> Minter:
    return Minter(BASE)


@pytest.fixture
def store() -> OxigraphStore:
    return OxigraphStore(None)


@pytest.fixture
def gate(store: OxigraphStore, minter: Minter) -> Gate:
    return Gate(store, minter)


def snapshot(store: OxigraphStore) -> list[str]:
    """Every quad of the store, sorted: equal snapshots mean an unchanged store."""
    return sorted(str(quad) for quad in store._store)


def disk_snapshot(path: Path) -> list[str]:
    """The same for an on-disk store, opened read-only so the check changes nothing."""
    if not path.exists():
        return []
    return snapshot(open_store(path, read_only=True))


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a test input file and return its path."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return _write


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def mlg(store_path: Path) -> Callable[..., Result]:
    """Run `mlg --store <tmp store> ARGS...` in-process, as a user would type it."""
    runner = CliRunner()

    def _run(*args: str, input: str | None = None) -> Result:
        return runner.invoke(cli, ["--store", str(store_path), *args], input=input, catch_exceptions=False)

    return _run


@pytest.fixture
def demo_loaded(mlg: Callable[..., Result], store_path: Path) -> Path:
    """A store holding the demo data, loaded through `mlg demo --store`."""
    result = mlg("demo", "--store", str(store_path), "--no-serve")
    assert result.exit_code == 0, result.output
    return store_path


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


@dataclass
class LiveServer:
    """`mlg serve` in a subprocess on a free loopback port: gunicorn, the worker, the store on disk."""

    process: subprocess.Popen[str]
    url: str
    store: Path
    log: list[str] = field(default_factory=list)

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def request(
        self, method: str, path: str, body: bytes | str | None = None, headers: dict[str, str] | None = None
    ) -> Reply:
        """One HTTP request, exactly as given (http.client adds no Content-Type of its own)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            data = body.encode() if isinstance(body, str) else body
            connection.request(method, path, body=data, headers=headers or {})
            response = connection.getresponse()
            return Reply(response.status, response.headers, response.read())
        finally:
            connection.close()

    def query(self, text: str, accept: str = "application/sparql-results+json") -> Reply:
        """A SPARQL query by GET, as most clients send it."""
        return self.request(
            "GET", "/sparql?" + urllib.parse.urlencode({"query": text}), headers={"Accept": accept}
        )

    def stop(self) -> None:
        """Stop as a service manager would (SIGTERM), killing it if it has not stopped in 20 s."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(store: Path, env: dict[str, str] | None = None, *args: str) -> LiveServer:
    """Start `python -m mlg serve` on port 0 and wait until its worker answers /healthz."""
    return launch(["serve", "--store", str(store), "--port", "0", *args], store, env)


def launch(arguments: list[str], store: Path, env: dict[str, str] | None = None) -> LiveServer:
    """Run `python -m mlg ARGUMENTS` (a command that serves), wait for its banner and /healthz."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MLG_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "mlg", *arguments],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**clean, **(env or {})},
    )
    log: list[str] = []
    started = threading.Event()

    def read() -> None:  # all of stderr, so the server never blocks on a full pipe
        for line in process.stderr:  # type: ignore[union-attr]
            log.append(line)
            if "mlg: serving" in line:
                started.set()
        started.set()

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + 60
    started.wait(timeout=60)
    found = next(
        (re.search(r"mlg: serving .* at (http://[^/ ]+)/sparql", line) for line in log if "serving" in line),
        None,
    )
    if found is None:
        process.kill()
        process.wait()
        raise RuntimeError("mlg did not start serving:\n" + "".join(log))
    server = LiveServer(process, found.group(1), store, log)
    while True:
        try:
            if server.request("GET", "/healthz").status == 200:
                return server
        except OSError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            server.stop()
            raise RuntimeError("mlg serve did not answer /healthz:\n" + "".join(log))
        time.sleep(0.05)


@pytest.fixture(scope="session")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., LiveServer]]:
    """Start real servers, stopped at the end of the session (or earlier by ``stop()``).

    ``serve({"MLG_UPDATE_TOKEN": "t"})`` serves a fresh empty store; ``store=`` another one,
    ``args`` are more `mlg serve` flags; ``command=[...]`` runs another command that serves
    (`mlg demo`).
    """
    servers: list[LiveServer] = []

    def _start(
        env: dict[str, str] | None = None,
        store: Path | None = None,
        args: tuple[str, ...] = (),
        command: list[str] | None = None,
    ) -> LiveServer:
        store = store or tmp_path_factory.mktemp("served") / "store"
        server = start_server(store, env, *args) if command is None else launch(command, store, env)
        servers.append(server)
        return server

    yield _start
    for server in servers:  # all at once, then wait
        if server.process.poll() is None:
            server.process.terminate()
    for server in servers:
        server.stop()


@dataclass
class ContextServer:
    """A local server offering a JSON-LD context; ``requests`` lists what was asked of it."""

    url: str
    requests: list[str]


@pytest.fixture
def context_server() -> Iterator[ContextServer]:
    """For the tests that a remote JSON-LD context is never fetched: there must be no request."""
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            body = json.dumps({"@context": {"@vocab": "https://schema.org/", "name": MLG + "name"}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/ld+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield ContextServer(f"http://127.0.0.1:{server.server_address[1]}/context.jsonld", requests)
    finally:
        server.shutdown()
        server.server_close()


def yaml_alias_bomb(indent: str = "", levels: int = 9) -> str:
    """A YAML "billion laughs": 9**levels strings from a few hundred bytes, if aliases were expanded."""
    names = "abcdefghij"[:levels]
    lol = ", ".join(['"lol"'] * 9)
    lines = [f"{indent}a: &a [{lol}]"]
    for a, b in itertools.pairwise(names):
        aliases = ", ".join(["*" + a] * 9)
        lines.append(f"{indent}{b}: &{b} [{aliases}]")
    return "\n".join(lines) + "\n"
