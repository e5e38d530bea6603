"""The building blocks of the typed session models (``session_models``): a strict base
model tied to its SDK type, field types worded as OpenAI words their errors, and the
translation of pydantic's ``ValidationError`` into the ``RealtimeError`` a client sees.

Each model mirrors one of the SDK's own request types (``openai.types.realtime``): its
field names are checked against that TypedDict when the class is made, so the wire
shape cannot drift from OpenAI's. ``validate`` reports the first failing field, in the
order the fields are declared (an object's unknown keys before its fields), named by its
dotted path (``session.audio.output.voice``, ``session.tools[0].name``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Annotated, Any, ClassVar, TypeVar, get_args

from openai.types.realtime.realtime_reasoning_effort import RealtimeReasoningEffort
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    PlainValidator,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
)
from pydantic_core import PydanticCustomError

from playground.backend.realtime.protocol import RealtimeError, invalid
from playground.core.catalog import RealtimeSection, get_catalog

__all__ = [
    "EFFORTS",
    "PARAM",
    "UNSET",
    "VAD_KINDS",
    "Choice",
    "Flag",
    "Integer",
    "Number",
    "Text",
    "TypedModel",
    "problem",
    "refuse",
    "rt",
    "unsupported",
    "validate",
]

#: ``reasoning.effort`` and ``transcription.delay`` levels, in order (the SDK's literal)
EFFORTS: tuple[str, ...] = get_args(RealtimeReasoningEffort)
#: the union tags of turn detection, which pydantic puts in an error's ``loc``
VAD_KINDS = ("server_vad", "semantic_vad")
#: stands for the field's dotted path in a ``full`` message (the path is known only at the end)
PARAM = "{param}"


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


#: the default of a field that may be left out: not in ``model_fields_set``, never validated
UNSET: Any = _Unset()


def problem(why: str, code: str = "invalid_value", *, at: str = "", full: bool = False) -> PydanticCustomError:
    """A field's error inside a validator: ``why`` becomes ``Invalid '<param>': why`` (``full``: the
    whole message as given, ``PARAM`` standing for the path); ``at`` names a part below the
    field (``rate``, ``[2]``)."""
    return PydanticCustomError("realtime", "{why}", {"why": why, "code": code, "at": at, "full": full})


def unsupported(model: str, which: list[str]) -> PydanticCustomError:
    """A field that ``model`` does not take, naming the models that do."""
    why = f"Unsupported parameter: '{PARAM}' is not supported with {model}; models that take it: {', '.join(which)}."
    return problem(why, "unsupported_parameter", full=True)


def rt() -> RealtimeSection:
    """The catalog's realtime section (voices, formats, models)."""
    return get_catalog().realtime


def refuse(err: RealtimeError) -> PydanticCustomError:
    """A ``RealtimeError`` made elsewhere (a retired model), raised from inside a model."""
    return problem(err.message, err.code or "invalid_value", full=True)


class TypedModel(BaseModel):
    """A strict model with no unknown keys, whose fields are exactly its SDK type's keys."""

    model_config = ConfigDict(extra="forbid", strict=True)
    sdk: ClassVar[Any] = None

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        keys = set(cls.sdk.__required_keys__ | cls.sdk.__optional_keys__)
        if set(cls.model_fields) != keys:
            raise TypeError(f"{cls.__name__} drifted from {cls.sdk.__name__}: {sorted(keys ^ set(cls.model_fields))}")


# -- field types --------------------------------------------------------------------


