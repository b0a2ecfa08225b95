"""Shared fixtures: real pyoxigraph stores (in memory or on disk), the real CLI."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mlg.admission import Gate
from mlg.cli import cli
from mlg.identity import Minter
from mlg.store import OxigraphStore, open_store

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
    result = mlg("demo", "--store", str(store_path))
    assert result.exit_code == 0, result.output
    return store_path
