"""The W3C SPARQL 1.1 Protocol tests (../shared/w3c/protocol), against `mlg serve` on loopback."""

from __future__ import annotations

import pytest
from test_w3c_manifest import TOKEN, W3C, load_graph_data, read_manifest, reset, run

MANIFEST = W3C / "protocol" / "manifest.ttl"
ENTRIES = read_manifest(MANIFEST) if MANIFEST.exists() else []

pytestmark = pytest.mark.skipif(not MANIFEST.exists(), reason="the W3C manifests (../shared/w3c) are absent")


@pytest.fixture(scope="module")
def server(serve):
    return serve({"MLG_UPDATE_TOKEN": TOKEN})


@pytest.mark.parametrize("entry", ENTRIES, ids=str)
def test_protocol(server, entry):
    reset(server)
    load_graph_data(server, entry)
    run(server, entry, {"/sparql/": "/sparql"})
