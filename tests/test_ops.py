"""Operations for real: backup and restore, other commands while `mlg serve` holds the store,
and kill -9 in the middle of a write (bulk and atomic), with the store checked after restart.

Every `mlg` here runs as a subprocess, as an operator would run it, so the RocksDB lock and
the kills are real.
"""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import BASE
from pyoxigraph import NamedNode

from mlg.admission import recover
from mlg.identity import Minter
from mlg.store import OxigraphStore

TOKEN = "ops-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CLEAN = {k: v for k, v in os.environ.items() if not k.startswith("MLG_")}
PENDING = "https://w3id.org/mlg#pendingGraph"


def mlg(store: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120):
    return subprocess.run(
        [sys.executable, "-m", "mlg", "--store", str(store), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**CLEAN, **(env or {})},
    )


def one_line_error(finished: subprocess.CompletedProcess[str]) -> str:
    lines = finished.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in finished.stderr, finished.stderr
    return lines[0]


def quads(path: Path) -> dict[str, list[str]]:
    """Every quad by graph, after opening the store for writing as the next command does (recover)."""
    store = OxigraphStore(path)
    try:
        recover(store)
        by_graph: dict[str, list[str]] = {}
        for quad in store._store:
            by_graph.setdefault(str(quad.graph_name), []).append(str(quad))
        return {graph: sorted(rows) for graph, rows in by_graph.items()}
    finally:
        store.close()
        del store
        gc.collect()


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("ops") / "store"
    finished = mlg(store, "demo", "--store", str(store), "--no-serve")
    assert finished.returncode == 0, finished.stderr
    return store


# Backup and restore


def test_backup_and_restore_round_trip(demo_store, tmp_path):
    before = quads(demo_store)
    copy = tmp_path / "copy"
    finished = mlg(demo_store, "backup", str(copy))
    assert finished.returncode == 0, finished.stderr
    assert quads(copy) == before
    other = tmp_path / "other"
    finished = mlg(other, "load", str(big_file(tmp_path / "small.nt", 10, "small")))
    assert finished.returncode == 0, finished.stderr
    finished = mlg(other, "restore", str(copy))
    assert finished.returncode == 0, finished.stderr
    assert quads(other) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left behind


def test_backup_refuses_a_non_empty_destination(demo_store, tmp_path):
    (tmp_path / "dest").mkdir()
    (tmp_path / "dest" / "keep.txt").write_text("mine")
    finished = mlg(demo_store, "backup", str(tmp_path / "dest"))
    assert finished.returncode == 2
    assert "exists and is not empty" in one_line_error(finished)
    assert [p.name for p in (tmp_path / "dest").iterdir()] == ["keep.txt"]


def test_restore_checks_the_backup_before_touching_the_store(demo_store, tmp_path):
    before = quads(demo_store)
    not_a_store = tmp_path / "junk"
    not_a_store.mkdir()
    (not_a_store / "file.txt").write_text("not rocksdb")
    for source in (not_a_store, tmp_path / "missing"):
        finished = mlg(demo_store, "restore", str(source))
        assert finished.returncode == 2
        assert "mlg: error:" in one_line_error(finished)
    assert quads(demo_store) == before


# Other commands while `mlg serve` holds the store


@pytest.fixture(scope="module")
def held(serve, demo_store, tmp_path_factory):
    """The demo store, copied and served by a real `mlg serve` holding its lock."""
    store = tmp_path_factory.mktemp("held") / "store"
    assert mlg(demo_store, "backup", str(store)).returncode == 0
    return serve({"MLG_UPDATE_TOKEN": TOKEN}, store=store)


@pytest.mark.parametrize(
    "args",
    [
        ("query", "ASK { ?s a mlg:Model }"),
        ("lineage", "service:checkout-api"),
        ("impact", "dataset:s3://payments-raw/transactions-v1"),
        ("export", "--format", "nquads"),
        ("stats",),
    ],
    ids=lambda a: a[0],
)
def test_read_commands_work_while_the_server_holds_the_store(held, args):
    finished = mlg(held.store, *args)
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip()


def test_search_works_while_the_server_holds_the_store_if_present(held):
    from mlg.cli import cli

    if "search" not in cli.commands:
        pytest.skip("no search command yet")
    finished = mlg(held.store, "search", "fraud")
    assert finished.returncode == 0, finished.stderr


