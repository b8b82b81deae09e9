"""The catalogue is discovered: a module defining an operation adds it."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sluice.operations import catalogue
from sluice.operations.wizard import InputType

OPERATION = '''
from typing import ClassVar

from sluice.operations.base import Finished, Operation
from sluice.operations.wizard import InputType, WizardInput


class Shared(Operation):
    """A base several operations could share: abstract, so not listed."""

    output = "data"


class CountRows(Shared):
    name = "count_rows"
    description = "How many rows a dataset has."
    category = "statistics"
    inputs: ClassVar[dict[str, WizardInput]] = {
        "dataset": WizardInput(name="Dataset", description="d", type=InputType.DATASET),
    }

    def run_part(self, run, part, buckets):
        raise NotImplementedError

    def finish(self, run, parts, buckets):
        return Finished(data=None)
'''


@pytest.fixture
def extra_package(tmp_path: Path) -> Iterator[str]:
    package = tmp_path / "more_operations"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "count_rows.py").write_text(textwrap.dedent(OPERATION))
    sys.path.insert(0, str(tmp_path))
    try:
        yield "more_operations"
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.startswith("more_operations")]:
            del sys.modules[name]


def test_a_module_defining_an_operation_adds_it_and_abstract_bases_are_skipped(
    extra_package: str,
) -> None:
    found = catalogue.discover(extra_package)
    assert list(found) == ["count_rows"]
    wizard = found["count_rows"].wizard()
    assert (wizard.name, wizard.category, wizard.output) == ("count_rows", "statistics", "data")
    assert wizard.inputs["dataset"].type is InputType.DATASET


def test_the_catalogue_lists_the_packages_operations(
    extra_package: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalogue, "PACKAGES", (*catalogue.PACKAGES, extra_package))
    catalogue.catalogue.cache_clear()
    try:
        assert list(catalogue.catalogue()) == [
            "count_rows",
            "describe",
            "filter_rows",
            "group_by_aggregate",
            "histogram",
            "join",
            "mean",
            "median",
            "sample",
            "select_columns",
            "sort",
            "stack",
        ]
    finally:
        catalogue.catalogue.cache_clear()
