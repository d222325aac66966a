"""JSON Lines made from compact JSON arrays, without parsing or serialising each object again.

A compact array of objects (`[{…},{…}]`, orjson's output and most vendors' pages) separates its
objects by exactly `},{`. When the array holds as many separators as it has objects less one, none
is inside a value: replacing them by `}\\n{` makes the array JSON Lines in one pass, and cutting at
them gives each object's own bytes. Anything else (whitespace between objects, a `},{` inside a
string, a line break anywhere) is left alone: callers serialise the objects themselves instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

#: Where one object ends and the next begins in a compact JSON array of objects.
BETWEEN_OBJECTS = b"},{"
_LINE_BREAKS = (b"\n", b"\r")
#: Whitespace at a brace: every separator between objects that is not exactly "},{" holds one of these.
_SPACED = (b"} ", b"}\t", b" {", b"\t{")
LINE_BREAK = b"\n"


@dataclass(frozen=True, slots=True)
class Lines:
    """`count` JSON lines held in `data[start:end]`, the last one without its line break. An array cut
    into lines keeps its brackets around them, uncopied: a day's pages are written without being copied
    again (each copy of a busy day's 25 MB is another pass over memory)."""

    data: bytes
    start: int
    end: int
    count: int

    @classmethod
    def of(cls, text: bytes, count: int) -> Lines:
        """Lines ending with a line break each."""
        return cls(text, 0, len(text) - 1, count)

    def pieces(self) -> list[bytes | memoryview]:
        """The lines, each ending with a line break, as pieces to write one after the other."""
        return [memoryview(self.data)[self.start : self.end], LINE_BREAK]

    def __bytes__(self) -> bytes:
        return self.data[self.start : self.end] + LINE_BREAK

    def middle(self, before: int, after: int) -> Lines:
        """These lines less `before` at the start and `after` at the end (a scan per line dropped)."""
        data, start, end = self.data, self.start, self.end
        for _ in range(before):
            start = data.index(LINE_BREAK, start, end) + 1
        for _ in range(after):
            end = data.rindex(LINE_BREAK, start, end)
        return Lines(data, start, end, self.count - before - after)


def _compact_array(array: bytes, count: int, *, written_compact: bool) -> bytes | None:
    """The array without trailing whitespace when it may be a compact array of `count` objects (the
    callers check that its separators are `count - 1`: one between each two objects, none inside).
    `written_compact`: the bytes are known to hold no whitespace between tokens (orjson's output)."""
    array = array.rstrip(b" \t\r\n") if array[-1:].isspace() else array
    if count < 1 or not array.startswith(b"[{") or not array.endswith(b"}]"):
        return None
    if written_compact:
        return array
    if any(brk in array for brk in _LINE_BREAKS):
        return None  # a line break between tokens would split a line
    if array.count(b"{") == count:
        # the objects' own braces are all there is: every "},{" then has an object's opening brace, so
        # it is a separator between two objects; `count - 1` of them are all the separators (one scan
        # of one byte, where looking for spaced separators takes four of two bytes)
        return array
    if any(spaced in array for spaced in _SPACED):
        # "}, {" between objects: then a "},{" in some string could make up the count (such a string
        # itself only costs the cut)
        return None
    return array


def cut_array(array: bytes, count: int, *, written_compact: bool = False) -> Lines | None:
    """A compact JSON array of `count` objects as JSON Lines, in one pass over its bytes; None when the
    bytes are not such an array."""
    compact = _compact_array(array, count, written_compact=written_compact)
    if compact is None:
        return None
    cut = compact.replace(BETWEEN_OBJECTS, b"}\n{")
    # the array held no line break: each one now is a separator (counting one byte: twice as fast)
    if cut.count(LINE_BREAK) != count - 1:
        return None  # a "},{" inside some value
    return Lines(cut, 1, len(cut) - 1, count)


def array_lines(array: bytes, count: int, *, written_compact: bool = False) -> bytes | None:
    """`cut_array`'s lines as bytes."""
    lines = cut_array(array, count, written_compact=written_compact)
    return None if lines is None else bytes(lines)


def object_bodies(array: bytes, count: int) -> list[bytes] | None:
    """Each object of a compact JSON array of `count` objects, without its outer braces (`"a":1` of
    `{"a":1}`): what `join_objects` writes one per line. None when the bytes cannot be cut safely."""
    compact = _compact_array(array, count, written_compact=False)
    if compact is None:
        return None
    bodies = compact.split(BETWEEN_OBJECTS)
    if len(bodies) != count:
        return None  # a "},{" inside some value
    bodies[0] = bodies[0][2:]  # "[{…" → "…"
    bodies[-1] = bodies[-1][:-2]  # "…}]" → "…"
    return bodies


def join_objects(bodies: Sequence[bytes]) -> bytes:
    """Objects cut by `object_bodies` as JSON Lines."""
    if not bodies:
        return b""
    # braces added to the end pieces only: wrapping the joined bytes would copy a day's rows twice more
    pieces = list(bodies)
    pieces[0] = b"{" + pieces[0]
    pieces[-1] += b"}\n"  # the same piece as the first when there is one
    return b"}\n{".join(pieces)


def _forgetting_lines(name: str) -> Callable[..., Any]:
    """A list method that changes the rows: their lines are no longer theirs."""
    change = getattr(list, name)

    def changed(self: RawRows, *args: Any, **kwargs: Any) -> Any:
        self.lines = self._sent = None
        return change(self, *args, **kwargs)

    changed.__name__ = name
    return changed


class RawRows(list[dict[str, Any]]):
    """A vendor's rows as parsed, with their JSON as the vendor sent it: JSON Lines in pieces, one line a
    row in order (`lines`; None when the answers could not be cut). A partition stores those bytes instead
    of serialising the rows again. Changing the list drops them; the row dicts must not be changed."""

    __slots__ = ("_sent", "lines")

    def __init__(self, rows: Iterable[dict[str, Any]] = (), *, lines: list[Lines] | None = None) -> None:
        super().__init__(rows)
        self.lines = lines
        #: The compact array these rows were parsed from, while its lines are not made yet.
        self._sent: bytes | None = None

    @classmethod
    def parsed(cls, rows: list[dict[str, Any]], sent: bytes) -> RawRows:
        """The rows of one answer, `sent` being its body; its lines are made when first asked for."""
        answer = cls(rows)
        answer._sent = sent if rows else None
        answer.lines = None if rows else []
        return answer

    def kept(self, rows: list[dict[str, Any]]) -> RawRows:
        """Some of these rows (the very objects, in their order), with their lines."""
        if not rows:
            return RawRows(lines=[])
        run = self._run_of(rows)
        if run is not None:  # the usual case: a few rows dropped at either end (the window's edges, overlap)
            pieces = self._lines()
            if pieces is not None and len(pieces) == 1:
                before, after = run
                return RawRows(rows, lines=[pieces[0].middle(before, after)])
        bodies = object_bodies(self._sent, len(self)) if self._sent is not None else None
        if bodies is None:
            return RawRows(rows)
        at = {id(row): position for position, row in enumerate(self)}
        return RawRows(rows, lines=[Lines.of(join_objects([bodies[at[id(row)]] for row in rows]), len(rows))])

    def _run_of(self, rows: list[dict[str, Any]]) -> tuple[int, int] | None:
        """(rows before, rows after) when `rows` are these rows less some at either end."""
        first = rows[0]
        before = next((position for position, row in enumerate(self) if row is first), None)
        if before is None or before + len(rows) > len(self):
            return None
        if not all(mine is theirs for mine, theirs in zip(islice(self, before, None), rows, strict=False)):
            return None
        return before, len(self) - before - len(rows)

    def _lines(self) -> list[Lines] | None:
        if self.lines is None and self._sent is not None:
            lines = cut_array(self._sent, len(self))
            self.lines, self._sent = ([lines] if lines is not None else None), None
        return self.lines

    def line_pieces(self) -> list[bytes | memoryview] | None:
        """The rows as JSON Lines from the vendor's bytes, in pieces to write one after the other; None
        when they are not at hand."""
        lines = self._lines()
        if lines is None or sum(part.count for part in lines) != len(self):
            return None
        return [piece for part in lines if part.count for piece in part.pieces()]

    def json_lines(self) -> bytes | None:
        """The rows as JSON Lines from the vendor's bytes; None when they are not at hand."""
        pieces = self.line_pieces()
        return None if pieces is None else b"".join(pieces)

    @classmethod
    def joined(cls, parts: Iterable[RawRows]) -> RawRows:
        """The rows of several, in order, with their lines when every part has them."""
        rows: list[dict[str, Any]] = []
        lines: list[Lines] | None = []
        for part in parts:
            rows += part
            pieces = part._lines()
            if lines is not None and pieces is not None:
                lines += pieces
            else:
                lines = None
        return cls(rows, lines=lines)


for _change in (
    "__setitem__", "__delitem__", "__iadd__", "__imul__",
    "append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse",
):  # fmt: skip
    setattr(RawRows, _change, _forgetting_lines(_change))
