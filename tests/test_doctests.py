"""The `>>>` examples in docstrings are run, so the documentation cannot drift from the code."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["mlg.identity", "mlg.sparql", "mlg.loaders.datahub_urns", "mlg.backup"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0
