"""Are two aggregation outputs the same? Compared by fingerprint, vectorised in DuckDB.

A fingerprint is the row count, the total of ``Number of Plays`` and an order-free digest:
the sum over rows of ``hash(Song, Date, plays)``. Two outputs with equal fingerprints hold
the same multiset of (Song, Date, plays) rows, so (given the same row count) the same
(Song, Date) -> plays mapping, whatever the row order, file split or CSV quoting.

Dates are compared on their first 10 characters: tools that read the typed Parquet write
``2023-01-01 00:00:00`` where the CSV readers write ``2023-01-01``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

SONG, DATE, PLAYS = "Song", "Date", "Number of Plays"


@dataclass(frozen=True)
class Fingerprint:
    rows: int
    plays: int
    digest: int
    files: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def same_as(self, other: Fingerprint) -> bool:
        return (self.rows, self.plays, self.digest) == (other.rows, other.plays, other.digest)


def _sql_list(paths: Sequence[Path]) -> str:
    quoted = ", ".join("'" + str(path).replace("'", "''") + "'" for path in paths)
    return f"[{quoted}]"


def fingerprint(paths: Sequence[Path]) -> Fingerprint:
    """The fingerprint of one tool's output: every CSV file in ``paths`` read as one table."""
    import duckdb

    if not paths:
        raise ValueError("no output files")
    query = f"""
        SELECT count(*), sum(p)::HUGEINT, sum(hash(s, d, p))::HUGEINT
        FROM (
            SELECT "{SONG}" AS s, left("{DATE}", 10) AS d, CAST("{PLAYS}" AS BIGINT) AS p
            FROM read_csv({_sql_list(paths)}, header = true, all_varchar = true)
        )
    """
    with duckdb.connect() as con:
        row = con.execute(query).fetchone()
    assert row is not None
    rows, plays, digest = row
    return Fingerprint(
        rows=int(rows), plays=int(plays or 0), digest=int(digest or 0), files=len(paths)
    )


def verdicts(
    prints: dict[str, Fingerprint | str], reference: str | None = None
) -> tuple[str | None, dict[str, str]]:
    """OK / MISMATCH (what differs) / ERROR per tool, against ``reference`` (default: the
    first tool with a fingerprint). Returns the reference used and the verdicts."""
    usable = {tool: fp for tool, fp in prints.items() if isinstance(fp, Fingerprint)}
    if reference not in usable:
        reference = next(iter(usable), None)
    out: dict[str, str] = {}
    for tool, fp in prints.items():
        if not isinstance(fp, Fingerprint):
            out[tool] = f"ERROR ({fp})"
        elif reference is None or tool == reference:
            out[tool] = "OK (reference)"
        else:
            ref = usable[reference]
            differs = [
                name
                for name, a, b in (
                    ("rows", fp.rows, ref.rows),
                    ("plays", fp.plays, ref.plays),
                    ("rows' content", fp.digest, ref.digest),
                )
                if a != b
            ]
            out[tool] = "OK" if not differs else "MISMATCH: " + ", ".join(differs)
    return reference, out
