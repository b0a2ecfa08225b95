"""Where the files that ship with mlg are: ontology, shapes, SPARQL queries, demo data.

In a wheel the Turtle files sit inside the package (``mlg/ontology``, ``mlg/shapes``);
in a source checkout they sit at the repository's top level, next to ``mlg/``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def _shipped(folder: str, name: str) -> Path:
    for candidate in (PACKAGE_DIR / folder / name, PACKAGE_DIR.parent / folder / name):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{folder}/{name} is missing from this installation of mlg")


def ontology_path() -> Path:
    return _shipped("ontology", "mlg.ttl")


def shapes_path() -> Path:
    return _shipped("shapes", "mlg-shapes.ttl")


def demo_dir() -> Path:
    return PACKAGE_DIR / "demo"


@cache
def query(name: str) -> str:
    """The text of ``mlg/queries/<name>.rq``."""
    return (PACKAGE_DIR / "queries" / f"{name}.rq").read_text(encoding="utf-8")
