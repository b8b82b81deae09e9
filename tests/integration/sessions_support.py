"""What the session and operation tests share: a dataset of several parts, sessions,
operations run to their end, output datasets read back."""

from __future__ import annotations

import io
from typing import Any

import pyarrow as pa
import pyarrow.csv as pcsv

from tests.integration.uploader import Uploader
from tests.support import call_api, wait_for

REGIONS = ["north", "south", "east", "west"]
COLUMN_TYPES = {
    "id": pa.int64(),
    "region": pa.string(),
    "amount": pa.float64(),
    "qty": pa.int64(),
    "day": pa.timestamp("us"),
    "note": pa.string(),
    "big": pa.int64(),
    "label": pa.string(),
    "price": pa.float64(),
}
INT64_MAX = 2**63 - 1
WORDS = ["Zürich", "東京", "🎵 song", "naïve café", "Ωmega", "zebra", "Äpfel", "e\u0301tude"]
"""Texts whose code points sort otherwise than their letters would: accents, CJK, an emoji
(4 UTF-8 bytes), a combining accent, capitals before small letters."""


def big_value(k: int) -> str:
    """int64's edges and values near them (a group's sum runs past int64 both ways), a
    few small, some missing."""
    if k % 10 == 0:
        return str(INT64_MAX - k)
    if k % 10 == 5:
        return str(-INT64_MAX - 1 + k)
    return "" if k % 9 == 4 else str(k * k)


def sales_csv(rows: int = 400, seed: int = 0) -> bytes:
    """Rows of id, region (a category), amount, qty (some missing), day, a note, big
    (int64 near its edges), label (120 unicode texts, each 3 or 4 times: too many for a
    category) and price (decimals no binary float holds exactly: float64); some 26 KB,
    so many 1 KiB chunks, so many typed parts."""
    lines = ["id,region,amount,qty,day,note,big,label,price"]
    for i in range(rows):
        k = i + seed
        qty = "" if k % 7 == 0 else str((k * 13) % 50 - 10)
        amount = f"{(k * 37) % 1000 / 8:.3f}"
        label = f"{WORDS[k % len(WORDS)]} {k % 15}"
        price = f"{(k * 7919) % 100_000 / 100 - 300:.2f}" if k % 11 else "0.10"
        lines.append(
            f"{i},{REGIONS[k % 4]},{amount},{qty},2024-03-{k % 28 + 1:02d},note {k % 300},"
            f"{big_value(k)},{label},{price}"
        )
    return ("\n".join(lines) + "\n").encode()


def reference(body: bytes) -> pa.Table:
    """The CSV as pyarrow reads it with the types sluice infers."""
    return pcsv.read_csv(
        io.BytesIO(body), convert_options=pcsv.ConvertOptions(column_types=COLUMN_TYPES)
    )


def new_session(uploader: Uploader, *dataset_ids: str, name: str = "s") -> dict[str, Any]:
    items = [{"type": "dataset", "id": d} for d in dataset_ids]
    status, session = call_api(
        "POST", "/sessions", {"name": name, "input_data": items}, owner=uploader.owner
    )
    assert status == 201, session
    return session  # type: ignore[no-any-return]


def run(
    uploader: Uploader, session_id: str, name: str, input_data: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    return call_api(  # type: ignore[return-value]
        "POST",
        f"/sessions/{session_id}/operations",
        {"name": name, "input_data": input_data},
        owner=uploader.owner,
    )


def finished(uploader: Uploader, session_id: str, operation_id: str) -> dict[str, Any]:
    path = f"/sessions/{session_id}/operations/{operation_id}"

    def ended() -> dict[str, Any] | None:
        operation = call_api("GET", path, owner=uploader.owner)[1]
        return operation if operation["status"] in ("COMPLETED", "FAILED") else None

    return wait_for(ended, 90, f"operation {operation_id}")


def run_to_end(
    uploader: Uploader, session_id: str, name: str, input_data: dict[str, Any]
) -> dict[str, Any]:
    """Run an operation and wait for its end (a cached answer is its end already)."""
    status, operation = run(uploader, session_id, name, input_data)
    assert status in (200, 202), operation
    done = finished(uploader, session_id, operation["id"])
    assert done["status"] == "COMPLETED", done["message"]
    return done


def rows_of(uploader: Uploader, dataset_id: str) -> list[dict[str, Any]]:
    status, page = call_api(
        "GET", f"/datasets/{dataset_id}/rows", owner=uploader.owner, query={"num_rows": "10000"}
    )
    assert status == 200, page
    return [{k: v for k, v in row.items() if k != "_exceptions"} for row in page["rows"]]


def ref(dataset_id: str) -> dict[str, str]:
    return {"type": "dataset", "id": dataset_id}


def sales_session(local: Any) -> tuple[Uploader, dict[str, Any], bytes, str]:
    """A user with the sales file ingested in several typed parts and a session holding
    it: (uploader, dataset, the file's bytes, session id)."""
    uploader = Uploader(local)
    body = sales_csv()
    dataset = uploader.ingest(body)
    assert dataset["status"] == "ready", dataset["error"]
    assert dataset["chunk_count"] > 5  # several typed parts
    session = new_session(uploader, dataset["id"])
    return uploader, dataset, body, session["id"]
