"""Settings: one row each, with its environment variable, default and help.

Every command reads its settings from here (flags override the environment, the
environment overrides the default), and the README's settings table is these rows.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

from mlg.errors import UsageError


def _data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "mlg"


@dataclass(frozen=True)
class Setting:
    name: str
    env: str
    help: str


SETTINGS = (
    Setting(
        "store",
        "MLG_STORE",
        "Directory of the on-disk Oxigraph store "
        "(default: $XDG_DATA_HOME/mlg/store, i.e. ~/.local/share/mlg/store).",
    ),
    Setting(
        "base_iri",
        "MLG_BASE_IRI",
        "Base under which asset IRIs are minted (default: https://mlg.example.org/).",
    ),
    Setting(
        "max_input_bytes",
        "MLG_MAX_INPUT_BYTES",
        "Largest input file a loader reads, in bytes (default: 268435456, 256 MiB).",
    ),
    Setting(
        "atomic_limit",
        "MLG_ATOMIC_LIMIT",
        "Submissions up to this many triples commit in one transaction; "
        "larger ones stream through the bulk loader (default: 500000).",
    ),
    Setting("chunk_assets", "MLG_CHUNK_ASSETS", "Assets validated by SHACL per batch (default: 2000)."),
)


@dataclass(frozen=True)
class Config:
    store: Path = field(default_factory=lambda: _data_home() / "store")
    base_iri: str = "https://mlg.example.org/"
    max_input_bytes: int = 256 * 1024 * 1024
    atomic_limit: int = 500_000
    chunk_assets: int = 2000

    @classmethod
    def from_env(cls, **overrides: object) -> Config:
        """Defaults, then the environment, then explicit overrides that are not None."""
        values: dict[str, object] = {}
        types = {f.name: f.type for f in fields(cls)}
        for setting in SETTINGS:
            raw = os.environ.get(setting.env)
            if not raw:
                continue
            kind = types[setting.name]
            try:
                values[setting.name] = Path(raw) if kind == "Path" else int(raw) if kind == "int" else raw
            except ValueError:
                raise UsageError(f"{setting.env}={raw!r} is not a whole number") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


def default_demo_store() -> Path:
    """Where ``mlg demo`` builds its fresh store when no --store is given."""
    return _data_home() / "demo-store"
