"""Generating the manifests from the installed Keras (``sluice manifests``).

The only module of the package that imports Keras, and only inside its functions: the
api Lambda reads the committed JSON (``networks.manifests``). Generation is
deterministic: entries and aliases sorted by name, parameters in signature order.
"""

from __future__ import annotations

import inspect
import os
import re
from pathlib import Path
from types import ModuleType
from typing import Any

from sluice.networks import docstrings, manifest_spec
from sluice.networks.manifest_models import (
    InputArity,
    Manifest,
    ManifestEntry,
    ManifestKind,
    ParamSpec,
    ParamType,
    ValueRange,
)
from sluice.networks.manifests import MANIFEST_DIR, render
from sluice.networks.param_checks import value_problem

_NOT_ENTRIES = {"get", "serialize", "deserialize"}
_UNEXPRESSIBLE = {"input_tensor"}
"""Parameters that take a live object (a tensor), which JSON cannot carry."""


def _keras() -> tuple[ModuleType, str]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras
    import tensorflow as tf

    return keras, str(tf.__version__)


def _snake(name: str) -> str:
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name)
    return spaced.lower()


def _json(value: Any) -> Any:
    """A default as JSON: tuples become lists; anything else not JSON becomes None."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, tuple | list):
        return [_json(item) for item in value]
    return None


def _type_of_default(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"type": ParamType.BOOL}
    if isinstance(value, int):
        return {"type": ParamType.INT}
    if isinstance(value, float):
        return {"type": ParamType.FLOAT}
    if isinstance(value, str):
        return {"type": ParamType.STRING}
    if isinstance(value, list):
        flat = [v for item in value for v in (item if isinstance(item, list) else [item])]
        if flat and all(isinstance(v, int) and not isinstance(v, bool) for v in flat):
            return {"type": ParamType.INT_TUPLE}
        if flat and all(isinstance(v, int | float) and not isinstance(v, bool) for v in flat):
            return {"type": ParamType.FLOAT_TUPLE}
    return {"type": ParamType.ANY}


_DOC_TYPES: list[tuple[re.Pattern[str], dict[str, Any]]] = [
    (re.compile(r"^(an? )?positive int(eger)?s? or (a )?(tuple|list)"), {
        "type": ParamType.INT_TUPLE, "value_range": {"min": 1}}),
    (re.compile(r"^(an? )?(int|integer)s?,? or (a )?(tuple|list)"), {"type": ParamType.INT_TUPLE}),
    (re.compile(r"^optional (positive )?int(eger)?\b"), {
        "type": ParamType.INT, "nullable": True}),
    (re.compile(r"^((a single )?float,? or (a )?(list/)?tuple|a tuple of two floats or)"), {
        "type": ParamType.FLOAT_TUPLE}),
    (re.compile(r"^(an? )?positive int(eger)?\b"), {
        "type": ParamType.INT, "value_range": {"min": 1}}),
    (re.compile(r"^(an? )?(int|integer)\b"), {"type": ParamType.INT}),
    (re.compile(r"^(an? )?float (between|in( the)? range) \[?0(\.0)?,? (and )?1(\.0)?\b"), {
        "type": ParamType.FLOAT, "value_range": {"min": 0, "max": 1}}),
    (re.compile(r"^(an? )?`?float`?\b(?! or)"), {"type": ParamType.FLOAT}),
    (re.compile(r"^(an? )?(bool|boolean)\b(?! or)"), {"type": ParamType.BOOL}),
    (re.compile(r"^(an? )?(str|string)\b(?! or)"), {"type": ParamType.STRING}),
]  # fmt: skip
"""How Keras's docstrings open an argument of a type its default does not show."""


def _type_of_doc(doc: str) -> dict[str, Any]:
    text = doc.lower()
    for pattern, rule in _DOC_TYPES:
        if pattern.match(text):
            return dict(rule)
    return {"type": ParamType.ANY}


def _rule(owner: str, name: str) -> dict[str, Any]:
    if f"{owner}.{name}" in manifest_spec.BY_CLASS:
        return manifest_spec.BY_CLASS[f"{owner}.{name}"]
    if name in manifest_spec.BY_NAME:
        return manifest_spec.BY_NAME[name]
    for suffix, rule in manifest_spec.BY_SUFFIX.items():
        if name.endswith(suffix):
            return rule
    return {}


def _param(
    owner: str,
    parameter: inspect.Parameter,
    doc: str,
    identifiers: dict[str, list[str]],
) -> ParamSpec:
    required = parameter.default is inspect.Parameter.empty
    default = None if required else _json(parameter.default)
    inferred = _type_of_default(default) if default is not None else _type_of_doc(doc)
    rule = {**inferred, **_rule(owner, parameter.name)}
    allowed = rule.get("allowed_values")
    if isinstance(allowed, str):  # a marker: the identifiers Keras's module takes
        allowed = identifiers[allowed]
    spec = ParamSpec(
        name=parameter.name,
        kind=parameter.kind.name,
        default=default,
        required=required,
        type=ParamType.ENUM if allowed is not None else rule["type"],
        nullable=rule.get("nullable", not required and default is None),
        allowed_values=allowed,
        value_range=ValueRange(**rule["value_range"]) if "value_range" in rule else None,
        doc=doc,
    )
    problem = None if required else value_problem(spec, default)
    if problem:  # the spec table contradicts Keras: fix the table, not the manifest
        raise SpecContradiction(f"{owner}.{parameter.name}: default {default!r} {problem}")
    return spec


class SpecContradiction(ValueError):
    """A default that the spec table's rule for its parameter refuses."""


