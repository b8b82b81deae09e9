"""sluice.inference.scan_evidence: the counts earlier scans leave for the later ones."""

from __future__ import annotations

import pyarrow as pa
from sluice.inference.scan_evidence import added, evidence_of, with_evidence
from sluice.inference.schema import ChunkStats, InferenceSettings
from sluice.inference.statistics import chunk_stats, decide, merge_stats


def _stats(amounts: list[str | None]) -> ChunkStats:
    return chunk_stats(pa.table({"amount": pa.array(amounts, pa.string())}), 100)


def _type(stats: ChunkStats) -> str:
    return decide(stats, InferenceSettings())[0].inferred_type.value


def test_a_chunk_of_whole_numbers_takes_the_decimals_others_found() -> None:
    whole, decimals = _stats(["1", "2", "3"]), _stats(["1.5", None])
    assert (_type(whole), _type(with_evidence(whole, evidence_of(decimals)))) == (
        "int8",
        "float32",
    )


def test_evidence_counts_as_the_merged_statistics_do() -> None:
    parts = [_stats(["1", "x", None]), _stats(["2.5", "300"]), _stats(["7"])]
    hinted = with_evidence(parts[0], added(evidence_of(parts[1]), evidence_of(parts[2])))
    merged = merge_stats(parts, 100).columns[0]
    column = hinted.columns[0]
    assert (column.values, column.nulls, column.failures) == (
        merged.values,
        merged.nulls,
        merged.failures,
    )


def test_a_column_the_evidence_does_not_name_keeps_its_own_counts() -> None:
    own = _stats(["1", "2"])
    assert with_evidence(own, {"other": [5, 0] + [0] * 11}) == own
    assert with_evidence(own, {"amount": [1, 2]}) == own  # not counts of these types


def test_adding_to_no_evidence_gives_the_chunks_own() -> None:
    own = evidence_of(_stats(["1", None]))
    assert added({}, own) == own
    assert added(own, own) == {"amount": [2 * n for n in own["amount"]]}
