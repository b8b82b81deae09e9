"""Wide files: the ingest of a CSV of many columns, its GET and its columns' pages.

    python -m bench.ingest.wide [--columns 10000,50000] [--rows 30]

For each width, starts sluice local (one worker process per core), uploads a CSV of
that many columns (whole numbers, decimals, words and dates in turn) through the
presigned POST, polls until it is ready, then times GET /datasets/{id} and paging
through GET /datasets/{id}/columns, and prints the sizes that the limits are about:
the largest answer (a Lambda answers at most 6 MB) and the DynamoDB item (400 KB).
Not a test: 50,000 columns take minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

KINDS = 4


def wide_csv(columns: int, rows: int) -> bytes:
    """``rows`` records of ``columns`` columns: an int, a decimal, a word, a date in turn."""
    header = ",".join(f"c{i}" for i in range(columns))

    def value(row: int, column: int) -> str:
        kind = column % KINDS
        if kind == 0:
            return str(row + column % 100)
        if kind == 1:
            return f"{row}.{column % 10}"
        if kind == 2:
            return ("north", "south", "east")[(row + column) % 3]
        return f"2024-01-{1 + (row + column) % 28:02d}"

    lines = [header, *(",".join(value(r, c) for c in range(columns)) for r in range(rows))]
    return ("\n".join(lines) + "\n").encode()


def measure(columns: int, rows: int) -> dict[str, Any]:
    """Ingest one wide file on a fresh local system and time what a client then does."""
    import requests
    from sluice.config import settings
    from sluice.local.system import DEMO_PASSWORD, DEMO_USER, LocalOptions, LocalSystem

    body = wide_csv(columns, rows)
    system = LocalSystem(
        LocalOptions(port=0, demo=True, lambda_processes=os.cpu_count() or 1)
    ).start()
    try:
        api, http = system.api_url, requests.Session()
        tokens = http.post(
            f"{api}/auth/token", json={"username": DEMO_USER, "password": DEMO_PASSWORD}
        ).json()
        http.headers["Authorization"] = f"Bearer {tokens['id_token']}"
        created = http.post(f"{api}/datasets", json={"name": f"wide-{columns}"}).json()
        dataset_id, upload = created["dataset"]["id"], created["upload"]
        started = time.perf_counter()
        requests.post(upload["url"], data=upload["fields"], files={"file": body}).raise_for_status()
        while True:
            dataset = http.get(f"{api}/datasets/{dataset_id}").json()
            if dataset["status"] not in ("awaiting_upload", "uploaded", "inferring"):
                break
            time.sleep(0.5)
        ingest_s = time.perf_counter() - started
        asked = time.perf_counter()
        shown = http.get(f"{api}/datasets/{dataset_id}")
        get_s = time.perf_counter() - asked
        pages, largest, seen, token = 0, len(shown.content), 0, None
        asked = time.perf_counter()
        while True:
            query: dict[str, Any] = {"limit": 1000, **({"next_token": token} if token else {})}
            page = http.get(f"{api}/datasets/{dataset_id}/columns", params=query)
            page.raise_for_status()
            pages, largest = pages + 1, max(largest, len(page.content))
            seen += len(page.json()["columns"])
            token = page.json()["next_token"]
            if token is None:
                break
        item = _record(settings().table, dataset_id)
        return {
            "columns": columns,
            "rows": rows,
            "bytes": len(body),
            "status": dataset["status"],
            "error": dataset.get("error"),
            "ingest_s": round(ingest_s, 1),
            "get_ms": round(1000 * get_s),
            "get_bytes": len(shown.content),
            "pages": pages,
            "columns_listed": seen,
            "all_pages_s": round(time.perf_counter() - asked, 2),
            "largest_answer_bytes": largest,
            "record_bytes": len(json.dumps(item, default=str)),
        }
    finally:
        system.stop()


def _record(table: str, dataset_id: str) -> dict[str, Any]:
    """The dataset's DynamoDB item as stored (found by its sort key: one user here)."""
    from sluice import aws

    found = aws.resource_table(table).scan()["Items"]
    return next(i for i in found if i.get("sk") == f"DATASET#{dataset_id}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--columns", default="10000,50000", help="widths, comma-separated")
    parser.add_argument("--rows", type=int, default=30)
    args = parser.parse_args(argv)
    for width in (int(w) for w in args.columns.split(",")):
        print(json.dumps(measure(width, args.rows)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
