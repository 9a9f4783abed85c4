"""Review protocols: a YAML file (PICO, searches, eligibility, outcomes, windows, analysis plan).

The protocol is validated on load against the dataclasses below: an unknown key, a missing
required field or a value of the wrong type is a :class:`~review.errors.ProtocolError` that
names the file and the key path, e.g. ``searches[1].query``.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from review.errors import ProtocolError
from review.windows import FollowUpWindow, window_for

__all__ = [
    "Comparison",
    "FollowUpWindow",
    "Outcome",
    "Protocol",
    "Question",
    "SearchSpec",
    "load_protocol",
    "parse_protocol",
]


@dataclass(frozen=True)
class Question:
    """The review question as PICO (plus study designs)."""

    population: str
    intervention: str
    comparison: str
    outcomes: str
    study_designs: str = ""


@dataclass(frozen=True)
class SearchSpec:
    """One bibliographic database query, run as written (PRISMA-S item 8)."""

    label: str
    query: str
    database: str = "pubmed"
    mindate: str | None = None
    maxdate: str | None = None


@dataclass(frozen=True)
class Eligibility:
    """Inclusion and exclusion criteria shown to screeners."""

    include: tuple[str, ...]
    exclude: tuple[str, ...]


@dataclass(frozen=True)
class Screening:
    """How screening is run: reviewers per record and full-text exclusion reasons."""

    reviewers_per_record: int = 2
    exclusion_reasons: tuple[str, ...] = (
        "wrong population",
        "wrong intervention",
        "wrong comparator",
        "wrong outcome",
        "wrong study design",
        "duplicate report",
        "full text not available",
    )


@dataclass(frozen=True)
class Outcome:
    """An outcome domain, the instruments accepted for it, and which direction is better."""

    domain: str
    description: str = ""
    instruments: tuple[str, ...] = ()
    lower_is_better: bool = True
    measure: str = "SMD"


@dataclass(frozen=True)
class Comparison:
    """An intervention class against its control classes, as pooled in the analysis plan."""

    label: str
    intervention: str
    controls: tuple[str, ...]


@dataclass(frozen=True)
class Analysis:
    """The analysis plan: model, adjustments and comparisons to pool."""

    method: str = "REML"
    hksj: bool = False
    comparisons: tuple[Comparison, ...] = ()
    moderators: tuple[str, ...] = ()
    subgroups: tuple[str, ...] = ()


@dataclass(frozen=True)
class Protocol:
    """A whole review protocol (see ``protocols/ketamine-crps.yaml``)."""

    id: str
    title: str
    question: Question
    searches: tuple[SearchSpec, ...]
    eligibility: Eligibility
    outcomes: tuple[Outcome, ...]
    follow_up_windows: tuple[FollowUpWindow, ...]
    version: str = "1"
    registration: str = ""
    authors: tuple[str, ...] = ()
    screening: Screening = field(default_factory=Screening)
    analysis: Analysis = field(default_factory=Analysis)
    intervention_classes: tuple[str, ...] = ()

    def window_for(self, day: float) -> FollowUpWindow | None:
        """The follow-up window holding a time point (days since start), if any."""
        return window_for(self.follow_up_windows, day)


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp)).replace("typing.", "")


def _convert(tp: Any, value: Any, where: str, path: str) -> Any:
    """Check ``value`` against the annotation ``tp`` and build dataclasses/tuples from it."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _convert(inner[0], value, where, path)
    if origin is tuple:
        if isinstance(value, str) or not isinstance(value, list | tuple):
            raise ProtocolError(f"{where} must be a list, got {type(value).__name__}", path=path)
        return tuple(_convert(args[0], v, f"{where}[{i}]", path) for i, v in enumerate(value))
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, Mapping):
            raise ProtocolError(f"{where} must be a mapping of keys, got {type(value).__name__}", path=path)
        return _build(tp, value, where, path)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ProtocolError(f"{where} must be a number, got {value!r}", path=path)
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ProtocolError(f"{where} must be a whole number, got {value!r}", path=path)
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ProtocolError(f"{where} must be true or false, got {value!r}", path=path)
        return value
    if tp is str:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str):
            raise ProtocolError(f"{where} must be text, got {type(value).__name__}", path=path)
        return value
    raise ProtocolError(f"{where}: unsupported type {_type_name(tp)}", path=path)  # pragma: no cover


def _build(cls: Any, data: Mapping[str, Any], where: str, path: str) -> Any:
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    prefix = f"{where}." if where else ""
    unknown = [k for k in data if k not in fields]
    if unknown:
        raise ProtocolError(
            f"unknown key {prefix}{unknown[0]!s} (allowed here: {', '.join(fields)})", path=path
        )
    kwargs = {}
    for name, f in fields.items():
        if name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ProtocolError(f"missing required field {prefix}{name}", path=path)
            continue
        kwargs[name] = _convert(hints[name], data[name], f"{prefix}{name}", path)
    return cls(**kwargs)


def parse_protocol(data: Any, path: str | Path = "<protocol>") -> Protocol:
    """Validate a parsed YAML document and return the :class:`Protocol`."""
    path = str(path)
    if not isinstance(data, Mapping):
        raise ProtocolError("a protocol must be a YAML mapping of keys (id, title, question, ...)", path=path)
    proto: Protocol = _build(Protocol, data, "", path)
    if not proto.searches:
        raise ProtocolError("searches must list at least one query", path=path)
    labels = [s.label for s in proto.searches]
    dupes = {x for x in labels if labels.count(x) > 1}
    if dupes:
        raise ProtocolError(f"searches: label {sorted(dupes)[0]!r} is used twice", path=path)
    for i, s in enumerate(proto.searches):
        if s.database.lower() != "pubmed":
            raise ProtocolError(
                f"searches[{i}].database: only 'pubmed' can be searched directly, got {s.database!r}; "
                "import other databases' exports with `review import`",
                path=path,
            )
        if not s.query.strip():
            raise ProtocolError(f"searches[{i}].query is empty", path=path)
    for i, w in enumerate(proto.follow_up_windows):
        if w.to_day is not None and w.to_day < w.from_day:
            raise ProtocolError(f"follow_up_windows[{i}]: to_day is before from_day", path=path)
    if proto.analysis.method not in {"FE", "DL", "REML", "PM"}:
        raise ProtocolError(
            f"analysis.method must be FE, DL, REML or PM, got {proto.analysis.method!r}", path=path
        )
    return proto


def load_protocol(path: str | Path) -> Protocol:
    """Read and validate a protocol YAML file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ProtocolError("no such protocol file", path=p) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"cannot read the protocol: {exc}", path=p) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ProtocolError(f"not valid YAML: {problem}", path=p, line=line) from exc
    return parse_protocol(data, p)
