"""Loaders turn an input into a :class:`~mlg.submission.Submission`; one module a format.

Each loader module exposes ``FORMATS``, a list of :class:`Format`. :func:`read_submission`
reads the input once (size-capped), picks the format (``--format`` wins; otherwise the
first format whose ``sniff`` accepts the file's name and first bytes) and calls its
``load``. Registry formats (MLflow, OpenLineage, ...) plug in the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mlg.errors import InputError, UnknownFormatError
from mlg.identity import Minter
from mlg.submission import Submission


@dataclass(frozen=True)
class Request:
    """Everything a loader gets: the bytes, where they came from, how to mint IRIs."""

    path: Path
    data: bytes
    minter: Minter
    source: str | None
    """The submission's identity if the user gave one (``--source``)."""

    def default_source(self, declared: str | None = None) -> str:
        """--source, else what the input declares, else the path as the user gave it."""
        return self.source or declared or str(self.path)


@dataclass(frozen=True)
class Format:
    name: str
    extensions: tuple[str, ...]
    help: str
    sniff: Callable[[Path, bytes], bool]
    load: Callable[[Request], Submission]


MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


def formats() -> list[Format]:
    """Every known format, in the order detection tries them."""
    from mlg.loaders import manifest, rdf

    return [*manifest.FORMATS, *rdf.FORMATS]


def format_names() -> list[str]:
    return [f.name for f in formats()]


def read_input(path: Path, max_bytes: int) -> bytes:
    """The bytes of an input file, or one clear error naming it.

    At most ``max_bytes + 1`` bytes are read, whatever the file claims: a pipe or a
    device reports no size.
    """
    limit = f"over the {max_bytes:,}-byte limit (MLG_MAX_INPUT_BYTES)"
    try:
        if path.is_dir():
            raise InputError("is a directory, not a file", where=str(path))
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(f"is {size:,} bytes, {limit}", where=str(path))
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise InputError("no such file", where=str(path)) from None
    except PermissionError:
        raise InputError("permission denied", where=str(path)) from None
    except OSError as error:
        raise InputError(f"cannot read: {error.strerror or error}", where=str(path)) from None
    if len(data) > max_bytes:
        raise InputError(f"is {limit}", where=str(path))
    return data


def detect(path: Path, data: bytes, forced: str | None = None) -> Format:
    known = formats()
    if forced:
        for candidate in known:
            if candidate.name == forced:
                return candidate
        raise UnknownFormatError(
            f"unknown format {forced!r}; known formats: " + ", ".join(f.name for f in known)
        )
    head = data[:4096]
    for candidate in known:
        if candidate.sniff(path, head):
            return candidate
    hint = (
        " (a manifest needs 'mlg-manifest: 1' at its top)" if path.suffix.lower() in MANIFEST_SUFFIXES else ""
    )
    names = ", ".join(f.name for f in known)
    raise UnknownFormatError(
        f"cannot tell the format of this file{hint}; name it with --format ({names})", where=str(path)
    )


def read_submission(
    path: Path | str, *, minter: Minter, max_bytes: int, format: str | None = None, source: str | None = None
) -> Submission:
    path = Path(path)
    data = read_input(path, max_bytes)
    chosen = detect(path, data, format)
    return chosen.load(Request(path, data, minter, source))
