"""The HTTP server: SPARQL 1.1 Protocol, Graph Store Protocol, service description, health."""

from mlg.server.app import create_app

__all__ = ["create_app"]
