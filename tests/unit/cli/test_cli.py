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
    assert main(["fly"]) == 2
    assert "No such command 'fly'" in capsys.readouterr().err


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    listed = capsys.readouterr().out
    for command in ("local", "demo-data", "manifests", "login", "upload", "ls", "show", "rows"):
        assert command in listed
        assert main([command, "--help"]) == 0
        assert "Usage: sluice" in capsys.readouterr().out


def test_local_keeps_its_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["local", "--help"]) == 0
    text = capsys.readouterr().out
    for option in ("--port", "--aws-port", "--chunk-bytes", "--max-upload-bytes", "--no-demo"):
        assert option in text
    for option in ("--lambda-processes", "--state-dir", "--ephemeral", "--no-sample"):
        assert option in text
    assert main(["local", "--state-dir", "x", "--ephemeral"]) == 2
