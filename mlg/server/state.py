"""What every view of one server shares: settings, the store, and the objects built on it."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from mlg.admission import Gate
from mlg.config import Config
from mlg.identity import Minter
from mlg.server.auth import Tokens
from mlg.server.description import Description
from mlg.server.executor import Executor
from mlg.server.guard import Policy, Token, inspect
from mlg.server.workers import default_executor
from mlg.store import GraphStore


@dataclass
class ServerState:
    config: Config
    store: GraphStore
    minter: Minter
    gate: Gate
    executor: Executor
    tokens: Tokens
    policy: Policy
    description: Description
    cors_origins: frozenset[str]
    write_lock: threading.Lock = field(default_factory=threading.Lock)
    """Writes run one at a time: a Graph Store write reads the graph, then replaces it."""

    @classmethod
    def build(cls, config: Config, store: GraphStore, executor: Executor | None = None) -> ServerState:
        minter = Minter(config.base_iri)
        if executor is None:  # on disk: queries in worker processes, cut at the timeout
            store, executor = default_executor(
                store, workers=config.query_workers, timeout=config.query_timeout, max_rows=config.max_rows
            )
        return cls(
            config=config,
            store=store,
            minter=minter,
            gate=Gate(store, minter, atomic_limit=config.atomic_limit, chunk_assets=config.chunk_assets),
            executor=executor,
            tokens=Tokens.from_config(config),
            policy=Policy.of(
                Config.split(config.service_allow), config.max_query_length, config.max_query_depth
            ),
            description=Description(store),
            cors_origins=frozenset(Config.split(config.cors_origins)),
        )

    def inspect(self, text: str) -> list[Token]:
        """The tokens of a query or update, or the error saying why it may not run."""
        return inspect(text, self.policy)

    def changed(self) -> None:
        """Called after every write: cached statistics are stale."""
        self.description.invalidate()
