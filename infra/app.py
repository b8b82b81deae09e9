"""Entry point of the CDK app (``cdk.json`` runs ``python3 -m infra.app`` from the repo root).

The stack is environment-agnostic: no account or region lookups, so ``cdk synth``
needs no credentials and the same template deploys to any account and region.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aws_cdk import App, Aspects, Tags
from cdk_nag import AwsSolutionsChecks
from sluice.catalog import PROJECT_ROOT

from infra.stack import SluiceStack

STACK_NAME = "Sluice"
CDK_JSON = PROJECT_ROOT / "cdk.json"


def cdk_json_context(path: Path = CDK_JSON) -> dict[str, Any]:
    """The ``context`` of ``cdk.json`` (feature flags), which the CDK CLI hands to the app.

    An app built in-process (tests) gets the same flags from here, so it synthesises
    the same template as ``cdk synth``.
    """
    context: dict[str, Any] = json.loads(path.read_text(encoding="utf-8")).get("context", {})
    return context


def build_app(
    *,
    context: Mapping[str, Any] | None = None,
    outdir: str | None = None,
    log_accepted: bool = False,
) -> tuple[App, SluiceStack]:
    """The app with its one stack; ``context`` and ``outdir`` are for in-process synthesis.

    cdk-nag's AwsSolutions checks run on it as it synthesises: with cdk.json's
    ``annotationsInValidationReport``, a finding the stack does not accept (with its
    reason, ``infra/constructs/nag.py``) fails ``cdk synth`` and ``cdk deploy``.
    ``log_accepted`` notes each accepted finding too (an info annotation), for the tests.
    """
    app = App(context=dict(context) if context is not None else None, outdir=outdir)
    stack = SluiceStack(
        app,
        STACK_NAME,
        description="sluice: a serverless data platform (API, ingestion, storage, auth)",
    )
    Tags.of(app).add("project", "sluice")
    Aspects.of(app).add(AwsSolutionsChecks(log_ignores=log_accepted))
    return app, stack


def main() -> None:
    """Synthesise the cloud assembly where the CDK CLI asked for it."""
    app, _ = build_app()
    app.synth()


if __name__ == "__main__":
    main()
