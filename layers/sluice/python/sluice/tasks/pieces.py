"""The Partials Map's items: a dataset's typed parts, a large one cut into runs of its row
groups, so that a partial child's work is bounded whatever size the dataset's writer
gave its parts (its children are EXPRESS: 5 minutes at most, its Lambda 90 s).

A part is whatever its writer made: the ingest's chunk (64 MiB of CSV, ~26 MiB typed for
the BMAT file), an operation's part or bucket (a bucket grows with the data), a prediction
job's. A piece is at most ``PIECE_BYTES`` of Parquet, a whole part or a run of its row
groups (sluice's writers make them 64Ki rows: a single row group is the least a piece
holds), and a child takes at most ``BATCH_BYTES`` of pieces (``partial_batch_size``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sluice.store import objects
from sluice.store.map_results import BATCH_BYTES, MAX_BATCH_ITEMS, batch_size
from sluice.store.parquet_parts import read_footer
from sluice.tasks.partials import READ_THREADS
from sluice.tasks.step_models import PartRef

PIECE_BYTES = 32 * 1024 * 1024
"""The most Parquet bytes one Partials item holds, unless it is one row group: a 64 MiB
chunk's part (~26 MiB) is one piece; a partial of one such part peaked at 0.58 GiB, of a
batch of 8 at 0.96 GiB (``sluice.catalog.FAN_OUT_MEMORY_MB``), and a piece is aggregated
alone (or with other small ones, ``steps_partial.GROUP_PART_BYTES``), so its memory is
about a part's."""


def pieces(
    parts: Sequence[tuple[str, int]], row_groups: Mapping[str, Sequence[int]]
) -> list[PartRef]:
    """The items for ``parts`` (key, bytes), in order, numbered from 0: a part of at most
    ``PIECE_BYTES`` whole; a larger one whose row groups' sizes ``row_groups`` holds, cut
    into runs of consecutive row groups of at most ``PIECE_BYTES`` (one row group at
    least)."""
    found: list[PartRef] = []
    for key, size in parts:
        sizes = row_groups.get(key, ())
        if size <= PIECE_BYTES or len(sizes) < 2:
            found.append(PartRef(index=len(found), key=key, bytes=size))
            continue
        first, run = 0, 0
        for group, group_bytes in enumerate(sizes):
            if group > first and run + group_bytes > PIECE_BYTES:
                found.append(_piece(len(found), key, run, first, group))
                first, run = group, 0
            run += group_bytes
        found.append(_piece(len(found), key, run, first, len(sizes)))
    return found


def _piece(index: int, key: str, size: int, first: int, stop: int) -> PartRef:
    return PartRef(index=index, key=key, bytes=size, row_groups=(first, stop))


def row_group_bytes(part: tuple[str, int]) -> list[int]:
    """The compressed bytes of each row group of the Parquet part at (key, size) in the
    data bucket (its footer: one or two ranged GETs)."""
    meta = read_footer(*part)
    return [
        sum(meta.row_group(g).column(c).total_compressed_size for c in range(meta.num_columns))
        for g in range(meta.num_row_groups)
    ]


def plan_pieces(parts: Sequence[tuple[str, int]]) -> list[PartRef]:
    """``pieces`` of ``parts``, the row groups read from the footers of the parts larger
    than ``PIECE_BYTES`` (none for an ingested dataset at 64 MiB chunks)."""
    large = [(key, size) for key, size in parts if size > PIECE_BYTES]
    sizes = objects.concurrently(row_group_bytes, large, READ_THREADS)
    return pieces(parts, {key: found for (key, _), found in zip(large, sizes, strict=True)})


def partial_batch_size(sizes: Sequence[int], concurrency: int) -> int:
    """Pieces a Partials child takes (ItemBatcher): one round of ``concurrency`` children
    (``batch_size``), at most ``MAX_BATCH_ITEMS`` and at most ``BATCH_BYTES`` (512 MiB) of
    the largest, one at least: a child's work is bounded (19 of the BMAT file's parts of a
    64 MiB chunk: ~1 s a part by the projection, 3.1 s here on a loaded machine, 19-59 s a
    child against its Lambda's 90 s)."""
    return batch_size(len(sizes), concurrency, most_pieces(max(sizes, default=0)))


def most_pieces(largest: int) -> int:
    """The most pieces of up to ``largest`` bytes a Partials child takes: ``BATCH_BYTES``
    of them, at most ``MAX_BATCH_ITEMS``, one at least."""
    return max(1, min(MAX_BATCH_ITEMS, BATCH_BYTES // max(largest, 1)))
