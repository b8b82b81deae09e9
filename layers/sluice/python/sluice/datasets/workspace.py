"""Where a dataset's derived objects live in the data bucket.

work/<owner>/<id>/<run>/       what one ingest learned: the header's names, the chunks' stats
                               (one object a group of a batch's chunks), the scans' running
                               counts, the plan, merged stats; the upload decompressed or
                               transcoded (source.csv)
datasets/<owner>/<id>/<run>/   the typed Parquet parts of one run (in parts/, a folder of
                               Parquet alone: its Glue table's location), their manifest, and
                               the columns they were typed by, with their statistics
                               (columns.jsonl)
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

    @property
    def stats(self) -> str:
        """The folder of the chunks' type statistics: one object a group of a scan batch's
        chunks (``sluice.ingest.scan_groups``), and the merged ones."""
        return f"{self.work}stats/"

    @property
    def source(self) -> str:
        """The upload as UTF-8 CSV text, where it had to be decompressed or transcoded."""
        return f"{self.work}source.csv"

    @property
    def prepared(self) -> str:
        """What the preparer's Fargate task made of the upload: the copy's object, or the
        reason it could not (read by the Prepare step that collects it)."""
        return f"{self.work}prepared.json"

    @property
    def header(self) -> str:
        """The header's column names (and notes on names it lacked), read by every scan:
        too many for the state machine's payloads when a file is wide."""
        return f"{self.work}header.json"

    @property
    def evidence(self) -> str:
        """The running sum of the counts the run's scans found so far (scan_evidence)."""
        return f"{self.work}evidence.json"

    @property
    def merged_stats(self) -> str:
        return f"{self.stats}merged.json"

    @property
    def layout(self) -> str:
        """The plan and the final chunk spans, for re-converting without re-scanning."""
        return f"{self.work}layout.json"

    @property
    def parts(self) -> str:
        """The folder of the run's typed parts, and nothing else: Athena, Spark and Spectrum
        read every file under a table's location, so the manifest, the columns, exports and
        profiles stay beside it, not in it."""
        return f"{self.data}parts/"

    def part(self, index: int) -> str:
        return f"{self.parts}part-{index:06d}.parquet"

    @property
    def columns(self) -> str:
        """The columns the run decided, with their statistics: one JSON object a line
        (``sluice.datasets.columns``)."""
        return f"{self.data}columns.jsonl"

    @property
    def manifest(self) -> str:
        return f"{self.data}manifest.json"

    def export(self, fmt: str) -> str:
        return f"{self.data}export/dataset.{fmt}"


def dataset_prefixes(owner: str, dataset_id: str) -> tuple[str, str]:
    """Every derived object of a dataset lies under one of these."""
    return f"work/{owner}/{dataset_id}/", f"datasets/{owner}/{dataset_id}/"
