"""The HTTP server: SPARQL 1.1 Protocol, Graph Store Protocol, service description, health."""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    # Imported on first use: a query worker process imports mlg.server.workers, not Flask.
    if name == "create_app":
        from mlg.server.app import create_app

        return create_app
    raise AttributeError(name)
