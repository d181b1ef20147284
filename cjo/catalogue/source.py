"""Reading one catalogue YAML text into plain values, keeping the line of every entry.

:func:`parse` returns the document (dicts, lists, str, int, float, bool, None) and a map from
paths such as ``("triggers", 3, "params", "below")`` to 1-based line numbers: the line of the
key for a mapping entry, the line of the item for a list entry, 1 for the document itself.

Plain scalars are read by the YAML 1.2 core rules, not PyYAML's YAML 1.1 ones: only
``true``/``false`` are booleans (``on: enter`` stays the key ``"on"``, the language ``no`` stays
Norwegian), there are no sexagesimal numbers (``1:30``) and no implicit dates. Mapping keys are
always strings. A duplicate key is refused at its second line; a syntax error is refused at the
line of the mistake, in plain words
(:mod:`cjo.catalogue.yaml_errors`).

A catalogue may arrive from a control topic, so parsing is bounded before it can cost much: a
text of more than ``MAX_CHARS`` characters is refused unread, nesting deeper than ``MAX_DEPTH``
is refused while composing (before Python's recursion limit), and the plain value built is at
most :func:`max_values` values, counted while composing and again with aliases expanded (a 1 KB
"billion laughs" alias bomb is refused at once instead of blocking the worker). Each is a
:class:`CatalogueError` at its line, saying what to do.

The bound on values follows what the text costs to read: ``MAX_NODES``, or one value per
``CHARS_PER_VALUE`` characters of a longer text. A catalogue has one value per 20 to 50
characters (names, numbers, offer texts), so any catalogue under ``MAX_CHARS`` (2,000 triggers
and more) is within it, while aliases can only repeat what the text itself could have held: the
work of parsing and checking stays proportional to the text's length, whatever its aliases.

"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from cjo.catalogue.yaml_errors import explain_yaml
from cjo.errors import CatalogueError

Path = tuple[str | int, ...]

MAX_CHARS = 1_000_000  # per file: the bundled catalogue is about 20 KB
MAX_DEPTH = 40  # nested mappings and lists: a catalogue needs 8
MAX_NODES = 20_000  # values in a short text, each alias counted as often as it is used
CHARS_PER_VALUE = 8  # a longer text: one value per this many characters (the bundled file: 50)

_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"


class _OutOfBounds(Exception):
    def __init__(self, line: int, reason: str) -> None:
        self.line = line
        self.reason = reason


class _Loader(yaml.SafeLoader):
    """SafeLoader composing nodes with the YAML 1.2 core schema's implicit types, refusing to
    nest deeper than ``MAX_DEPTH`` (PyYAML's composer recurses once per level) or to compose
    more than ``max_nodes`` nodes."""

    yaml_implicit_resolvers: dict[Any, list[tuple[str, re.Pattern[str]]]] = {}  # noqa: RUF012
    _depth = 0
    _nodes = 0
    max_nodes = MAX_NODES

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        self._nodes += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _OutOfBounds(self._line(), f"nested deeper than {MAX_DEPTH} levels")
            if self._nodes > self.max_nodes:
                raise _OutOfBounds(self._line(), _too_many(self.max_nodes, "") + (
                    "; a catalogue has about one value per 20 characters: split a long list "
                    "over several entries or files"))
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def _line(self) -> int:
        return int(self.peek_event().start_mark.line) + 1  # type: ignore[no-untyped-call]


_Loader.add_implicit_resolver(_NULL, re.compile(r"^(?:~|null|Null|NULL|)$"),
                              ["~", "n", "N", ""])
_Loader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                              list("tTfF"))
_Loader.add_implicit_resolver(_INT, re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
                              list("-+0123456789"))
_Loader.add_implicit_resolver(
    _FLOAT,
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
               r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."),
)


@dataclass(frozen=True, slots=True)
class Parsed:
    """A parsed catalogue text: its plain value and the line of every path in it."""

    value: Any
    lines: dict[Path, int] = field(default_factory=dict)
    #: first content line of each literal block scalar (``key: |``), so a problem on the n-th line
    #: of a multi-line text can be placed on its own line
    blocks: dict[Path, int] = field(default_factory=dict)

    def line_in(self, path: Path, text_line: int) -> int:
        """Line of the ``text_line``-th (0-based) line of the text at ``path``."""
        if path in self.blocks:
            return self.blocks[path] + text_line
        return self.line_of(path)

    def line_of(self, path: Path) -> int:
        """Line of the longest prefix of ``path`` that has one (at least the document's, 1)."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return 1


def max_values(text: str) -> int:
    """How many values ``text`` may hold, aliases expanded: ``MAX_NODES``, or one per
    ``CHARS_PER_VALUE`` characters of a longer text."""
    return max(MAX_NODES, len(text) // CHARS_PER_VALUE)


def _too_many(bound: int, aliases: str) -> str:
    return f"more than {bound:,} values{aliases}"


def parse(file: str, text: str) -> Parsed:
    """Parse one YAML text; raise :class:`CatalogueError` (file, line) if it is not valid YAML
    or exceeds a bound (size, depth, values)."""
    if len(text) > MAX_CHARS:
        raise CatalogueError(file, 1, "", f"too large: {len(text):,} characters "
                                          f"(at most {MAX_CHARS:,} per file): split its "
                                          "triggers over several files of one catalogue")
    bound = max_values(text)
    try:
        root = _compose(text, bound)
    except _OutOfBounds as error:
        raise CatalogueError(file, error.line, "", error.reason) from None
    except yaml.MarkedYAMLError as error:
        line, reason = explain_yaml(error, text)
        raise CatalogueError(file, line, "", f"not valid YAML: {reason}") from None
    except yaml.YAMLError as error:
        raise CatalogueError(file, 1, "", f"not valid YAML: {error}") from None
    walker = _Walker(file, bound)
    if root is None:
        return Parsed(None, walker.lines)
    return Parsed(walker.value(root, ()), walker.lines, walker.blocks)


def _compose(text: str, max_nodes: int) -> Any:
    """``yaml.compose`` with :class:`_Loader`, at most ``max_nodes`` nodes."""
    loader = _Loader(text)
    loader.max_nodes = max_nodes
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


class _Walker:
    def __init__(self, file: str, max_nodes: int) -> None:
        self.file = file
        self.max_nodes = max_nodes
        self.lines: dict[Path, int] = {(): 1}
        self.blocks: dict[Path, int] = {}
        self.depth = 0
        self.nodes = 0

    def value(self, node: yaml.Node, path: Path) -> Any:
        self.depth += 1
        self.nodes += 1
        if self.depth > MAX_DEPTH:
            raise CatalogueError(self.file, _line(node), _show(path),
                                 f"nested deeper than {MAX_DEPTH} levels (a recursive alias?)")
        if self.nodes > self.max_nodes:
            raise CatalogueError(self.file, _line(node), _show(path), _too_many(
                self.max_nodes, ", aliases expanded (an alias bomb?): a text may hold one "
                f"value per {CHARS_PER_VALUE} characters, aliases expanded included; write the "
                "repeated parts out, or alias fewer of them"))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
            if isinstance(node, yaml.SequenceNode):
                if node.tag != _SEQ:
                    raise self._tag_error(node, path)
                items: list[Any] = []
                for index, item in enumerate(node.value):
                    self.lines[(*path, index)] = _line(item)
                    items.append(self.value(item, (*path, index)))
                return items
            assert isinstance(node, yaml.ScalarNode)
            return self._scalar(node, path)
        finally:
            self.depth -= 1

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        if node.tag != _MAP:
            raise self._tag_error(node, path)
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise CatalogueError(self.file, _line(key_node), _show(path),
                                     "a key must be a plain name, not a list or mapping")
            key = str(key_node.value)
            if key in result:
                raise CatalogueError(
                    self.file, _line(key_node), _show((*path, key)),
                    f"duplicate key {key!r} (first at line {self.lines[(*path, key)]})")
            self.lines[(*path, key)] = _line(key_node)
            result[key] = self.value(value_node, (*path, key))
        return result

    def _scalar(self, node: yaml.ScalarNode, path: Path) -> Any:  # noqa: PLR0911 (one per tag)
        text = str(node.value)
        tag = node.tag
        if tag == _STR:
            if node.style == "|":
                self.blocks[path] = _line(node) + 1  # the line after the ``|`` indicator
            return text
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return text.lower() == "true"
        if tag == _INT:
            if text.startswith(("0o", "0x")):
                return int(text, 0)
            return int(text)
        if tag == _FLOAT:
            lowered = text.lower().lstrip("+")
            if lowered in (".inf", "-.inf", ".nan"):
                return float(lowered.replace(".", ""))
            return float(text)
        raise self._tag_error(node, path)

    def _tag_error(self, node: yaml.Node, path: Path) -> CatalogueError:
        return CatalogueError(self.file, _line(node), _show(path),
                              f"unsupported YAML tag {node.tag!r}")


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _show(path: Path) -> str:
    """``("triggers", 3, "params")`` -> ``triggers[3].params``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out