def _parameters(
    owner: str, target: Any, identifiers: dict[str, list[str]], problems: list[str], *, layer: bool
) -> list[ParamSpec]:
    function = target.__init__ if inspect.isclass(target) else target
    docs = docstrings.arguments(inspect.getdoc(target))
    signature = inspect.signature(function)
    params: list[ParamSpec] = []
    takes_kwargs = False
    positional = list(signature.parameters.values())
    for index, parameter in enumerate(positional):
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            takes_kwargs = True
            continue
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL or parameter.name == "self":
            continue
        if not inspect.isclass(target) and index == 0:  # an activation's input tensor
            continue
        if parameter.name in _UNEXPRESSIBLE:
            continue
        try:
            params.append(_param(owner, parameter, docs.get(parameter.name, ""), identifiers))
        except SpecContradiction as exc:
            problems.append(str(exc))
    if layer and takes_kwargs:
        declared = {param.name for param in params}
        for base in manifest_spec.LAYER_BASE_PARAMETERS:
            if base["name"] not in declared:
                params.append(ParamSpec(kind="KEYWORD_ONLY", required=False, **base))
    return params


def _categories(kind: ManifestKind, target: Any) -> list[str]:
    """Where Keras keeps it: keras.src.layers.convolutional.conv2d -> ["convolutional"]."""
    parts = target.__module__.split(".")
    inner = parts[3:-1] if kind is ManifestKind.LAYERS else parts[2:-1]
    if kind is ManifestKind.LAYERS and not inner:
        inner = parts[3:4]
    return inner or [kind.value]


def _public(module: ModuleType) -> dict[str, Any]:
    return {name: getattr(module, name) for name in dir(module) if not name.startswith("_")}


def _entries(
    kind: ManifestKind, module: ModuleType, identifiers: dict[str, list[str]], problems: list[str]
) -> list[ManifestEntry]:
    excluded = manifest_spec.EXCLUDED[kind.value]
    public = _public(module)
    by_target: dict[int, list[str]] = {}
    for name, target in public.items():
        if name in excluded or name in _NOT_ENTRIES or not callable(target):
            continue
        if kind is ManifestKind.ACTIVATIONS:
            wanted = inspect.isfunction(target)
        else:
            wanted = inspect.isclass(target)
            if kind is ManifestKind.LAYERS:
                wanted = wanted and issubclass(target, module.Layer)
        if wanted:
            by_target.setdefault(id(target), []).append(name)
    entries = []
    for names in by_target.values():
        target = public[names[0]]
        canonical = target.__name__ if target.__name__ in names else sorted(names)[0]
        aliases = {name for name in names if name != canonical}
        if kind in (ManifestKind.LOSSES, ManifestKind.METRICS):
            snake = _snake(canonical)  # the string id compile() takes
            if snake != canonical and inspect.isfunction(public.get(snake)):
                aliases.add(snake)
        if kind is ManifestKind.OPTIMIZERS:
            aliases.add(canonical.lower())
        if kind is ManifestKind.LAYERS:
            aliases.update(
                alias for alias, of in manifest_spec.EXTRA_LAYER_ALIASES.items() if of == canonical
            )
        aliases.discard(canonical)
        arity = manifest_spec.LAYER_INPUTS.get(canonical, {"min": 1, "max": 1})
        entries.append(
            ManifestEntry(
                name=canonical,
                module=f"keras.{kind.value}",
                description=manifest_spec.DESCRIPTIONS.get(canonical)
                or docstrings.summary(target.__doc__),
                categories=_categories(kind, target),
                aliases=sorted(aliases),
                inputs=InputArity(**arity) if kind is ManifestKind.LAYERS else None,
                parameters=_parameters(
                    canonical, target, identifiers, problems, layer=kind is ManifestKind.LAYERS
                ),
            )
        )
    return sorted(entries, key=lambda entry: entry.name)


_BASES = {"Constraint", "Initializer", "Regularizer"}
_SHORTHANDS = ("normal", "uniform")
"""Identifiers ``keras.initializers.get`` takes that are no public name."""


def _identifiers(module: ModuleType) -> list[str]:
    """The names ``module.get`` resolves: its public functions and classes, but bases."""
    names = [
        name
        for name, target in _public(module).items()
        if callable(target)
        and name not in _NOT_ENTRIES
        and name not in _BASES
        and (inspect.isfunction(target) or inspect.isclass(target))
    ]
    accepted = []
    for name in sorted({*names, *_SHORTHANDS}):
        try:
            module.get(name)
        except Exception:  # Keras refuses a name in several ways; all mean "not taken"
            continue
        accepted.append(name)
    return accepted


def build_manifests() -> dict[ManifestKind, Manifest]:
    """Every manifest, read from the installed Keras."""
    keras, tf_version = _keras()
    identifiers = {
        name: _identifiers(getattr(keras, name))
        for name in (
            manifest_spec.ACTIVATIONS,
            manifest_spec.INITIALIZERS,
            manifest_spec.REGULARIZERS,
            manifest_spec.CONSTRAINTS,
        )
    }
    problems: list[str] = []
    manifests = {
        kind: Manifest(
            kind=kind,
            tensorflow_version=tf_version,
            keras_version=str(keras.__version__),
            entries=_entries(kind, getattr(keras, kind.value), identifiers, problems),
        )
        for kind in ManifestKind
    }
    if problems:
        raise SpecContradiction("the spec table contradicts Keras:\n" + "\n".join(problems))
    return manifests


def write_manifests(directory: Path = MANIFEST_DIR) -> list[Path]:
    """Regenerate every manifest into ``directory``; the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, manifest in build_manifests().items():
        path = directory / f"{kind.value}.json"
        path.write_text(render(manifest), encoding="utf-8")
        written.append(path)
    return written
