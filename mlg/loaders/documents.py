"""Reading the documents loaders parse: JSON, JSON lines and YAML, safely, with places in errors.

Every failure is one :class:`~mlg.errors.InputError` naming the file and, where the
parser knows it, the line and column. YAML is safe YAML, stricter still: aliases are
refused (an alias bomb cannot expand) and so are duplicate keys (the second would
silently win); dates stay text so that the mapping reports a bad one with its field.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, ClassVar

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from mlg.errors import InputError


def decode(location: str, data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"not UTF-8 (byte {error.start})", where=location) from None
    return text.removeprefix("\ufeff")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    for key, value in pairs:
        if key in mapping:
            raise InputError(f"malformed JSON: duplicate key {key!r}")
        mapping[key] = value
    return mapping


def parse_json(location: str, data: bytes | str, *, unique_keys: bool = True) -> Any:
    """One JSON document. ``unique_keys=False`` lets the last of duplicate keys win, as
    registries' own readers do (real DataHub exports carry some)."""
    text = data if isinstance(data, str) else decode(location, data)
    hook = _no_duplicate_keys if unique_keys else None
    try:
        return json.loads(text, object_pairs_hook=hook)
    except InputError as error:
        raise InputError(error.message, where=location) from None
    except json.JSONDecodeError as error:
        raise InputError(
            f"malformed JSON: {error.msg}", where=f"{location}:{error.lineno}:{error.colno}"
        ) from None
    except RecursionError:
        raise InputError("JSON nested too deeply", where=location) from None


def parse_json_lines(location: str, data: bytes | str, *, unique_keys: bool = True) -> Iterator[Any]:
    """Newline-delimited JSON: one document a line; blank lines are skipped."""
    text = data if isinstance(data, str) else decode(location, data)
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield parse_json(f"{location}:{number}", line, unique_keys=unique_keys)


class _Strict:
    """Safe YAML, stricter: aliases and duplicate keys refused, dates left as text."""

    yaml_implicit_resolvers: ClassVar = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.MarkedYAMLError(problem="YAML aliases (*name) are not allowed", problem_mark=mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.MarkedYAMLError(problem=f"duplicate key {key!r}", problem_mark=key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


class StrictYamlLoader(_Strict, yaml.SafeLoader):
    """All in Python."""


_LOADER: type = StrictYamlLoader
if yaml.__with_libyaml__:
    from yaml.cyaml import CParser

    class StrictCYamlLoader(_Strict, Composer, CParser, SafeConstructor, Resolver):
        """libyaml scans and parses (6x faster); Python composes, so aliases and depth are still checked.

        Composer comes before CParser: CParser's own composer is C, with neither check.
        """

        def __init__(self, stream: Any) -> None:
            CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

    _LOADER = StrictCYamlLoader


def parse_yaml(location: str, data: bytes | str, *, all_documents: bool = False) -> Any:
    """One YAML document, or with ``all_documents`` the list of a multi-document stream."""
    text = data if isinstance(data, str) else decode(location, data)
    try:
        if all_documents:
            return list(yaml.load_all(text, Loader=_LOADER))
        return yaml.load(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"{location}:{mark.line + 1}:{mark.column + 1}" if mark else location
        raise InputError(f"malformed YAML: {error.problem}", where=where) from None
    except (yaml.YAMLError, ValueError, OverflowError) as error:
        raise InputError(f"malformed YAML: {error}", where=location) from None
    except RecursionError:
        raise InputError("YAML nested too deeply", where=location) from None