def _unicode(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise problem("contains invalid Unicode (an unpaired surrogate).") from None
    return value


#: a string in valid Unicode (a JSON ``\ud800`` escape is not)
Text = Annotated[StrictStr, AfterValidator(_unicode)]
Flag = StrictBool
Bounds = tuple[float, float] | Callable[[], tuple[float, float]]


def _bounds(bounds: Bounds) -> tuple[Any, Any]:
    return bounds() if callable(bounds) else bounds


def Integer(bounds: Bounds) -> Any:
    """An integer (not a bool) within ``bounds`` (a pair, or a function of the catalog)."""

    def check(value: int) -> int:
        lo, hi = _bounds(bounds)
        if not lo <= value <= hi:
            raise problem(f"must be between {lo} and {hi}; got {value}.")
        return value

    return Annotated[StrictInt, AfterValidator(check)]


def Number(bounds: Bounds) -> Any:
    """A number (an integer or a float, not a bool or NaN) within ``bounds``, as a float."""

    def check(value: float) -> float:
        lo, hi = _bounds(bounds)
        if math.isnan(value):
            raise problem("expected a number.", "invalid_type")
        if not lo <= value <= hi:
            raise problem(f"must be between {lo:g} and {hi:g}; got {value:g}.")
        return value

    return Annotated[StrictFloat, AfterValidator(check)]


def Choice(options: Iterable[str] | Callable[[], Iterable[str]]) -> Any:
    """One of ``options`` (a literal's values, or a function of the catalog)."""

    def check(value: Any) -> str:
        allowed = list(options() if callable(options) else options)
        if not isinstance(value, str) or value not in allowed:
            raise problem(f"must be one of: {', '.join(allowed)}; got {value!r}.")
        return value

    return Annotated[str, PlainValidator(check)]


# -- errors -------------------------------------------------------------------------

#: pydantic's own error types, worded as the backend words them
_WORDING = {
    "model_type": ("expected an object.", "invalid_type"),
    "dict_type": ("expected an object.", "invalid_type"),
    "bool_type": ("expected a boolean.", "invalid_type"),
    "string_type": ("expected a string.", "invalid_type"),
    "int_type": ("expected an integer.", "invalid_type"),
    "float_type": ("expected a number.", "invalid_type"),
}
M = TypeVar("M", bound=BaseModel)


def validate(shape: type[M], value: Any, root: str, **context: Any) -> M:
    """``shape`` from ``value``, or the ``RealtimeError`` naming the first bad field under ``root``."""
    try:
        return shape.model_validate(value, context=context)
    except ValidationError as exc:
        raise realtime_error(exc, root) from None


def _param(root: str, loc: tuple[Any, ...], at: str = "") -> str:
    out = root
    for before, part in zip((None, *loc), loc, strict=False):
        if before == "turn_detection" and part in VAD_KINDS:
            continue  # the union's tag, not a key
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out + (at if not at or at.startswith("[") else f".{at}")


def realtime_error(exc: ValidationError, root: str) -> RealtimeError:
    """The error the checks would have met first: at every object, its unknown keys (first by
    name) before its fields, and its fields in the order the model declares them."""
    errors = exc.errors(include_url=False)
    seen: dict[tuple[Any, ...], int] = {}
    for i, e in enumerate(errors):
        for k in range(1, len(e["loc"]) + 1):
            seen.setdefault(tuple(e["loc"][:k]), i)

    def order(e: Any) -> tuple[tuple[int, str, int], ...]:
        loc, last = tuple(e["loc"]), len(e["loc"]) - 1
        extra = e["type"] == "extra_forbidden"
        return tuple((0, str(p), 0) if extra and k == last else (1, "", seen[loc[: k + 1]]) for k, p in enumerate(loc))

    first = min(errors, key=order)
    kind, ctx = first["type"], first.get("ctx") or {}
    param = _param(root, tuple(first["loc"]), ctx.get("at", ""))
    if kind == "extra_forbidden":
        return RealtimeError(f"Unknown parameter: '{param}'.", param=param, code="unknown_parameter")
    if kind == "missing":
        return RealtimeError(f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter")
    if kind == "realtime":
        if ctx["full"]:
            return RealtimeError(ctx["why"].replace(PARAM, param), param=param, code=ctx["code"])
        return invalid(param, ctx["why"], ctx["code"])
    why, code = _WORDING.get(kind, (first["msg"] + ".", "invalid_value"))
    return invalid(param, why, code)
