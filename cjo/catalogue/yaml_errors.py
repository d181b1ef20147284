"""What a YAML syntax error means, in words a marketer can act on, at the line of the mistake.

PyYAML reports where its parser gave up, which is often the line after the mistake (an unclosed
``[`` is noticed at the end of the file; a missing ``:`` when the next line starts). Where the
parser also says what it was reading (a quoted text, a ``[...]`` list, a ``name: value`` line),
that is where the mistake is, so that line is reported; otherwise the line it gave up on, never
past the last line of the file.
"""

from __future__ import annotations

import re

import yaml

_NO_SPACE = re.compile(r"^\s*(?:-\s+)?[A-Za-z_][\w-]*:[^\s/:]")
_INDENTATION = ("the indentation does not match the lines above: entries of one list or mapping "
                "start in the same column (use spaces, not tabs)")


def explain_yaml(error: yaml.MarkedYAMLError, text: str) -> tuple[int, str]:  # noqa: PLR0911
    """``(line, reason)`` of a syntax error in ``text`` (1-based line)."""
    problem = str(error.problem or "")
    context = str(error.context or "")
    mark = error.problem_mark or error.context_mark
    at = _clamp(mark.line + 1 if mark is not None else 1, text)
    opened = _clamp(error.context_mark.line + 1, text) if error.context_mark else at
    if "flow sequence" in context:
        return opened, 'a list opened with "[" is not closed with "]" (or an item needs quotes)'
    if "flow mapping" in context:
        return opened, 'a mapping opened with "{" is not closed with "}" (or a value needs quotes)'
    if "flow node" in context:
        return at, 'a list or mapping opened with "[" or "{" is not closed'
    if "quoted scalar" in context:
        return opened, ("a quote is not closed: a text that starts with a quote must end with the "
                        "same quote, on the same line or a later one")
    if "simple key" in context:
        return opened, ('a "name: value" line needs a ":" and a space after the name '
                        "(or the line belongs to the text above and needs its indentation)")
    if "cannot start any token" in problem:
        found = problem.split("'")[1] if "'" in problem else "?"
        if found == "\\t":
            return at, "a tab character: indent with spaces only"
        return at, f"a value cannot start with {found}: put the value in quotes"
    if problem.startswith("mapping values are not allowed"):
        return _unexpected_colon(at, text)
    if "but found '<scalar>'" in problem:
        return at, ("text where none is expected: quote the whole value (a value that starts "
                    "with a quote ends with it), or check the indentation")
    if problem.startswith("expected <block end>") or "block" in context:
        return at, _indentation(at, text)
    if problem.startswith("found undefined alias"):
        return at, "a value cannot start with *: put the value in quotes"
    return at, " ".join(part for part in (context, problem) if part)


def _indentation(at: int, text: str) -> str:
    """The indentation reason, told that a new list entry needs its "- " when the line sits in
    the column of a "- " entry above."""
    lines = text.splitlines()
    line = lines[at - 1] if at <= len(lines) else ""
    column = _indent(line)
    above = [ln for ln in lines[:at - 1] if ln.strip() and not ln.lstrip().startswith("#")]
    same = next((ln for ln in reversed(above) if len(ln) - len(ln.lstrip()) <= column), "")
    if (not line.lstrip().startswith("-") and same.lstrip().startswith("- ")
            and len(same) - len(same.lstrip()) == column):
        return 'a new entry of the list above starts with "- " (or indent this line further)'
    return _INDENTATION


def _unexpected_colon(at: int, text: str) -> tuple[int, str]:
    lines = text.splitlines()
    line = lines[at - 1] if at <= len(lines) else ""
    above = next((lines[n - 1] for n in range(at - 1, 0, -1) if lines[n - 1].strip()), "")
    if _NO_SPACE.match(above):
        return _line_of(lines, above, at), ('a name needs a space after its ":" '
                                            '("id: a", not "id:a")')
    if ": " in line.split(": ", 1)[-1]:
        return at, 'a text containing ": " needs quotes ("Note: this")'
    if _indent(line) > _indent(above):
        return at, "this line is indented further than the one it belongs to"
    return at, ('a ":" that is not expected here: a text containing ": " needs quotes '
                '("Note: this")')


def _line_of(lines: list[str], wanted: str, before: int) -> int:
    return next(n for n in range(before - 1, 0, -1) if lines[n - 1] == wanted)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" -"))


def _clamp(line: int, text: str) -> int:
    """``line``, or the last line with something on it when the parser ran off the end."""
    lines = text.splitlines()
    last = len(lines)
    while last > 1 and not lines[last - 1].strip():
        last -= 1
    return max(1, min(line, last))
