"""numpy views of an Arrow string array's bytes, for cheap per-value prefilters.

Regex and strptime passes cost tens of nanoseconds a value; reading a value's length,
its first bytes or a fixed-width slice of it straight from the Arrow buffers costs a
few. Inference and conversion use these views to send each value only to the parsers
that could accept it, so a text column never pays for the number parsers and a number
column never pays for the date parsers.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pyarrow as pa

ASCII_WHITESPACE = b" \t\n\v\f\r"


def byte_set(chars: bytes) -> np.ndarray:
    """A 256-entry lookup table, True at each byte of ``chars``."""
    table = np.zeros(256, dtype=bool)
    table[np.frombuffer(chars, dtype=np.uint8)] = True
    return table


DIGITS = byte_set(b"0123456789")
SIGNS = byte_set(b"+-")
_EDGE_TRIMMABLE = byte_set(ASCII_WHITESPACE) | (np.arange(256) >= 0x80)
_RECENT_VIEWS = 4
_HEAD_BYTES = 64 * 1024
_recent = threading.local()


@dataclass(frozen=True)
class StringBytes:
    """Offsets, lengths and data of one ``string`` / ``large_string`` array, as numpy.

    Null values read as length 0, whatever bytes their slots hold.
    """

    starts: np.ndarray  # int64 offset of each value's first byte in ``data``
    lengths: np.ndarray  # int64 byte length of each value (0 where null)
    data: np.ndarray  # uint8, the whole data buffer
    # Arrow's casts of these texts by (type, alphabet), None where one failed: inference
    # asks for a column's ints and floats more than once (text_parsing._native).
    casts: dict[tuple[str, bytes], pa.Array | None] = field(
        default_factory=dict, compare=False, repr=False
    )

    @classmethod
    def of(cls, arr: pa.Array) -> StringBytes:
        """The view of ``arr`` (a contiguous string or binary array, large or not).

        Inference asks for the view of one column many times; the last few are kept
        (per thread, with the arrays themselves, so that an id is never reused)."""
        recent: dict[int, tuple[pa.Array, StringBytes]] = _recent.__dict__.setdefault("views", {})
        hit = recent.get(id(arr))
        if hit is not None and hit[0] is arr:
            return hit[1]
        view = cls._build(arr)
        if len(recent) >= _RECENT_VIEWS:
            recent.pop(next(iter(recent)))
        recent[id(arr)] = (arr, view)
        return view

    @classmethod
    def _build(cls, arr: pa.Array) -> StringBytes:
        wide = pa.types.is_large_string(arr.type) or pa.types.is_large_binary(arr.type)
        offset_type = np.int64 if wide else np.int32
        buffers = arr.buffers()
        offsets = np.frombuffer(buffers[1], dtype=offset_type)[
            arr.offset : arr.offset + len(arr) + 1
        ].astype(np.int64)
        data = (
            np.frombuffer(buffers[2], dtype=np.uint8)
            if buffers[2] is not None
            else np.zeros(0, dtype=np.uint8)
        )
        lengths = np.diff(offsets)
        if arr.null_count:
            lengths[~np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=bool)] = 0
        return cls(starts=offsets[:-1], lengths=lengths, data=data)

    def __len__(self) -> int:
        return len(self.lengths)

    def byte_at(self, position: int) -> np.ndarray:
        """Each value's byte at ``position`` (negative: from the end), 0 where too short."""
        if not len(self.data):
            return np.zeros(len(self), dtype=np.uint8)
        # A gather of every value (clipped at the data's end) and a select: twice as fast
        # as gathering only the long-enough values through a boolean mask.
        if position >= 0:
            long_enough = self.lengths > position
            where = self.starts + position
        else:
            long_enough = self.lengths >= -position
            where = self.starts + self.lengths + position
        out: np.ndarray = np.where(long_enough, self.data.take(where, mode="clip"), 0)
        return out.astype(np.uint8, copy=False)

    @cached_property
    def first(self) -> np.ndarray:
        """Each value's first byte (0 where empty or null)."""
        return self.byte_at(0)

    def needs_trim(self) -> bool:
        """Whether any value may start or end with whitespace (any non-ASCII edge byte
        counts, since it may begin or end a Unicode space)."""
        present = self.lengths > 0
        if not present.any():
            return False
        return bool(
            (_EDGE_TRIMMABLE[self.first] & present).any()
            or (_EDGE_TRIMMABLE[self.byte_at(-1)] & present).any()
        )

    def fixed_width(self, rows: np.ndarray, width: int) -> np.ndarray:
        """The first ``width`` bytes of the values at ``rows`` (each at least that long),
        as a (len(rows), width) uint8 matrix."""
        return self.data[self.starts[rows][:, None] + np.arange(width)]

    def value_bytes(self) -> bytes:
        """The bytes of every value, back to back (null slots hold none)."""
        if not len(self) or not self.lengths.any():
            return b""
        return self.data[self.starts[0] : self.starts[-1] + self.lengths[-1]].tobytes()

    def only_bytes(self, allowed: bytes) -> bool:
        """Whether every value is made of bytes in ``allowed`` alone."""
        # bytes.translate deletes at memory speed; numpy's lookups are several times slower.
        # Most columns that fail, fail at once (a date's '/', a price's '.'): look at the
        # first values' bytes before all of them.
        if len(self) and self.lengths.any():
            first = int(self.starts[0])
            if self.data[first : first + _HEAD_BYTES].tobytes().translate(None, allowed):
                return False
        return not self.value_bytes().translate(None, allowed)

    def any_of(self, chars: bytes) -> bool:
        """Whether any value holds any byte of ``chars``."""
        text = self.value_bytes()
        return any(text.find(bytes([c])) != -1 for c in chars)
