"""The synthesised stack, shared by every infra test module: one synthesis a session."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Template

from infra.app import build_app, cdk_json_context
from infra.stack import SluiceStack

Resources = dict[str, dict[str, Any]]

ANNOTATIONS_IN_VALIDATION_REPORT = "@aws-cdk/core:annotationsInValidationReport"


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> SluiceStack:
    """The app's stack, built with cdk.json's feature flags as the CLI would build it.

    But for one: with ``annotationsInValidationReport`` a cdk-nag finding fails synthesis
    (as it should fail ``cdk synth``), which here would fail every test that reads the
    template. Off, findings stay annotations, which ``test_nag`` names one by one; the
    findings the stack accepts are noted too, so that it can tell that each acceptance
    answers a finding.
    """
    outdir = tmp_path_factory.mktemp("cdk.out")
    context = {**cdk_json_context(), ANNOTATIONS_IN_VALIDATION_REPORT: False}
    _, built = build_app(context=context, outdir=str(outdir), log_accepted=True)
    return built


@pytest.fixture(scope="session")
def template(stack: SluiceStack) -> Template:
    """The stack's CloudFormation template, for aws_cdk.assertions."""
    return Template.from_stack(stack)


@pytest.fixture(scope="session")
def resources(template: Template) -> Resources:
    """The template's resources by logical id, for checks finer than Match offers."""
    found: Resources = template.to_json()["Resources"]
    return found
