"""The grammar of an outcome plan: each rule kind and the parameters it takes (outcome-plan.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any


class ParamError(ValueError):
    """A parameter value that does not fit its type; the message says what it must be."""


def _whole(minimum: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ParamError(f"must be a whole number >= {minimum}")
        return value

    return check


def _percent(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ParamError("must be a number from 0 to 100")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ParamError("must be a number from 0 to 100") from None
    if not (0 <= number <= 100):
        raise ParamError("must be a number from 0 to 100")
    return number


def _number(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParamError("must be a number")
    return Decimal(str(value))


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ParamError("must be true or false")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ParamError("must be non-empty text")
    return value


def _choice(*options: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in options:
            raise ParamError("must be one of " + ", ".join(options))
        return value

    return check


def known_codes(value: Any, vocabulary: str, codes: dict) -> tuple[str, ...]:
    """A non-empty list of codes of one of the code lists the plan is read with."""
    known = codes[vocabulary]
    if not isinstance(value, list) or not value:
        raise ParamError(f"must be a non-empty list of {vocabulary} codes")
    unknown = [v for v in value if v not in known]
    if unknown:
        raise ParamError(f"unknown {vocabulary} {', '.join(map(str, unknown))} (known: {', '.join(known)})")
    return tuple(value)


@dataclass(frozen=True)
class Param:
    check: Callable[[Any], Any] | None = None
    required: bool = True
    default: Any = None
    vocabulary: str | None = None  # a list of codes of this code list, checked against the lists in use

    def read(self, value: Any, codes: dict) -> Any:
        return known_codes(value, self.vocabulary, codes) if self.vocabulary else self.check(value)


def _codes(vocabulary: str) -> Param:
    return Param(vocabulary=vocabulary)


SCOPE = Param(_choice("family", "flagged"), required=False, default="family")
ABSENCE = Param(_choice("overall", "unauthorised"), required=False, default="overall")
# pbr's own field: the window must start on or after attachment (outcome-plan.md), or after case closure
WINDOW_AFTER = Param(_choice("attachment", "closure"), required=False, default="attachment")

ELIGIBILITY_KINDS: dict[str, dict[str, Param]] = {
    "recorded_indicator": {},
    "event_count": {"event_types": _codes("event_type"), "min_count": Param(_whole(1))},
    "episode_open": {
        "episode_types": _codes("episode_type"),
        "at_attachment": Param(_bool, required=False, default=False),
    },
    "attendance_below": {
        "min_absence_percent": Param(_percent),
        "terms": Param(_whole(1)),
        "absence": ABSENCE,
    },
}

PROGRESS_KINDS: dict[str, dict[str, Param]] = {
    "no_events": {
        "event_types": _codes("event_type"),
        "months": Param(_whole(1)),
        "scope": SCOPE,
        "window_after": WINDOW_AFTER,
    },
    "events_reduced": {
        "event_types": _codes("event_type"),
        "reduction_percent": Param(_percent),
        "months": Param(_whole(1)),
        "scope": SCOPE,
        "window_after": WINDOW_AFTER,
    },
    "no_episodes": {
        "episode_types": _codes("episode_type"),
        "months": Param(_whole(1)),
        "scope": SCOPE,
        "window_after": WINDOW_AFTER,
    },
    "attendance_sustained": {
        "max_absence_percent": Param(_percent),
        "terms": Param(_whole(1)),
        "max_fixed_exclusions": Param(_whole(0), required=False, default=0),
        "absence": ABSENCE,
        "scope": SCOPE,
        "window_after": WINDOW_AFTER,
    },
    "score_improved": {
        "tool": Param(_text),
        "domain": Param(_text),
        "min_improvement": Param(_number),
        "months": Param(_whole(0)),
        "baseline_grace_days": Param(_whole(0), required=False, default=0),
        # with `closure`, the improvement must be seen again `months` after the case closed (outcome-plan.md)
        "window_after": WINDOW_AFTER,
    },
}

# Keys every rule entry may carry besides its parameters.
COMMON_KEYS = {"kind", "reference", "description"}