def test_write_commands_say_in_one_line_what_to_do_while_the_server_holds_the_store(held, tmp_path):
    manifest = tmp_path / "m.nt"
    manifest.write_text('<http://example.org/a> <http://example.org/p> "x" .\n')
    for args in (("load", str(manifest)), ("demo", "--store", str(held.store), "--no-serve")):
        finished = mlg(held.store, *args)
        assert finished.returncode == 3, (args, finished.stderr)
        line = one_line_error(finished)
        assert f"the store at {held.store} is held by another process (mlg serve?)" in line
        assert "/store endpoint" in line


def test_backup_while_serving_holds_recent_writes_and_restore_is_refused(held, tmp_path):
    body = '<http://example.org/fresh> <http://example.org/p> "written through the server" .\n'
    graph = "http://example.org/ops-fresh"
    reply = held.request(
        "PUT", f"/store?graph={graph}", body, {"Content-Type": "application/n-triples", **AUTH}
    )
    assert reply.status in (201, 204), reply.body
    copy = tmp_path / "copy"
    finished = mlg(held.store, "backup", str(copy))
    assert finished.returncode == 0, finished.stderr
    assert f"<{graph}>" in quads(copy)

    finished = mlg(held.store, "restore", str(copy))
    assert finished.returncode == 3
    assert "stop the server" in one_line_error(finished)
    assert held.request("GET", "/healthz").status == 200


# kill -9 in the middle of a load

BIG = 50_000
BULK_ENV = {"MLG_ATOMIC_LIMIT": "1000"}


def big_file(path: Path, count: int, tag: str) -> Path:
    with path.open("w", encoding="utf-8") as output:
        for i in range(count):
            output.write(f'<http://example.org/{tag}/{i}> <http://example.org/value> "{i}" .\n')
    return path


def graph_of(source: str) -> str:
    return str(Minter(BASE).graph(source))


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> dict[str, object]:
    """A large N-Triples file, and how many quads its graph holds once loaded whole."""
    root = tmp_path_factory.mktemp("big")
    path = big_file(root / "big.nt", BIG, "big")
    reference = root / "reference"
    finished = mlg(reference, "load", str(path), "--source", "big", env=BULK_ENV)
    assert finished.returncode == 0, finished.stderr
    whole = len(quads(reference)[graph_of("big")])
    assert whole > BIG  # the data and its provenance
    return {"path": path, "whole": whole, "root": root}


def prepared_store(tmp_path: Path) -> tuple[Path, dict[str, list[str]]]:
    """A store holding an earlier submission (bulk path too), and its quads."""
    store = tmp_path / "store"
    earlier = big_file(tmp_path / "earlier.nt", 5_000, "earlier")
    finished = mlg(store, "load", str(earlier), "--source", "earlier", env=BULK_ENV)
    assert finished.returncode == 0, finished.stderr
    return store, quads(store)


def kill_load(
    store: Path, path: Path, env: dict[str, str], tmpdir: Path, when, early_ok: bool = False
) -> bool:
    """Start `mlg load`, SIGKILL it when ``when(tmpdir)`` says so; assert it was still running.

    With ``early_ok``, a load that ended before the kill point returns False instead.
    """
    tmpdir.mkdir(exist_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "mlg", "--store", str(store), "load", str(path), "--source", "big"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**CLEAN, **env, "TMPDIR": str(tmpdir)},
    )
    started = time.monotonic()
    while not when(tmpdir, time.monotonic() - started):
        if early_ok and process.poll() is not None:
            process.stderr.close()  # type: ignore[union-attr]
            return False
        assert process.poll() is None, (
            "the load ended before the kill point: " + process.stderr.read().decode()
        )
        time.sleep(0.002)
    assert process.poll() is None, "the load ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL
    process.stderr.close()  # type: ignore[union-attr]
    return True


def after_bulk_file(delay: float):
    """Kill ``delay`` s after the bulk path's temporary N-Quads file appears."""
    seen: list[float] = []

    def when(tmpdir: Path, elapsed: float) -> bool:
        if not seen and any(p.name.startswith("mlg-bulk-") for p in tmpdir.iterdir()):
            seen.append(elapsed)
        return bool(seen) and elapsed >= seen[0] + delay

    return when


def after(seconds: float):
    return lambda tmpdir, elapsed: elapsed >= seconds


