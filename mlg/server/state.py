"""What every view of one server shares: settings, the store, and the objects built on it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from mlg.admission import Gate
from mlg.config import Config
from mlg.identity import Minter
from mlg.lineage_index import LineageIndex
from mlg.server.auth import Tokens
from mlg.server.description import Description
from mlg.server.executor import Executor
from mlg.server.guard import Policy, Token, inspect
from mlg.server.workers import ProcessExecutor, default_executor
from mlg.server.writer import Freshness, Link, LocalWriter, RemoteWriter, WriteSide
from mlg.store import GraphName, GraphStore

T = TypeVar("T")


@dataclass
class ServerState:
    config: Config
    store: GraphStore
    """What requests read: the store itself, or in a worker of ``mlg serve`` its current read-only view."""
    minter: Minter
    executor: Executor
    tokens: Tokens
    policy: Policy
    description: Description
    lineage: LineageIndex
    """The lineage edges, kinds and names of ``store``, in memory: the lineage API reads them."""
    cors_origins: frozenset[str]
    freshness: Freshness | None = None
    """In a worker of ``mlg serve``: tells when the writer process has written."""
    writer: LocalWriter | RemoteWriter = field(init=False)
    """Where writes run: this process, or the writer process of ``mlg serve``."""
    _catching_up: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def build(
        cls, config: Config, store: GraphStore, executor: Executor | None = None, link: Link | None = None
    ) -> ServerState:
        """The state over ``store`` (written in this process), or over the writer process at ``link``."""
        minter = Minter(config.base_iri)
        freshness = None
        if link is not None:
            freshness = Freshness(link, config.store)
            store = freshness.store
        if executor is None:  # on disk: queries in worker processes, cut at the timeout
            executor = default_executor(
                store, workers=config.query_workers, timeout=config.query_timeout, max_rows=config.max_rows
            )
            if link is not None and isinstance(executor, ProcessExecutor):
                executor.start()  # a worker of mlg serve: the first queries need not wait for them
        state = cls(
            config=config,
            store=store,
            minter=minter,
            executor=executor,
            tokens=Tokens.from_config(config),
            policy=Policy.of(
                Config.split(config.service_allow), config.max_query_length, config.max_query_depth
            ),
            description=Description(store),
            lineage=LineageIndex.build(store),
            cors_origins=frozenset(Config.split(config.cors_origins)),
            freshness=freshness,
        )
        if link is not None:
            state.writer = RemoteWriter(link)
        else:
            gate = Gate(store, minter, atomic_limit=config.atomic_limit, chunk_assets=config.chunk_assets)
            state.writer = LocalWriter(WriteSide(store, gate, minter), state._changed)
        return state

    def write(self, write: Callable[..., T], *args: Any) -> T:
        """Run a write function (see :mod:`mlg.server.writer`) where the store is held for writing."""
        try:
            return self.writer.run(write, *args)
        finally:
            self.refresh()

    def refresh(self) -> None:
        """Catch up with the writer process's writes (each request starts with this)."""
        if self.freshness is None or self.freshness.current():
            return
        with self._catching_up:  # a request starting meanwhile waits: it must see the write too
            fresh = self.freshness.poll()
            if fresh is not None:
                store, changed = fresh
                self.store = self.description.store = store
                self._changed(changed)

    def _changed(self, changed: list[GraphName] | None) -> None:
        """After a write: ``changed`` are the graphs written (None: maybe any)."""
        self.description.invalidate()
        self.executor.changed(self.freshness.seen if self.freshness else None)
        if changed is None and self.freshness is not None:
            # A SPARQL update: re-reading every graph takes seconds on a large store, so a
            # worker of mlg serve does it aside, answering lineage from the state before.
            threading.Thread(
                target=self.lineage.refresh, args=(self.store, None), name="mlg-lineage-rebuild", daemon=True
            ).start()
        else:
            self.lineage.refresh(self.store, changed)

    def inspect(self, text: str) -> list[Token]:
        """The tokens of a query or update, or the error saying why it may not run."""
        return inspect(text, self.policy)
