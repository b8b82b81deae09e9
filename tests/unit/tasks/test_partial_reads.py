"""Which group keys a partial reads from a part as Arrow dictionaries: the texts the part
keeps in dictionary pages in every row group it reads, nothing else (issue 23, item 6)."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
from sluice.tasks.aggregate import bmat_preset, merge_partials, partial_aggregate
from sluice.tasks.steps_partial import dictionary_keys

ROWS = 40


def part(use_dictionary: list[str], rows_per_group: int = ROWS) -> io.BytesIO:
    """A part of a text key ``song``, a category ``kind``, a day ``d`` and a count ``n``,
    written with dictionary pages for ``use_dictionary`` only."""
    table = pa.table(
        {
            "song": pa.array([f"song {i % 4}" for i in range(ROWS)]),
            "kind": pa.array([f"k{i % 2}" for i in range(ROWS)]).dictionary_encode(),
            "d": pa.array([i % 3 for i in range(ROWS)], pa.int32()),
            "n": pa.array(range(ROWS), pa.int16()),
        }
    )
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=rows_per_group, use_dictionary=use_dictionary)
    sink.seek(0)
    return sink


def chosen(use_dictionary: list[str], keys: list[str]) -> list[str]:
    return dictionary_keys(pq.read_metadata(part(use_dictionary)), keys, None)


def test_a_text_key_in_dictionary_pages_is_read_as_a_dictionary() -> None:
    assert chosen(["song"], ["song", "d"]) == ["song"]


def test_a_text_key_written_plain_is_read_as_texts() -> None:
    assert chosen(["d"], ["song", "d"]) == []


def test_numbers_and_categories_are_never_chosen() -> None:
    # A category is a dictionary already; a number in dictionary pages groups as it is.
    assert chosen(["song", "kind", "d"], ["kind", "d"]) == []


def test_a_key_that_is_not_a_column_of_the_part_is_left_out() -> None:
    assert chosen(["song"], ["missing", "song"]) == ["song"]


def test_a_piece_looks_only_at_its_own_row_groups() -> None:
    footer = pq.read_metadata(part(["song"], rows_per_group=10))
    assert footer.num_row_groups == 4
    assert dictionary_keys(footer, ["song"], (1, 3)) == ["song"]
    assert dictionary_keys(footer, ["song"], (2, 2)) == []


def test_a_part_read_with_its_dictionaries_aggregates_as_read_as_texts() -> None:
    spec = bmat_preset()
    names = {"song": "Song", "d": "Date", "n": "Number of Plays"}
    source = part(["song"], rows_per_group=10)
    keys = dictionary_keys(pq.read_metadata(source), ["song"], None)
    encoded = pq.read_table(source, columns=list(names), read_dictionary=keys)
    source.seek(0)
    texts = pq.read_table(source, columns=list(names))
    assert pa.types.is_dictionary(encoded.schema.field("song").type)
    merged = [
        merge_partials(partial_aggregate(t.rename_columns(list(names.values())), spec, 1), spec)
        for t in (encoded, texts)
    ]
    rows = [sorted(zip(*m.to_pydict().values(), strict=True)) for m in merged]
    assert rows[0] == rows[1]
    assert len(rows[0]) == 12  # 4 songs x 3 days
    assert sum(r[2] for r in rows[0]) == sum(range(ROWS))
