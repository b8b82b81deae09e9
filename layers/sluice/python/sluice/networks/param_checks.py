"""Whether a value suits a manifest parameter: its type, allowed values and range. Pure."""

from __future__ import annotations

from typing import Any

from sluice.networks.manifest_models import ParamSpec, ParamType, ValueRange


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _ints(value: Any, depth: int = 0) -> list[int] | None:
    """The ints of an int, a list of ints or a list of lists of ints; None otherwise."""
    if _is_int(value):
        return [value]
    if isinstance(value, list) and depth < 2 and value:
        found: list[int] = []
        for item in value:
            inner = _ints(item, depth + 1)
            if inner is None:
                return None
            found.extend(inner)
        return found
    return None


def _range_problem(number: float, bounds: ValueRange) -> str | None:
    if bounds.min is not None:
        if bounds.min_exclusive and not number > bounds.min:
            return f"must be greater than {bounds.min:g}"
        if number < bounds.min:
            return f"must be at least {bounds.min:g}"
    if bounds.max is not None and number > bounds.max:
        return f"must be at most {bounds.max:g}"
    return None


def _numbers(spec: ParamSpec, value: Any) -> tuple[list[float] | None, str]:
    """The numbers in ``value`` that the range bounds, and what the type expects."""
    kind = spec.type
    if kind is ParamType.BOOL:
        return ([] if isinstance(value, bool) else None), "a boolean"
    if kind is ParamType.INT:
        return ([value] if _is_int(value) else None), "an integer"
    if kind is ParamType.FLOAT:
        return ([value] if _is_number(value) else None), "a number"
    if kind is ParamType.STRING:
        return ([] if isinstance(value, str) else None), "a string"
    if kind is ParamType.INT_TUPLE:
        ints = _ints(value)
        return (None if ints is None else [float(i) for i in ints]), "an integer or integers"
    if kind is ParamType.FLOAT_TUPLE:
        if _is_number(value):
            return [value], "a number or numbers"
        ok = isinstance(value, list) and bool(value) and all(_is_number(v) for v in value)
        return (list(value) if ok else None), "a number or numbers"
    if kind is ParamType.SHAPE:
        ok = isinstance(value, list) and all(v is None or _is_int(v) for v in value)
        return ([v for v in value if v is not None] if ok else None), "a list of integers or nulls"
    return [], "anything"  # ENUM is checked by its values, ANY not at all


def value_problem(spec: ParamSpec, value: Any) -> str | None:
    """What is wrong with ``value`` for ``spec`` (a sentence), or None when it fits."""
    if value is None:
        return None if spec.nullable else "must not be null"
    if spec.allowed_values is not None:
        if value in spec.allowed_values and type(value) is not bool:
            return None
        shown = ", ".join(repr(v) for v in spec.allowed_values[:12])
        more = ", ..." if len(spec.allowed_values) > 12 else ""
        return f"must be one of {shown}{more}"
    numbers, expected = _numbers(spec, value)
    if numbers is None:
        return f"must be {expected}"
    if spec.value_range is not None:
        for number in numbers:
            problem = _range_problem(number, spec.value_range)
            if problem:
                return problem if len(numbers) == 1 else f"each value {problem}"
    return None
