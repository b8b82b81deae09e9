"""Reading a Catch's $.error back into the failing Lambda's words."""

from sluice.step_errors import StepFailure, step_failure


def test_a_lambda_error_gives_its_type_and_message() -> None:
    cause = '{"errorType": "CsvError", "errorMessage": "line 3: bad", "stackTrace": []}'
    assert step_failure("CsvError", cause) == StepFailure("CsvError", "line 3: bad")


def test_a_plain_cause_is_the_message() -> None:
    failure = step_failure("States.Timeout", "took too long")
    assert failure == StepFailure("States.Timeout", "took too long")


def test_no_cause_falls_back_to_the_error_name() -> None:
    assert step_failure("States.Runtime", None) == StepFailure("States.Runtime", "States.Runtime")