@pytest.mark.parametrize(
    "when",
    [after(0.5), after(1.0), after_bulk_file(0), after_bulk_file(0.1), after_bulk_file(0.25)],
    ids=["0.5s", "1s", "bulk-file", "bulk-file+0.1s", "bulk-file+0.25s"],
)
def test_kill_9_during_a_bulk_load_leaves_all_or_nothing(big, tmp_path, when):
    store, before = prepared_store(tmp_path)
    kill_load(store, big["path"], BULK_ENV, tmp_path / "tmp", when)
    after_restart = quads(store)
    held = after_restart.pop(graph_of("big"), [])
    assert len(held) in (0, big["whole"]), f"a partial submission: {len(held)} of {big['whole']}"
    assert PENDING not in after_restart
    assert after_restart == before  # what was committed before is intact


def bulk_file_complete(delay: float):
    """Kill ``delay`` s after the bulk path's N-Quads file is whole: the journal and bulk load follow."""
    graph = graph_of("big")
    size = sum(
        len(f'<http://example.org/big/{i}> <http://example.org/value> "{i}" <{graph}> .\n')
        for i in range(BIG)
    )
    seen: list[float] = []

    def when(tmpdir: Path, elapsed: float) -> bool:
        if not seen:
            for file in tmpdir.iterdir():
                try:
                    if file.name.startswith("mlg-bulk-") and file.stat().st_size >= size * 0.98:
                        seen.append(elapsed)
                except FileNotFoundError:
                    pass
        return bool(seen) and elapsed >= seen[0] + delay

    return when


@pytest.mark.parametrize("delay", [0, 0.05, 0.15])
def test_kill_9_mid_bulk_write_is_recovered_by_the_next_write(big, tmp_path, delay):
    """Killed once the bulk file is whole, so during the journalled write: recover() drops the graph."""
    store, before = prepared_store(tmp_path)
    kill_load(store, big["path"], BULK_ENV, tmp_path / "tmp", bulk_file_complete(delay))
    restarted = OxigraphStore(store)
    journal = [q.object for q in restarted.graph_quads(NamedNode(PENDING))]
    dropped = recover(restarted)
    restarted.close()
    del restarted
    gc.collect()
    after_restart = quads(store)
    held = after_restart.pop(graph_of("big"), [])
    assert len(held) in (0, big["whole"])
    assert after_restart == before
    # The file can be whole a moment before the journal entry is written: a kill in that
    # moment leaves nothing to recover. Once the journal names the graph, recovery drops it.
    if not held and journal:
        assert journal == dropped == [Minter(BASE).graph("big")]
    elif not held:
        assert dropped == []


@pytest.fixture(scope="module")
def medium(tmp_path_factory) -> dict[str, object]:
    """A medium N-Triples file (one transaction), and its graph's quads once loaded whole."""
    root = tmp_path_factory.mktemp("medium")
    path = big_file(root / "medium.nt", 40_000, "medium")
    reference = root / "reference"
    big_file(root / "warm.nt", 10, "warm")
    assert mlg(reference, "load", str(root / "warm.nt")).returncode == 0  # the store exists, as below
    started = time.monotonic()
    finished = mlg(reference, "load", str(path), "--source", "big")
    seconds = time.monotonic() - started
    assert finished.returncode == 0, finished.stderr
    return {"path": path, "whole": len(quads(reference)[graph_of("big")]), "seconds": seconds}


@pytest.mark.parametrize("fraction", [0.5, 0.7, 0.85, 0.95])
def test_kill_9_during_an_atomic_commit_leaves_all_or_nothing(medium, tmp_path, fraction):
    """Killed at a fraction of the time a whole load takes: the last ones fall in the commit."""
    for attempt in range(4):  # a load faster than the reference: kill earlier, on a fresh store
        root = tmp_path / str(attempt)
        root.mkdir()
        store, before = prepared_store(root)
        seconds = fraction * medium["seconds"] * 0.85**attempt
        if kill_load(store, medium["path"], {}, root / "tmp", after(seconds), early_ok=True):
            break
    else:
        pytest.fail("every load ended before its kill point")
    after_restart = quads(store)
    held = after_restart.pop(graph_of("big"), [])
    assert len(held) in (0, medium["whole"]), f"a partial submission: {len(held)} of {medium['whole']}"
    assert after_restart == before
