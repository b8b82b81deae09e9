"""Where a dataset's derived objects live in the data bucket.

work/<owner>/<id>/<run>/       what one ingest learned: chunk stats and block digests, the plan,
                               merged stats; the upload decompressed or transcoded (source.csv)
datasets/<owner>/<id>/<run>/   the typed Parquet parts of one run, and their manifest
Keys are deterministic, so a retried step overwrites instead of duplicating.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Workspace:
    owner: str
    dataset_id: str
    run: str

    @property
    def work(self) -> str:
        return f"work/{self.owner}/{self.dataset_id}/{self.run}/"

    @property
    def data(self) -> str:
        return f"datasets/{self.owner}/{self.dataset_id}/{self.run}/"

    def chunk_stats(self, index: int) -> str:
        return f"{self.work}stats/{index:06d}.json"

    def block_digests(self, index: int) -> str:
        """The SHA-256 digests of the 4 MiB blocks chunk ``index`` hashed (content_hash)."""
        return f"{self.work}blocks/{index:06d}.sha256"

    @property
    def source(self) -> str:
        """The upload as UTF-8 CSV text, where it had to be decompressed or transcoded."""
        return f"{self.work}source.csv"

    @property
    def merged_stats(self) -> str:
        return f"{self.work}stats/merged.json"

    @property
    def layout(self) -> str:
        """The plan and the final chunk spans, for re-converting without re-scanning."""
        return f"{self.work}layout.json"

    def part(self, index: int) -> str:
        return f"{self.data}part-{index:06d}.parquet"

    @property
    def manifest(self) -> str:
        return f"{self.data}manifest.json"

    def export(self, fmt: str) -> str:
        return f"{self.data}export/dataset.{fmt}"


def dataset_prefixes(owner: str, dataset_id: str) -> tuple[str, str]:
    """Every derived object of a dataset lies under one of these."""
    return f"work/{owner}/{dataset_id}/", f"datasets/{owner}/{dataset_id}/"
