"""The operation catalogue: what operations there are, and the wizard of each."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel

from sluice.api.errors import ERROR_RESPONSES
from sluice.operations.catalogue import catalogue, operation
from sluice.operations.wizard import Wizard

router = APIGatewayRouter()

OperationName = Annotated[
    str, Path(pattern=r"^[a-z][a-z0-9_]{0,99}$", description="The operation's name.")
]


class WizardList(BaseModel):
    items: list[Wizard]


@router.get("/operations", summary="List the operations", responses=ERROR_RESPONSES)
def list_operations() -> WizardList:
    """Every operation a session can run, each with its wizard: the inputs a form asks
    for (type, label, description, default, required, minimum/maximum, options, and for
    columns the dataset input they are of and the column types allowed)."""
    return WizardList(items=[cls.wizard() for cls in catalogue().values()])


@router.get("/operations/<name>", summary="Get an operation's wizard", responses=ERROR_RESPONSES)
def get_operation(name: OperationName) -> Wizard:
    """One operation's wizard."""
    return operation(name).wizard()
