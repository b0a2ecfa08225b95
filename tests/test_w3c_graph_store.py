"""The W3C SPARQL 1.1 Graph Store HTTP Protocol tests (../shared/w3c/graph-store-protocol), direct
and indirect graph identification and graph creation by POST, against `mlg serve` on loopback."""

from __future__ import annotations

import pytest
from test_w3c_manifest import TOKEN, W3C, read_manifest, reset, run

MANIFEST = W3C / "graph-store-protocol" / "manifest.ttl"
ENTRIES = read_manifest(MANIFEST) if MANIFEST.exists() else []

pytestmark = pytest.mark.skipif(not MANIFEST.exists(), reason="the W3C manifests (../shared/w3c) are absent")


@pytest.fixture(scope="module")
def server(serve):
    return serve({"MLG_UPDATE_TOKEN": TOKEN})


@pytest.mark.parametrize("entry", ENTRIES, ids=str)
def test_graph_store(server, entry):
    reset(server)
    run(server, entry, {"/gsp": "/store"})
