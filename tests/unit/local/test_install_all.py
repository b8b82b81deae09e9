"""sluice.local.patches.install_all: every patch installed, each attribute replaced once."""

from __future__ import annotations

from collections.abc import Callable

from botocore.session import Session
from moto import backends
from moto.awslambda.models import LambdaFunction
from moto.core.request import Request
from moto.core.serialize import BaseJSONSerializer
from moto.dynamodb.responses import DynamoHandler
from moto.ecs.models import EC2ContainerServiceBackend
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler
from moto.s3.models import FakeKey, FakeMultipart
from moto.s3.responses import S3Response
from moto.stepfunctions.parser.asl.component.common.path import result_path
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_ecs import (  # noqa: E501
    StateTaskServiceEcs,
)
from moto.stepfunctions.parser.asl.utils import json_path
from moto.utilities import utils
from sluice.local import patches
from sluice.local.patches import replace, sfn_distributed_map
from werkzeug.wsgi import LimitedStream

PATCHED = {
    (S3Response, "get_object"),
    (S3Response, "_handle_range_header"),
    (S3Response, "_bucket_response_post"),
    (S3Response, "setup_class"),
    (Request, "_get_file_stream"),
    (FakeKey, "value"),
    (FakeMultipart, "complete"),
    (backends, "list_of_moto_modules"),
    (DynamoHandler, "call_action"),
    (BaseJSONSerializer, "_serialize_type_structure"),
    (LimitedStream, "readall"),
    (json_path, "parse"),
    (result_path, "parse"),
    (LambdaFunction, "_invoke_lambda"),
    (lambda_eval_utils, "boto_client_for"),
    (MotoRequestHandler, "run_wsgi"),
    (DomainDispatcherApplication, "__call__"),
    (EC2ContainerServiceBackend, "run_task"),
    (EC2ContainerServiceBackend, "stop_task"),
    (StateTaskServiceEcs, "_normalise_parameters"),
    (StateTaskServiceEcs, "_normalise_response"),
    (StateTaskServiceEcs, "_build_sync_resolver"),
    (StateTaskServiceEcs, "_eval_sync"),
    (StateTaskServiceEcs, "_wait_for_task_token_timeout"),
    (utils, "load_resource"),
    (Session, "get_available_regions"),
    *sfn_distributed_map.PATCHED,
}


def test_installing_all_twice_replaces_each_attribute_exactly_once() -> None:
    patches.install_all()
    first = {(owner, name): getattr(owner, name) for owner, name in PATCHED}
    patches.install_all()
    assert set(replace.replacements()) == PATCHED
    for (owner, name), replacement in first.items():
        assert getattr(owner, name) is replacement, name
        # What was wrapped is the library's own, not an earlier replacement of ours.
        assert not any(replace.original(owner, name) is getattr(*patched) for patched in PATCHED), (
            name
        )


def test_a_restored_attribute_is_the_librarys_own_again() -> None:
    patches.install_all()
    own = replace.original(DynamoHandler, "call_action")
    replace.restore(DynamoHandler, "call_action")
    try:
        assert DynamoHandler.call_action is own
        assert not replace.replaced(DynamoHandler, "call_action")
    finally:
        patches.install_all()
    assert replace.replaced(DynamoHandler, "call_action")


class _Base:
    def answer(self) -> str:
        return "base"


class _Derived(_Base):
    pass


def test_an_inherited_attribute_is_inherited_again_once_restored() -> None:
    def louder(answer: Callable[[_Base], str]) -> Callable[[_Base], str]:
        return lambda self: answer(self).upper()

    replace.replace_once(_Derived, "answer", louder)
    replace.replace_once(_Derived, "answer", louder)
    assert (_Derived().answer(), _Base().answer()) == ("BASE", "base")
    replace.restore(_Derived, "answer")
    assert "answer" not in vars(_Derived)
    assert _Derived().answer() == "base"
