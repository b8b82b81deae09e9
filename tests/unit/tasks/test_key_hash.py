"""The key hash of texts reads 8-byte words of each value, at any place in the buffer."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from sluice.tasks.aggregate_output import key_hash


def test_short_texts_at_the_end_of_their_buffer_hash_as_they_do_anywhere_else() -> None:
    # Alone, "ab", "c" and "xy" end the data buffer (fewer than 8 bytes after their
    # start); sliced out of a longer array, the same values have bytes after them.
    short = ["0123456789", "ab", None, "c", "", "xy"]
    at_end = pa.array(short)
    inside = pa.array([*short, "0123456789abcdef"]).slice(0, len(short))
    assert np.array_equal(key_hash([at_end]), key_hash([inside]))
    one_byte_buffer = pa.array(["z"])
    assert np.array_equal(key_hash([one_byte_buffer]), key_hash([pa.array(["z", "qq"])])[:1])
