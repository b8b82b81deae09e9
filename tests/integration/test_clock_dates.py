"""Dates with a 12-hour clock (AM/PM, as US exports write them), ingested on the embedded
AWS: a datetime column whose rows are the times Python's strptime reads."""

from __future__ import annotations

from datetime import datetime

from tests.integration.uploader import Uploader

TEXTS = [
    f"{month:02d}/{day:02d}/2024 {hour}:{minute:02d} {half}"
    for month in range(1, 13)
    for day in (1, 15, 28)
    for hour, minute, half in ((12, 5, "AM"), (7, 30, "pm"), (11, 59, "PM"))
]


def test_a_12_hour_clock_column_is_datetime_with_the_times_strptime_reads(
    uploader: Uploader,
) -> None:
    body = "n,at\n" + "".join(f"{n},{text}\n" for n, text in enumerate(TEXTS))
    dataset = uploader.ingest(body.encode())
    assert (dataset["status"], dataset["error"]) == ("ready", None), dataset
    (at,) = [column for column in dataset["columns"] if column["name"] == "at"]
    assert (at["effective_type"], at["date_order"]) == ("datetime", "mdy")
    rows = uploader.rows(dataset["id"], ("at",))
    expected = [datetime.strptime(text, "%m/%d/%Y %I:%M %p").isoformat() for text in TEXTS]
    assert [row["at"] for row in rows] == expected
