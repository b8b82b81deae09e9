"""Make moto's Step Functions ``arn:aws:states:::ecs:runTask.sync`` work as in AWS.

moto's ASL interpreter (LocalStack's, vendored) falls short in two places for ECS:

- Its ``_normalise_parameters`` and ``_normalise_response`` are empty stubs, so the
  state's ``Parameters`` (``Cluster``, ``TaskDefinition``, ``Overrides`` ... as Step
  Functions spells them) reach ECS unconverted (its client skips validation), and the
  answer keeps ECS's casing where the integration reads Step Functions' (``Tasks``,
  ``TaskArn``): the state failed with ``States.Runtime`` ``'Cluster'``. ``install()``
  converts both ways through botocore's shapes, with the helpers the interpreter
  already has (``_to_boto_request``, ``_from_boto_response``). Timestamps in the
  answer become epoch milliseconds, as AWS writes them in a state's output (moto kept
  botocore's datetimes, which its DescribeExecution then failed to serialize).
- Its ``.sync`` resolver returned any STOPPED task as a success. AWS fails the state
  with ``States.TaskFailed`` when an essential container exits non-zero (or never
  started), the cause being the task's description as JSON; so does ``install()``.
- A stopped execution left its task running. AWS stops the task of a ``.sync`` state
  whose execution is stopped (hence ``ecs:StopTask`` in that integration's IAM policy);
  ``install()`` has the waiting loop call StopTask when it ends with the execution.
- An execution stopped just as the state began left its token-waiting thread a dict for
  a timeout: the interpreter pops the state's timeout off its stack after evaluating it,
  but a stopped environment evaluates nothing, so the pop took the state's input, and the
  thread died on ``timeout > 0`` (a warning in every test run that cancels a training
  job). ``install()`` has that thread end at once, with no outcome, as it would have at
  its timeout; the waiting loop then stops the task as above.

Only the ECS integration is changed. moto is pinned exactly (``pyproject.toml``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

import botocore.session
from botocore import xform_name
from botocore.model import OperationModel, ServiceModel
from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
    StatesErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_ecs import (  # noqa: E501
    StateTaskServiceEcs,
)
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str

from sluice.local.patches.replace import replace_once, replaced


@functools.cache
def _ecs_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model("ecs")


@functools.cache
def _operations() -> dict[str, str]:
    """snake_case action -> ECS operation name ('run_task' -> 'RunTask')."""
    return {xform_name(name): name for name in _ecs_model().operation_names}


def _operation(service: StateTaskServiceEcs, action: str | None) -> OperationModel:
    snake = service._get_boto_service_action(service_action_name=action)
    return _ecs_model().operation_model(_operations()[snake])


def _normalise_parameters(_: Callable[..., None]) -> Callable[..., None]:
    def normalise(
        self: StateTaskServiceEcs,
        parameters: dict[str, Any],
        boto_service_name: str | None = None,
        service_action_name: str | None = None,
    ) -> None:
        shape = _operation(self, service_action_name).input_shape
        if shape is not None:
            self._to_boto_request(parameters, shape)

    return normalise


def _normalise_response(_: Callable[..., None]) -> Callable[..., None]:
    def normalise(
        self: StateTaskServiceEcs,
        response: Any,
        boto_service_name: str | None = None,
        service_action_name: str | None = None,
    ) -> None:
        shape = _operation(self, service_action_name).output_shape
        if shape is not None:
            self._from_boto_response(response, shape)
        _epoch_millis(response)

    return normalise


def _epoch_millis(value: Any) -> Any:
    """Replace every datetime inside ``value`` (in place) with epoch milliseconds."""
    if isinstance(value, datetime):
        return round(value.timestamp() * 1000)
    if isinstance(value, dict):
        for key, item in value.items():
            value[key] = _epoch_millis(item)
    elif isinstance(value, list):
        value[:] = [_epoch_millis(item) for item in value]
    return value


def task_failed(task: dict[str, Any]) -> bool:
    """Whether a STOPPED task (Step Functions' casing) failed, as the ``.sync``
    integration judges it: an essential container without exit code 0."""
    containers = task.get("Containers") or []
    if not containers:
        return True
    return any(container.get("ExitCode") != 0 for container in containers)


_TASK = "_sluice_ecs_task"
"""Where the waiting state's environment keeps its task's (cluster, task ARN)."""


def _failing_sync(build: Callable[..., Any]) -> Callable[..., Any]:
    def build_resolver(self: StateTaskServiceEcs, env: Any, *args: Any, **kwargs: Any) -> Any:
        submitted = env.stack[-1]["Tasks"][0]  # RunTask's answer, which build pops
        setattr(env, _TASK, (submitted["ClusterArn"], submitted["TaskArn"]))
        resolve = build(self, env, *args, **kwargs)

        def resolver() -> Any:
            task = resolve()
            if task is None or not task_failed(task):
                return task
            error = StatesErrorNameType.StatesTaskFailed
            raise FailureEventException(
                FailureEvent(
                    env=env,
                    error_name=StatesErrorName(typ=error),
                    event_type=HistoryEventType.TaskFailed,
                    event_details=EventDetails(  # type: ignore[typeddict-item]  # total=True
                        taskFailedEventDetails=TaskFailedEventDetails(
                            resource=self._get_sfn_resource(),
                            resourceType=self._get_sfn_resource_type(),
                            error=error.to_name(),
                            cause=to_json_str(task),
                        )
                    ),
                )
            )

        return resolver

    return build_resolver


def _stopping_with_the_execution(eval_sync: Callable[..., Any]) -> Callable[..., Any]:
    def wait(self: StateTaskServiceEcs, env: Any, *args: Any, **kwargs: Any) -> Any:
        outcome = eval_sync(self, env, *args, **kwargs)
        task = getattr(env, _TASK, None)
        if task is not None and not env.is_running():  # stopped (or timed out) meanwhile
            cluster, task_arn = task
            ecs = boto_client_for(region=task_arn.split(":")[3], service="ecs")
            ecs.stop_task(cluster=cluster, task=task_arn, reason="The execution was stopped")
        return outcome

    return wait


def _no_wait_without_a_timeout(wait: Callable[..., Any]) -> Callable[..., Any]:
    def wait_for_token(
        self: StateTaskServiceEcs, timeout_seconds: Any, callback_endpoint: Any
    ) -> Any:
        if not isinstance(timeout_seconds, int | float):  # the execution stopped first
            return None
        return wait(self, timeout_seconds, callback_endpoint)

    return wait_for_token


def install() -> None:
    """Fix moto's ``ecs:runTask.sync`` integration. Safe to call more than once."""
    replace_once(StateTaskServiceEcs, "_normalise_parameters", _normalise_parameters)
    replace_once(StateTaskServiceEcs, "_normalise_response", _normalise_response)
    replace_once(StateTaskServiceEcs, "_build_sync_resolver", _failing_sync)
    replace_once(StateTaskServiceEcs, "_eval_sync", _stopping_with_the_execution)
    replace_once(StateTaskServiceEcs, "_wait_for_task_token_timeout", _no_wait_without_a_timeout)


def installed() -> bool:
    """Whether ``install()`` has patched moto in this process."""
    return all(
        replaced(StateTaskServiceEcs, name)
        for name in (
            "_normalise_parameters",
            "_normalise_response",
            "_build_sync_resolver",
            "_eval_sync",
            "_wait_for_task_token_timeout",
        )
    )


__all__ = ["install", "installed", "task_failed"]
