"""Backups of the on-disk store, and restoring one in place of the store.

:func:`backup` opens the store read-only, so it works while `mlg serve` holds it.
:func:`restore` checks the backup first, then swaps directories by rename, so a crash
leaves the old store or the new one at the store's path, never a mix.

>>> import tempfile
>>> from mlg.admission import install_ontology
>>> from mlg.store import open_store
>>> root = Path(tempfile.mkdtemp())
>>> install_ontology(open_store(root / "store"))
>>> backup(root / "store", root / "copy") > 0
True
>>> restore(root / "copy", root / "store") > 0
True
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import shutil
import tempfile
from pathlib import Path

from pyoxigraph import NamedNode

from mlg.errors import StoreLockedError, UsageError
from mlg.store import OxigraphStore, open_store
from mlg.vocab import ONTOLOGY_IRI


def backup(store_path: Path, target: Path) -> int:
    """Copy the store at ``store_path`` to ``target`` (absent or empty); returns the quads copied.

    The copy is RocksDB's checkpoint of a read-only view of the store. When another
    process holds the store, recent writes may still be only in its write-ahead log,
    which a read-only checkpoint can miss: the copy's size is checked against the view,
    and when they differ the copy is rebuilt from a dump of the view instead.
    """
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UsageError("exists and is not empty: give a new directory for the backup", where=str(target))
    source = open_store(store_path, read_only=True)
    expected = len(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.backup-", dir=target.parent))
    copy = staging / "store"
    try:
        source.backup(copy)
        if _count(copy) != expected:
            shutil.rmtree(copy)
            _rebuild(source, copy)
        if target.exists():
            target.rmdir()
        copy.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return expected


def restore(source: Path, store_path: Path) -> int:
    """Replace the store at ``store_path`` by the backup at ``source``; returns its quads.

    Refused, with nothing touched, when ``source`` is not an mlg store or another process
    holds the store.
    """
    quads = _check_backup(source)
    _check_not_held(store_path)
    store_path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{store_path.name}.restore-", dir=store_path.parent))
    try:
        incoming = staging / "store"
        backup_store = OxigraphStore(source, read_only=True)
        backup_store.backup(incoming)  # hard links on the same file system: cheap
        _close(backup_store)
        if _count(incoming) != quads:
            shutil.rmtree(incoming)
            _rebuild(OxigraphStore(source, read_only=True), incoming)
        if store_path.exists():
            _exchange(incoming, store_path)  # incoming now holds the old store
        else:
            incoming.rename(store_path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return quads


def _check_backup(source: Path) -> int:
    if not source.is_dir():
        raise UsageError("is not a directory: give a backup made by `mlg backup`", where=str(source))
    try:
        store = OxigraphStore(source, read_only=True)
        ok = store.has_graph(NamedNode(ONTOLOGY_IRI))
        quads = len(store)
    except Exception:
        ok = False
    if not ok:
        raise UsageError("is not an mlg store (no ontology graph): nothing was changed", where=str(source))
    _close(store)
    return quads


def _check_not_held(store_path: Path) -> None:
    if not store_path.exists():
        return
    try:
        store = OxigraphStore(store_path)
    except StoreLockedError:
        raise StoreLockedError(
            f"the store at {store_path} is held by another process (mlg serve?): "
            "stop the server, then restore"
        ) from None
    _close(store)


def _count(path: Path) -> int:
    store = OxigraphStore(path, read_only=True)
    try:
        return len(store)
    finally:
        _close(store)


def _rebuild(source: OxigraphStore, target: Path) -> None:
    """A fresh store at ``target`` holding every quad of ``source``, through a dump."""
    from pyoxigraph import RdfFormat

    fd, name = tempfile.mkstemp(prefix="mlg-backup-", suffix=".nq", dir=target.parent)
    dump = Path(name)
    try:
        with os.fdopen(fd, "wb") as output:
            source.dump(output, RdfFormat.N_QUADS)
        copy = OxigraphStore(target)
        copy.bulk_add(dump)
        _close(copy)
    finally:
        dump.unlink(missing_ok=True)


def _close(store: OxigraphStore) -> None:
    store.close()
    gc.collect()  # pyoxigraph releases RocksDB's lock and files when the Store is collected


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> None:
    """Swap two directories in one step (Linux renameat2), else by two renames.

    With two renames a crash between them leaves the old store beside the store's path
    (in a ``.NAME.restore-*`` directory) and nothing at the path itself.
    """
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is not None:
        result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
        if result == 0:
            return
    aside = a.with_name(a.name + ".old")
    b.rename(aside)
    a.rename(b)
    aside.rename(a)
