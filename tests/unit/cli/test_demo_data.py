"""BMAT's demo_file: song/date/plays CSV of a given size."""

from __future__ import annotations

import csv
import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pytest
from sluice.cli import demo_data
from sluice.cli.demo_data import main, parse_size, song_titles, write_demo_data


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "demo.csv"
    result = write_demo_data(path, 2_000_000, seed=7)
    return path, result


def test_the_header_is_bmats(demo):
    path, _ = demo
    assert path.read_bytes().split(b"\n", 1)[0] == b"Song,Date,Number of Plays"


def test_rows_and_bytes_are_what_was_written_and_just_under_the_target(demo):
    path, result = demo
    data = path.read_bytes()
    assert result["bytes"] == len(data)
    assert 2_000_000 - 200 < len(data) <= 2_000_000
    assert data.endswith(b"\n")
    assert result["rows"] == data.count(b"\n") - 1


def test_it_parses_with_arrow_into_typed_columns(demo):
    path, result = demo
    table = pa_csv.read_csv(path)
    assert table.column_names == ["Song", "Date", "Number of Plays"]
    assert table.num_rows == result["rows"]
    assert table.schema.field("Date").type == pa.date32()
    assert table.schema.field("Number of Plays").type == pa.int64()
    assert table.column("Song").null_count == 0


def test_dates_lie_within_one_year(demo):
    path, _ = demo
    dates = pa_csv.read_csv(path).column("Date")
    assert pc.min(dates).as_py() >= dt.date(2023, 1, 1)
    assert pc.max(dates).as_py() <= dt.date(2023, 12, 31)
    assert pc.count_distinct(dates).as_py() > 300


def test_plays_are_between_1_and_10000_and_skewed_small(demo):
    path, _ = demo
    plays = pa_csv.read_csv(path).column("Number of Plays")
    assert pc.min(plays).as_py() >= 1
    assert pc.max(plays).as_py() <= 10_000
    assert pc.approximate_median(plays).as_py() < 500


def test_some_titles_have_commas_and_are_quoted(demo):
    path, _ = demo
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))[1:]
    assert all(len(row) == 3 for row in rows)
    with_comma = [row[0] for row in rows if "," in row[0]]
    assert 0.05 < len(with_comma) / len(rows) < 0.5
    raw = path.read_text(encoding="utf-8")
    assert f'\n"{with_comma[0]}",' in raw


def test_default_cardinality_is_about_one_song_per_ten_rows(demo):
    path, result = demo
    assert result["rows"] / 12 < result["songs"] < result["rows"] / 8
    table = pa_csv.read_csv(path)
    groups = table.group_by(["Song", "Date"]).aggregate([]).num_rows
    assert groups > 0.9 * result["rows"]


def test_the_same_seed_gives_the_same_bytes_and_another_seed_others(tmp_path):
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        write_demo_data(tmp_path / f"{name}.csv", 100_000, seed=seed)
    a, b, c = ((tmp_path / f"{n}.csv").read_bytes() for n in "abc")
    assert a == b
    assert a != c


def test_songs_sets_the_number_of_distinct_titles(tmp_path):
    result = write_demo_data(tmp_path / "d.csv", 500_000, songs=50, seed=3)
    songs = pa_csv.read_csv(tmp_path / "d.csv").column("Song")
    assert result["songs"] == 50
    assert pc.count_distinct(songs).as_py() == 50


def test_song_titles_are_distinct():
    titles = song_titles(200_000)
    assert pc.count_distinct(titles).as_py() == 200_000


def test_past_the_word_combinations_titles_are_numbered(monkeypatch):
    small = (
        pa.array(["A", "B"]),
        pa.array([" x", ", y"]),
        pa.array(["P", "Q"]),
        pa.array(["", "!"]),
    )
    monkeypatch.setattr(demo_data, "_words", lambda: small)
    titles = song_titles(40).to_pylist()
    assert len(set(titles)) == 40
    assert sum(t.endswith(" No. 3") for t in titles) == 8


def test_a_target_smaller_than_the_header_is_refused(tmp_path):
    with pytest.raises(ValueError, match="at least 26"):
        write_demo_data(tmp_path / "x.csv", 10)


def test_the_cli_writes_the_file_and_reports_rows_bytes_and_speed(tmp_path, capsys):
    out = tmp_path / "cli.csv"
    assert main(["--bytes", "50K", "--out", str(out), "--songs", "20", "--seed", "5"]) == 0
    printed = capsys.readouterr().out
    assert f"bytes={out.stat().st_size} " in printed
    assert "rows=" in printed
    assert "MB/s=" in printed
    assert out.stat().st_size <= 50_000


@pytest.mark.parametrize(
    ("text", "size"), [("1000", 1000), ("500M", 500_000_000), ("1GB", 10**9), ("2GiB", 2 * 2**30)]
)
def test_sizes_take_units(text, size):
    assert parse_size(text) == size
