"""The README is part of the product: its commands, settings and queries must stay true."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mlg.cli import cli
from mlg.config import SETTINGS
from mlg.loaders import format_names
from mlg.loaders.mapping import EDGES
from mlg.store import open_store
from mlg.vocab import KINDS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
SPARQL_BLOCKS = re.findall(r"```sparql\n(.*?)```", README, re.S)


def test_readme_starts_with_the_two_newcomer_commands():
    first_block = re.search(r"```bash\n(.*?)```", README, re.S).group(1)
    commands = [line for line in first_block.splitlines() if line and not line.startswith("#")]
    assert len(commands) == 2
    assert "pip install ." in commands[0] and commands[0].endswith("mlg demo")
    assert "pip install '.[test]'" in commands[1] and commands[1].endswith("pytest")


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_is_documented(command):
    assert f"`mlg {command}`" in README


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.env)
def test_every_setting_is_documented(setting):
    assert f"`{setting.env}`" in README


def test_every_kind_edge_and_format_is_documented():
    for name in [*KINDS, *format_names()]:
        assert f"`{name}`" in README, name
    for edge in EDGES:
        assert f"`{edge}`" in README or f"`mlg:{edge}`" in README, edge


def test_every_cookbook_query_runs_on_the_demo(demo_loaded):
    assert len(SPARQL_BLOCKS) >= 6
    store = open_store(demo_loaded, read_only=True)
    answered = 0
    for block in SPARQL_BLOCKS:
        rows = list(store.query(block))
        answered += bool(rows)
    # Every query but "production model versions with no evaluation" has answers in the demo.
    assert answered == len(SPARQL_BLOCKS) - 1
