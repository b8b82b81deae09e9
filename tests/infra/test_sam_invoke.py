"""The README's `sam local invoke` commands against the synthesised template, and the
sample events they use.

SAM finds a function by its logical id in cdk.out/<stack>.template.json, which the
README spells out; the CDK derives those ids from construct paths, so a renamed
construct would leave the README naming functions that no longer exist. The app is
synthesised in-process (tests/infra/conftest.py), as tests/infra/test_stack_*.py read it:
the CLI's template has the same logical ids (test_stack_synthesis checks the two agree).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sluice.catalog import CATALOG, PROJECT_ROOT, FunctionSpec

from infra.app import STACK_NAME
from infra.stack import SluiceStack

README = PROJECT_ROOT / "README.md"
EVENTS = PROJECT_ROOT / "events"
SECTION = "## Invoking one function with SAM"
COMMAND = re.compile(r"^sam local invoke -t (?P<template>\S+) +(?P<id>\S+) +-e (?P<event>\S+)$")


def sam_commands(readme: str) -> list[dict[str, str]]:
    """The template, logical id and event of each `sam local invoke` line in the
    README's SAM section."""
    start = readme.index(SECTION) + len(SECTION)
    end = readme.find("\n## ", start)
    section = readme[start : None if end < 0 else end]
    return [m.groupdict() for line in section.splitlines() if (m := COMMAND.match(line.strip()))]


def sample_events(spec: FunctionSpec) -> set[Path]:
    """The function's sample events: events/<its functions/ folder>/<module>[_*].json,
    or the whole folder where the folder is one function (its module is ``handler``)."""
    folder = EVENTS / Path(spec.code_dir).name
    module = spec.handler.split(".")[0]
    pattern = "*.json" if module == "handler" else f"{module}*.json"
    return {
        path
        for path in folder.glob(pattern)
        if module == "handler" or path.stem == module or path.stem.startswith(f"{module}_")
    }


@pytest.fixture(scope="module")
def commands() -> list[dict[str, str]]:
    """The README's SAM commands."""
    return sam_commands(README.read_text(encoding="utf-8"))


def function_ids(stack: SluiceStack) -> dict[str, str]:
    """Each catalogued function's name by its logical id in the template."""
    return {
        stack.resolve(stack.functions[spec.name].node.default_child.logical_id): spec.name  # type: ignore[union-attr]
        for spec in CATALOG.functions
    }


def test_every_catalogued_function_has_a_sample_event() -> None:
    missing = [spec.name for spec in CATALOG.functions if not sample_events(spec)]
    assert missing == []


def test_readme_sam_commands_use_the_template_cdk_synth_writes(
    commands: list[dict[str, str]],
) -> None:
    assert {c["template"] for c in commands} == {f"cdk.out/{STACK_NAME}.template.json"}


def test_readme_sam_commands_name_lambda_functions_of_the_synthesised_template(
    commands: list[dict[str, str]], resources: dict[str, dict[str, Any]]
) -> None:
    types = {c["id"]: resources.get(c["id"], {}).get("Type") for c in commands}
    assert types == {c["id"]: "AWS::Lambda::Function" for c in commands}


def test_readme_invokes_each_catalogued_function_once(
    commands: list[dict[str, str]], stack: SluiceStack
) -> None:
    names = function_ids(stack)
    invoked = sorted(names.get(c["id"], c["id"]) for c in commands)
    assert invoked == sorted(spec.name for spec in CATALOG.functions)


def test_readme_sam_commands_pass_a_sample_event_of_the_invoked_function(
    commands: list[dict[str, str]], stack: SluiceStack
) -> None:
    names = function_ids(stack)
    wrong = [
        (c["id"], c["event"])
        for c in commands
        if c["id"] not in names
        or (PROJECT_ROOT / c["event"]) not in sample_events(CATALOG.function(names[c["id"]]))
    ]
    assert wrong == []


def test_sam_commands_are_read_from_the_sam_section_only() -> None:
    readme = (
        "sam local invoke -t a.json Outside -e events/x.json\n"
        f"{SECTION}\n```sh\nsam local invoke -t t.json  Inside -e events/y.json\n```\n"
        "## Next\nsam local invoke -t a.json After -e events/z.json\n"
    )
    assert sam_commands(readme) == [
        {"template": "t.json", "id": "Inside", "event": "events/y.json"}
    ]
