"""The `sluice` command's subcommands that need no running system."""

from __future__ import annotations

from pathlib import Path

import pyarrow.csv as pcsv
import pytest
from sluice.cli.main import main


def test_demo_data_writes_bmat_rows_of_about_the_size_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plays.csv"
    assert main(["demo-data", "--bytes", "200000", "--out", str(out), "--songs", "50"]) == 0
    table = pcsv.read_csv(out)
    assert table.column_names == ["Song", "Date", "Number of Plays"]
    assert 190_000 <= out.stat().st_size <= 210_000
    assert len(set(table["Song"].to_pylist())) <= 50
    assert f"rows, {out.stat().st_size:,} bytes" in capsys.readouterr().out


def test_an_unknown_command_exits_with_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["fly"])
    assert exit_.value.code == 2
    assert "invalid choice: 'fly'" in capsys.readouterr().err
