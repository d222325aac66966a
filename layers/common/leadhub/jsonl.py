"""JSON Lines cut from compact JSON arrays, without parsing or serialising each object again.

A compact array of objects (`[{…},{…}]`, orjson's output and most vendors' pages) separates its
objects by exactly `},{`. When the array holds as many separators as it has objects less one, none
is inside a value, and cutting at them gives each object's own bytes. Anything else (whitespace
between objects, a `},{` inside a string, a line break anywhere) is not cut: callers serialise the
objects themselves instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

#: Where one object ends and the next begins in a compact JSON array of objects.
BETWEEN_OBJECTS = b"},{"
_LINE_BREAKS = (b"\n", b"\r")


def object_bodies(array: bytes, count: int) -> list[bytes] | None:
    """Each object of a compact JSON array of `count` objects, without its outer braces (`"a":1` of
    `{"a":1}`): what `join_objects` writes one per line. None when the bytes cannot be cut safely."""
    array = array.rstrip(b" \t\r\n") if array[-1:].isspace() else array
    if count < 1 or not array.startswith(b"[{") or not array.endswith(b"}]"):
        return None
    if any(brk in array for brk in _LINE_BREAKS):
        return None  # a line break between tokens would split a line
    bodies = array.split(BETWEEN_OBJECTS)
    if len(bodies) != count:
        return None  # a "},{" inside some value: the pieces are not the objects
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


class RawRows(list[dict[str, Any]]):
    """A vendor's rows as parsed, with each one's JSON as the vendor sent it (`bodies`, cut by
    `object_bodies`; None when the answers could not be cut). A partition stores those bytes instead
    of serialising the rows again; the rows must not be changed, or the bytes would not be theirs."""

    __slots__ = ("bodies",)

    def __init__(self, rows: Sequence[dict[str, Any]] = (), bodies: list[bytes] | None = None) -> None:
        super().__init__(rows)
        self.bodies = bodies if bodies is not None and len(bodies) == len(self) else None

    def json_lines(self) -> bytes | None:
        """The rows as JSON Lines from the vendor's bytes; None when they are not at hand."""
        if self.bodies is None or len(self.bodies) != len(self):
            return None
        return join_objects(self.bodies)
