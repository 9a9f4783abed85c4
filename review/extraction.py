"""Structured data extraction (pure): the form model, validation, consensus and tidy arm pairs.

A *form* (``extraction_forms/NAME.yaml``) lists the sheets of an extraction workbook (studies,
arms, outcomes, risk of bias), their fields, types, dropdown choices and number bounds, and the
instruments with their scale range and direction. This module

- parses and checks a form (:func:`parse_form`, :func:`load_form`),
- validates the raw cells read from a workbook and names the sheet and cell of every problem
  (:func:`validate_sheets`),
- turns an extraction into store cells and back (:func:`to_cells`, :func:`from_cells`),
- merges two or more reviewers' cells into a consensus, listing disagreements cell by cell
  (:func:`consensus`), and
- pairs arms into comparisons, converts summary statistics to mean/SD (flagging the method),
  aligns scale directions and maps time points to the protocol's follow-up windows
  (:func:`arm_pairs`). Effect sizes are computed from these pairs by ``review.effects.escalc``
  in the project layer.

It knows nothing of the protocol object or the store: the project layer passes a
:class:`Context` built from the protocol.
"""

from __future__ import annotations

import datetime
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from review.conversions import Conversion, combine_groups, convert_summary, sd_from_p
from review.errors import InputError
from review.windows import FollowUpWindow, window_for

__all__ = [
    "FIELD_TYPES",
    "OPTIONAL_CELLS",
    "P_STATS",
    "ROB_JUDGEMENTS",
    "STAT_TYPES",
    "ArmPair",
    "Cell",
    "Context",
    "Disagreement",
    "DomainSpec",
    "Extraction",
    "FieldSpec",
    "Form",
    "Instrument",
    "Problem",
    "RawSheet",
    "SheetSpec",
    "Window",
    "arm_pairs",
    "check_extraction",
    "choices_for",
    "clean_text",
    "consensus",
    "from_cells",
    "load_form",
    "number_text",
    "parse_form",
    "parse_value",
    "study_label",
    "to_cells",
    "validate_sheets",
    "value_text",
]

FIELD_TYPES = ("text", "integer", "number", "choice")

#: Statistic types an outcome row can hold, and the cells each one needs besides ``n``.
STAT_TYPES: dict[str, tuple[str, ...]] = {
    "mean/SD": ("mean", "sd"),
    "mean/SE": ("mean", "se"),
    "mean/95% CI": ("ci_low", "ci_high"),
    "median/IQR": ("median", "q1", "q3"),
    "median/range": ("median", "min", "max"),
    "median/IQR/range": ("median", "q1", "q3", "min", "max"),
    "change mean/SD": ("mean", "sd"),
    "change mean/SE": ("mean", "se"),
    "change mean/95% CI": ("ci_low", "ci_high"),
    "events/N": ("events",),
    "percent/N": ("percent",),
    "mean/P (t test)": ("mean", "p_between"),
    "change mean/P (t test)": ("mean", "p_between"),
}

#: Statistic types whose SD comes from the exact P value of a t test between two arms
#: (Cochrane Handbook 6.5.2.3): both arms' rows give their mean and the same P value.
P_STATS = ("mean/P (t test)", "change mean/P (t test)")

#: Statistic types of a binary outcome (events in n participants).
BINARY_STATS = ("events/N", "percent/N")
#: Cells a form may leave out (their statistic types are then not offered).
OPTIONAL_CELLS = ("percent", "p_between")

#: Cochrane RoB 2 judgements, from best to worst (Sterne et al. 2019, BMJ 366:l4898).
ROB_JUDGEMENTS = ("low", "some concerns", "high")
ROB_DOMAINS = ("d1_randomisation", "d2_deviations", "d3_missing", "d4_measurement", "d5_selection")

#: Fields the software reads, per entity (a form must keep them).
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "study": ("record_id", "study", "n_randomised", "crps_criteria", "crps_duration_months", "illustrative"),
    "arm": ("study", "arm", "intervention_class", "n_randomised"),
    "outcome": (
        "study",
        "arm",
        "domain",
        "instrument",
        "timepoint_days",
        "stat_type",
        "n",
        *sorted({c for cells in STAT_TYPES.values() for c in cells} - set(OPTIONAL_CELLS)),
    ),
    "rob": ("study", "domain", "overall"),
}
DEFAULT_KEYS = {"study": ("record_id",), "arm": ("study", "arm"), "outcome": (), "rob": ("study", "domain")}

ROW = "__row__"  # the pseudo-field of a row-presence disagreement ("keep" / "drop")
VALUE_FIELDS = ("mean", "sd", "se", "ci_low", "ci_high", "median", "q1", "q3", "min", "max")


# --- form model ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    """One column of a form sheet."""

    name: str
    label: str
    type: str = "text"
    choices: tuple[str, ...] = ()
    source: str | None = None  # ``from:`` a named choice list (protocol or built-in)
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    prefilled: bool = False
    help: str = ""


@dataclass(frozen=True)
class SheetSpec:
    """One sheet of a form: an entity (study, arm, outcome, rob) and its fields."""

    name: str
    entity: str
    key: tuple[str, ...]
    fields: tuple[FieldSpec, ...]
    help: str = ""

    def field(self, name: str) -> FieldSpec:
        """The field called ``name``."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


@dataclass(frozen=True)
class Instrument:
    """A measurement instrument with its scale range and which direction is better."""

    name: str
    domain: str
    minimum: float | None = None
    maximum: float | None = None
    lower_is_better: bool | None = None


@dataclass(frozen=True)
class Form:
    """A whole extraction form (see ``extraction_forms/crps.yaml``)."""

    name: str
    title: str
    version: str
    sheets: tuple[SheetSpec, ...]
    instruments: tuple[Instrument, ...] = ()
    md_common_scale: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    def sheet(self, entity: str) -> SheetSpec:
        """The sheet holding ``entity``."""
        for s in self.sheets:
            if s.entity == entity:
                return s
        raise KeyError(entity)

    def instrument(self, name: str) -> Instrument | None:
        """The form's instrument called ``name`` (None if the form does not list it)."""
        for i in self.instruments:
            if i.name == name:
                return i
        return None


@dataclass(frozen=True)
class DomainSpec:
    """An outcome domain of the protocol: its instruments (in order of preference) and measure."""

    instruments: tuple[str, ...]
    lower_is_better: bool
    measure: str


#: A follow-up window of the protocol (the same class as :class:`review.protocol.FollowUpWindow`).
Window = FollowUpWindow


@dataclass(frozen=True)
class Context:
    """What validation and the tidy table need from the protocol (passed by the project layer)."""

    intervention_classes: tuple[str, ...]
    domains: Mapping[str, DomainSpec]
    windows: tuple[Window, ...] = ()
    comparisons: tuple[tuple[str, str, tuple[str, ...]], ...] = ()  # (label, intervention, controls)

    def window_for(self, day: float) -> Window | None:
        """The first window holding ``day``."""
        return window_for(self.windows, day)


def _num(value: Any, where: str, path: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{where} must be a number, got {value!r}", path=path)
    return float(value)


def parse_form(data: Any, path: str | Path = "<form>") -> Form:
    """Check a parsed form YAML and build the :class:`Form` (errors name the key)."""
    p = str(path)
    if not isinstance(data, Mapping):
        raise InputError("a form must be a YAML mapping (name, title, sheets, ...)", path=p)
    unknown = set(data) - {"name", "title", "version", "instruments", "sheets", "md_common_scale"}
    if unknown:
        raise InputError(f"unknown form key {sorted(unknown)[0]!r}", path=p)
    for top in ("name", "sheets"):
        if top not in data:
            raise InputError(f"the form has no {top!r}", path=p)
    instruments = []
    for i, item in enumerate(data.get("instruments") or []):
        where = f"instruments[{i}]"
        if not isinstance(item, Mapping) or "name" not in item or "domain" not in item:
            raise InputError(f"{where} needs a name and a domain", path=p)
        lo, hi = _num(item.get("min"), f"{where}.min", p), _num(item.get("max"), f"{where}.max", p)
        if lo is not None and hi is not None and lo >= hi:
            raise InputError(f"{where}: min must be below max", path=p)
        lib = item.get("lower_is_better")
        if lib is not None and not isinstance(lib, bool):
            raise InputError(f"{where}.lower_is_better must be true or false", path=p)
        instruments.append(Instrument(str(item["name"]), str(item["domain"]), lo, hi, lib))
    sheets = []
    entities: set[str] = set()
    for s_i, sheet in enumerate(data["sheets"] or []):
        where = f"sheets[{s_i}]"
        if not isinstance(sheet, Mapping) or not {"name", "entity", "fields"} <= set(sheet):
            raise InputError(f"{where} needs name, entity and fields", path=p)
        entity = str(sheet["entity"])
        if entity not in REQUIRED_FIELDS:
            raise InputError(
                f"{where}.entity must be one of {', '.join(REQUIRED_FIELDS)}, got {entity!r}", path=p
            )
        if entity in entities:
            raise InputError(f"{where}: entity {entity!r} has two sheets", path=p)
        entities.add(entity)
        fields = []
        for f_i, f in enumerate(sheet["fields"] or []):
            fw = f"{where}.fields[{f_i}]"
            if not isinstance(f, Mapping) or "name" not in f:
                raise InputError(f"{fw} needs a name", path=p)
            ftype = str(f.get("type", "text"))
            if ftype not in FIELD_TYPES:
                raise InputError(f"{fw}.type must be one of {', '.join(FIELD_TYPES)}, got {ftype!r}", path=p)
            choices = tuple(str(c) for c in f.get("choices") or ())
            source = f.get("from")
            if ftype == "choice" and not choices and not source:
                raise InputError(f"{fw}: a choice field needs choices or from", path=p)
            fields.append(
                FieldSpec(
                    name=str(f["name"]),
                    label=str(f.get("label", f["name"])),
                    type=ftype,
                    choices=choices,
                    source=str(source) if source else None,
                    required=bool(f.get("required", False)),
                    minimum=_num(f.get("min"), f"{fw}.min", p),
                    maximum=_num(f.get("max"), f"{fw}.max", p),
                    prefilled=bool(f.get("prefilled", False)),
                    help=str(f.get("help", "")),
                )
            )
        names = [f.name for f in fields]
        missing = [n for n in REQUIRED_FIELDS[entity] if n not in names]
        if missing:
            raise InputError(f"{where} ({sheet['name']}) must keep the field(s) {', '.join(missing)}", path=p)
        key: tuple[str, ...] = tuple(str(k) for k in (sheet.get("key") or DEFAULT_KEYS[entity] or names[:1]))
        if entity == "outcome" and not sheet.get("key"):
            key = ("study", "arm", "domain", "instrument", "timepoint_days")
        bad = [k for k in key if k not in names]
        if bad:
            raise InputError(f"{where}.key names unknown field {bad[0]!r}", path=p)
        sheets.append(SheetSpec(str(sheet["name"]), entity, key, tuple(fields), str(sheet.get("help", ""))))
    missing_entities = [e for e in REQUIRED_FIELDS if e not in entities]
    if missing_entities:
        raise InputError(f"the form has no sheet for {', '.join(missing_entities)}", path=p)
    scales = {}
    for dom, rng in (data.get("md_common_scale") or {}).items():
        if not isinstance(rng, list | tuple) or len(rng) != 2:
            raise InputError(f"md_common_scale.{dom} must be [min, max]", path=p)
        lo, hi = (_num(v, f"md_common_scale.{dom}", p) for v in rng)
        if lo is None or hi is None or lo >= hi:
            raise InputError(f"md_common_scale.{dom} must be [min, max] with min < max", path=p)
        scales[str(dom)] = (lo, hi)
    return Form(
        name=str(data["name"]),
        title=str(data.get("title", data["name"])),
        version=str(data.get("version", "1")),
        sheets=tuple(sheets),
        instruments=tuple(instruments),
        md_common_scale=scales,
    )


def load_form(path: str | Path) -> Form:
    """Read and check a form YAML file."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError("no such extraction form", path=p) from exc
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read the extraction form: {exc}", path=p) from exc
    return parse_form(data, p)


def choices_for(form: Form, spec: FieldSpec, ctx: Context) -> tuple[str, ...]:
    """The dropdown values of a choice field (its own list or a named list from the protocol)."""
    if spec.choices:
        return spec.choices
    src = spec.source
    if src == "intervention_classes":
        return ctx.intervention_classes
    if src == "outcome_domains":
        return tuple(ctx.domains)
    if src == "rob_domains":
        return ("all", *ctx.domains)
    if src == "rob_judgements":
        return ROB_JUDGEMENTS
    if src == "stat_types":
        have = {f.name for f in form.sheet("outcome").fields}
        return tuple(k for k, cells in STAT_TYPES.items() if set(cells) <= have)
    if src == "instruments":
        names: list[str] = []
        for dom in ctx.domains.values():
            names += [n for n in dom.instruments if n not in names]
        names += [i.name for i in form.instruments if i.name not in names]
        return tuple(names)
    raise InputError(f"form field {spec.name!r}: unknown choice list {src!r}")


# --- validation --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One bad cell: sheet, row, column letter (or field) and what is wrong."""

    sheet: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"sheet {self.sheet!r}"
        if self.column and self.row is not None:
            where += f" cell {self.column}{self.row}"
        elif self.row is not None:
            where += f" row {self.row}"
        return f"{where}: {self.message}"


@dataclass
class RawSheet:
    """The cells of one sheet as read from a workbook: field -> column letter, and rows."""

    name: str
    columns: dict[str, str]
    rows: list[tuple[int, dict[str, Any]]]


@dataclass
class Extraction:
    """Typed extraction values per entity: entity -> row key -> {field: value}.

    ``rows_at`` keeps the sheet row each entry came from (for messages).
    """

    rows: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = field(default_factory=dict)
    rows_at: dict[tuple[str, tuple[Any, ...]], int] = field(default_factory=dict)

    def entity(self, name: str) -> dict[tuple[Any, ...], dict[str, Any]]:
        """Rows of one entity (empty dict if none)."""
        return self.rows.setdefault(name, {})


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


#: Characters that look like a space or a minus sign in text pasted from a PDF or a web page.
_ODD_SPACES = re.compile(r"[\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff]")
_ODD_MINUS = re.compile(r"[\u2212\u2012\u2013\u2014\ufe63\uff0d]")


def clean_text(value: Any) -> str:
    """A cell as text with pasted no-break or thin spaces made plain spaces, runs of spaces
    collapsed and the ends trimmed (so 'Adami\u00a01997 ' matches 'Adami 1997')."""
    return re.sub(r"[ \t]{2,}", " ", _ODD_SPACES.sub(" ", str(value))).strip()


def number_text(text: str) -> str:
    """Number text as typed or pasted: odd spaces removed and a typographic minus (U+2212, or a
    dash in front of the digits, as PDFs print it) made '-'."""
    text = _ODD_SPACES.sub("", text).strip()
    return _ODD_MINUS.sub("-", text) if _ODD_MINUS.match(text) else text


def _number_hint(text: str) -> str:
    """What to do with a cell that is not one number (a hint for the usual pasted forms)."""
    if re.search(r"\d\s*(\(|±|\+/-|\+-)", text):
        return (
            ": type one number per cell (e.g. '12.5 (3.1)' is a mean in mean and its SD or SE in "
            "sd or se, as the paper says)"
        )
    if re.match(r"\s*[<>≤≥]", text):
        return ": a bound such as '<0.001' is not a value; leave the cell empty and put the text in notes"
    if text.rstrip().endswith("%"):
        return (
            ": type the number without '%' (percentages go in the percent column, with stat_type percent/N)"
        )
    return ""


def parse_value(spec: FieldSpec, value: Any, allowed: Sequence[str]) -> Any:
    """Convert a raw cell to the field's type; raise ValueError with a readable message."""
    if spec.type == "text":
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return clean_text(value)
    if spec.type == "choice":
        text = clean_text(value)
        if isinstance(value, float) and value.is_integer():
            text = str(int(value))
        for c in allowed:
            if text.casefold() == c.casefold():
                return c
        shown = ", ".join(allowed[:12]) + (", ..." if len(allowed) > 12 else "")
        raise ValueError(f"{spec.name}: {text!r} is not one of the dropdown values ({shown})")
    if isinstance(value, bool):
        raise ValueError(f"{spec.name} must be a number, got {value!r}")
    if isinstance(value, datetime.date | datetime.time):
        shown = value.isoformat(sep=" ") if isinstance(value, datetime.datetime) else value.isoformat()
        raise ValueError(
            f"{spec.name} must be a number, but Excel turned what was typed into a date or time "
            f"({shown}); format the cell as Number (or Text) and type the number again"
        )
    if isinstance(value, str):
        text = number_text(value)
        if spec.name == "percent" and text.endswith("%"):
            text = text[:-1].rstrip()
        if text.count(",") == 1 and "." not in text:
            if re.fullmatch(r"-?[1-9]\d{0,2},\d{3}", text):  # "0,002" is no thousands
                raise ValueError(
                    f"{spec.name}: {value!r} could be a decimal comma or a thousands separator; "
                    "type the number with a decimal point and no separator"
                )
            text = text.replace(",", ".")  # a decimal comma, as typed in many European locales
        try:
            num = float(text)
        except ValueError:
            raise ValueError(f"{spec.name} must be a number, got {value!r}{_number_hint(text)}") from None
    elif isinstance(value, int | float):
        num = float(value)
    else:
        raise ValueError(f"{spec.name} must be a number, got {value!r}")
    if not math.isfinite(num):
        raise ValueError(f"{spec.name} must be a finite number, got {value!r}")
    if spec.minimum is not None and num < spec.minimum:
        raise ValueError(f"{spec.name} must be >= {spec.minimum:g}, got {num:g}")
    if spec.maximum is not None and num > spec.maximum:
        raise ValueError(f"{spec.name} must be <= {spec.maximum:g}, got {num:g}")
    if spec.type == "integer":
        if not num.is_integer():
            raise ValueError(f"{spec.name} must be a whole number, got {num:g}")
        return int(num)
    return num


def _row_key(sheet: SheetSpec, values: Mapping[str, Any]) -> tuple[Any, ...]:
    if sheet.entity == "study":
        rid = values.get("record_id")
        return (rid,) if rid is not None else (f"study:{values.get('study')}",)
    return tuple(values.get(k) for k in sheet.key)


def validate_sheets(
    form: Form, ctx: Context, sheets: Mapping[str, RawSheet]
) -> tuple[Extraction, list[Problem]]:
    """Type-check and cross-check the cells of an extraction workbook.

    Returns the typed :class:`Extraction` and every problem found, each naming sheet and cell:
    values that are not in their dropdown, not numbers or out of bounds; SD or SE <= 0; n larger
    than randomised; a missing time point; a value outside the instrument's scale; an unknown
    instrument; statistics missing for the statistic type; arms or studies that do not exist;
    a RoB 2 overall judgement better than its worst domain.
    """
    ext = Extraction()
    problems: list[Problem] = []
    for sheet in form.sheets:
        raw = sheets.get(sheet.name)
        if raw is None:
            problems.append(
                Problem(
                    sheet.name, None, None, "sheet is missing: use the workbook from `review extract export`"
                )
            )
            continue
        allowed = {f.name: choices_for(form, f, ctx) for f in sheet.fields if f.type == "choice"}
        rows = ext.entity(sheet.entity)
        for rownum, cells in raw.rows:
            if all(_blank(cells.get(f.name)) for f in sheet.fields if not f.prefilled):
                continue  # an untouched row (pre-filled cells only, or empty)
            typed: dict[str, Any] = {}
            for spec in sheet.fields:
                value = cells.get(spec.name)
                col = raw.columns.get(spec.name)
                if _blank(value):
                    if spec.required:
                        problems.append(
                            Problem(sheet.name, rownum, col, f"{spec.name} ({spec.label}) is missing")
                        )
                    continue
                try:
                    typed[spec.name] = parse_value(spec, value, allowed.get(spec.name, ()))
                except ValueError as exc:
                    message = str(exc)
                    if spec.name == "instrument":
                        message = (
                            f"unknown instrument {str(value).strip()!r}: not among the protocol outcomes' "
                            "instruments or the form's (add it to the form's instruments, or pick one from the list)"
                        )
                    problems.append(Problem(sheet.name, rownum, col, message))
            key = _row_key(sheet, typed)
            if any(k is None for k in key):
                continue  # already reported as a missing required cell
            if key in rows:
                problems.append(
                    Problem(
                        sheet.name,
                        rownum,
                        None,
                        f"duplicate row: {_show_key(key)} is already on row {ext.rows_at[(sheet.entity, key)]}",
                    )
                )
                continue
            rows[key] = typed
            ext.rows_at[(sheet.entity, key)] = rownum
    if problems:
        return ext, problems
    problems += _cross_check(form, ctx, ext, sheets)
    return ext, problems


def check_extraction(form: Form, ctx: Context, ext: Extraction) -> list[Problem]:
    """The cross-checks of :func:`validate_sheets` (scales, n, CIs, arms and studies present...)
    on an extraction that did not come from one workbook, e.g. the extractors' consensus with a
    resolver's values. Problems carry the row numbers in ``ext.rows_at`` and no column letter.
    A consensus that still lacks a required cell (a disagreement left open) is not checked:
    that row is left out of the effect table until it is resolved anyway."""
    sheets = {s.name: RawSheet(s.name, {}, []) for s in form.sheets}
    try:
        return _cross_check(form, ctx, ext, sheets)
    except (KeyError, TypeError):
        return []


def _show_key(key: tuple[Any, ...]) -> str:
    return " / ".join("" if k is None else (f"{k:g}" if isinstance(k, float) else str(k)) for k in key)


def study_label(author: str | None, year: int | None, taken: Iterable[str] = ()) -> str:
    """A short study label ``Surname Year`` (``a``/``b`` suffixes when it is taken)."""
    name = (author or "Unknown").split(",")[0].strip().split(" ")[0] or "Unknown"
    base = f"{name} {year}" if year else name
    used = set(taken)
    if base not in used:
        return base
    for suffix in "abcdefghijklmnopqrstuvwxyz":
        if f"{base}{suffix}" not in used:
            return f"{base}{suffix}"
    return f"{base}-{len(used)}"


def _instrument_info(form: Form, row: Mapping[str, Any]) -> tuple[float | None, float | None, bool | None]:
    """Scale range and direction of an outcome row (its own cells first, then the form's)."""
    inst = form.instrument(str(row.get("instrument")))
    lo = row.get("scale_min", inst.minimum if inst else None)
    hi = row.get("scale_max", inst.maximum if inst else None)
    direction = row.get("direction")
    if direction is not None:
        lower = direction == "lower is better"
    else:
        lower = inst.lower_is_better if inst else None
    return lo, hi, lower


def _cross_check(form: Form, ctx: Context, ext: Extraction, sheets: Mapping[str, RawSheet]) -> list[Problem]:
    problems: list[Problem] = []
    s_sheet, a_sheet, o_sheet, r_sheet = (form.sheet(e) for e in ("study", "arm", "outcome", "rob"))

    def cell(sheet: SheetSpec, key: tuple[Any, ...], name: str, message: str) -> None:
        problems.append(
            Problem(
                sheet.name,
                ext.rows_at.get((sheet.entity, key)),
                sheets[sheet.name].columns.get(name),
                message,
            )
        )

    studies: dict[str, dict[str, Any]] = {}
    for key, row in ext.entity("study").items():
        label = row["study"]
        merged = studies.setdefault(label, {})
        for name, value in row.items():
            if name in ("record_id", "citation", "study", "notes", "source"):
                continue
            if name in merged and merged[name] != value:
                cell(
                    s_sheet,
                    key,
                    name,
                    f"study {label!r}: {name} is {value!r} here but {merged[name]!r} on another report of it",
                )
            merged.setdefault(name, value)
    arm_n: dict[str, int] = {}
    for key, row in ext.entity("arm").items():
        study = row["study"]
        if study not in studies:
            cell(a_sheet, key, "study", f"study {study!r} is not on the {s_sheet.name} sheet")
            continue
        n_arm = row.get("n_randomised")
        n_all = studies[study].get("n_randomised")
        if n_arm is not None:
            arm_n[study] = arm_n.get(study, 0) + n_arm
            if n_all is not None and n_arm > n_all:
                cell(
                    a_sheet,
                    key,
                    "n_randomised",
                    f"n randomised to the arm ({n_arm}) is larger than the study's ({n_all})",
                )
    for study, total in arm_n.items():
        n_all = studies[study].get("n_randomised")
        if n_all is not None and total > n_all:
            first = next(k for k, r in ext.entity("arm").items() if r["study"] == study)
            cell(
                a_sheet,
                first,
                "n_randomised",
                f"study {study!r}: the arms add up to {total}, more than the {n_all} randomised",
            )
    arms = ext.entity("arm")
    for key, row in ext.entity("outcome").items():
        before = len(problems)
        study, arm = row["study"], row["arm"]
        if study not in studies:
            cell(o_sheet, key, "study", f"study {study!r} is not on the {s_sheet.name} sheet")
            continue
        if (study, arm) not in arms:
            cell(o_sheet, key, "arm", f"arm {arm!r} of {study!r} is not on the {a_sheet.name} sheet")
            continue
        domain, instrument = row["domain"], row["instrument"]
        dom = ctx.domains.get(domain)
        inst = form.instrument(instrument)
        if dom is not None and instrument not in dom.instruments and (inst is None or inst.domain != domain):
            known = [
                *dom.instruments,
                *(i.name for i in form.instruments if i.domain == domain and i.name not in dom.instruments),
            ]
            cell(
                o_sheet,
                key,
                "instrument",
                f"unknown instrument {instrument!r} for {domain} (known: {', '.join(known)})",
            )
        lo, hi, _lower = _instrument_info(form, row)
        if lo is not None and hi is not None and lo >= hi:
            cell(o_sheet, key, "scale_max", f"scale maximum ({hi:g}) must be above the minimum ({lo:g})")
            lo = hi = None
        stat = row["stat_type"]
        if dom is not None and (stat in BINARY_STATS) != (dom.measure in ("RR", "OR", "RD")):
            kinds = (
                "events/N or percent/N"
                if dom.measure in ("RR", "OR", "RD")
                else "a statistic of a continuous outcome (mean/SD, mean/SE, median/IQR...)"
            )
            cell(
                o_sheet,
                key,
                "stat_type",
                f"the protocol pools {domain} as {dom.measure}, so its rows need {kinds}, not {stat}",
            )
            continue
        for need in STAT_TYPES[stat]:
            if need not in row:
                cell(o_sheet, key, need, f"{stat} needs {need}")
        n = row.get("n")
        if stat in BINARY_STATS and n is None:
            cell(o_sheet, key, "n", f"{stat} needs n")
        if stat == "percent/N" and "percent" in row and not 0 <= row["percent"] <= 100:
            cell(o_sheet, key, "percent", f"percent must be between 0 and 100, got {row['percent']:g}")
        n_arm = arms[(study, arm)].get("n_randomised")
        n_all = studies[study].get("n_randomised")
        if n is not None:
            if n_arm is not None and n > n_arm:
                cell(
                    o_sheet,
                    key,
                    "n",
                    f"n analysed ({n}) is larger than the {n_arm} randomised to arm {arm!r}",
                )
            elif n_all is not None and n > n_all:
                cell(
                    o_sheet, key, "n", f"n analysed ({n}) is larger than the {n_all} randomised in {study!r}"
                )
        events = row.get("events")
        if events is not None and n is not None and events > n:
            cell(o_sheet, key, "events", f"events ({events}) are more than n ({n})")
        if "ci_low" in row and "ci_high" in row and row["ci_low"] > row["ci_high"]:
            cell(
                o_sheet,
                key,
                "ci_low",
                f"ci_low ({row['ci_low']:g}) is larger than ci_high ({row['ci_high']:g}): "
                "the lower limit goes in ci_low (swap them)",
            )
        elif (
            "mean" in row
            and "ci_low" in row
            and "ci_high" in row
            and not row["ci_low"] <= row["mean"] <= row["ci_high"]
        ):
            cell(
                o_sheet,
                key,
                "mean",
                f"mean {row['mean']:g} is outside its 95% CI ({row['ci_low']:g} to {row['ci_high']:g})",
            )
        for name in ("sd", "se"):
            if name in row and row[name] <= 0:
                cell(o_sheet, key, name, f"{name.upper()} must be > 0, got {row[name]:g}")
        change = stat.startswith("change")
        size = n if n is not None else n_arm
        if (
            lo is not None
            and hi is not None
            and "sd" in row
            and row["sd"] > 0
            and size is not None
            and size >= 2
        ):
            # the largest SD data on [lo, hi] can have: half of each group at either end
            span = (hi - lo) * (2 if change else 1)
            most = span / 2 * math.sqrt(size / (size - 1))
            if row["sd"] > most * (1 + 1e-9):
                cell(
                    o_sheet,
                    key,
                    "sd",
                    f"SD {row['sd']:g} is larger than any {size} values on the {lo:g}-{hi:g} scale can have "
                    f"({most:.3g}): is it on another scale, or a variance?",
                )
        if lo is not None and hi is not None:
            for name in VALUE_FIELDS:
                if name in ("sd", "se") or name not in row:
                    continue
                v = row[name]
                if change:
                    if abs(v) > hi - lo:
                        cell(
                            o_sheet,
                            key,
                            name,
                            f"a change of {v:g} is larger than the {lo:g}-{hi:g} scale allows",
                        )
                elif stat.startswith("mean/95% CI") and name in ("ci_low", "ci_high"):
                    continue  # a CI of a mean may reach past the scale in small samples
                elif not lo <= v <= hi:
                    cell(
                        o_sheet,
                        key,
                        name,
                        f"{name} {v:g} is outside the {instrument} scale ({lo:g} to {hi:g})",
                    )
        if "p_between" in row and not 0 < row["p_between"] < 1:
            cell(o_sheet, key, "p_between", f"the P value must be between 0 and 1, got {row['p_between']:g}")
        if stat not in BINARY_STATS and stat not in P_STATS and len(problems) == before:
            try:
                _convert_row(row, n if n is not None else n_arm)
            except InputError as exc:
                cell(o_sheet, key, STAT_TYPES[stat][0], str(exc))
    problems += _check_p_rows(o_sheet, ext, sheets)
    for key, row in ext.entity("rob").items():
        if row["study"] not in studies:
            cell(r_sheet, key, "study", f"study {row['study']!r} is not on the {s_sheet.name} sheet")
            continue
        judged = [row[d] for d in ROB_DOMAINS if d in row]
        overall = row.get("overall")
        if judged and overall is not None:
            worst = max(judged, key=ROB_JUDGEMENTS.index)
            if ROB_JUDGEMENTS.index(overall) < ROB_JUDGEMENTS.index(worst):
                cell(
                    r_sheet,
                    key,
                    "overall",
                    f"overall {overall!r} is better than the worst domain ({worst!r}); RoB 2 overall is at least the worst domain",
                )
    return problems


# --- store cells ---------------------------------------------------------------------------------

#: A store cell: (entity, row key as JSON, field) -> value as text.
Cell = tuple[str, str, str]


def value_text(value: Any) -> str:
    """A typed value as the store's text (whole floats without '.0')."""
    if isinstance(value, float):
        return repr(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def to_cells(ext: Extraction) -> dict[Cell, str]:
    """Every non-empty value as a store cell ``(entity, key JSON, field) -> text``."""
    out: dict[Cell, str] = {}
    for entity, rows in ext.rows.items():
        for key, row in rows.items():
            k = json.dumps([value_text(x) for x in key], ensure_ascii=False)
            for name, value in row.items():
                out[(entity, k, name)] = value_text(value)
    return out


def from_cells(form: Form, cells: Mapping[Cell, str | None]) -> Extraction:
    """Typed :class:`Extraction` from store cells (values are typed by the form's fields)."""
    ext = Extraction()
    for (entity, k, name), text in cells.items():
        if text is None or name == ROW:
            continue
        try:
            spec = form.sheet(entity).field(name)
        except KeyError:
            continue  # a field the form no longer has
        value: Any = text
        if spec.type == "integer":
            value = int(float(text))
        elif spec.type == "number":
            value = float(text)
        key = tuple(json.loads(k))
        ext.entity(entity).setdefault(key, {})[name] = value
    # re-type the key parts from the row values
    for entity, rows in list(ext.rows.items()):
        sheet = form.sheet(entity)
        fixed: dict[tuple[Any, ...], dict[str, Any]] = {}
        for row in rows.values():
            fixed[_row_key(sheet, row)] = row
        ext.rows[entity] = fixed
    return ext


@dataclass(frozen=True)
class Disagreement:
    """One cell on which reviewers differ (``field == "__row__"``: one has the row, one not)."""

    entity: str
    key: str
    field: str
    values: Mapping[str, str | None]  # reviewer -> value (None = empty / row missing)


def consensus(
    per_reviewer: Mapping[str, Mapping[Cell, str]],
    resolutions: Mapping[Cell, str | None] | None = None,
) -> tuple[dict[Cell, str], list[Disagreement]]:
    """Merge reviewers' current cells: agreed or resolved values, and the open disagreements.

    A row that some reviewers have and others not is a row disagreement (resolved ``keep`` or
    ``drop``); within a row, a cell whose values differ is a disagreement until a resolver's
    value settles it. A resolution always wins (the latest per cell). With one reviewer there is
    nothing to disagree about.
    """
    resolutions = resolutions or {}
    reviewers = sorted(per_reviewer)
    rows: dict[tuple[str, str], dict[str, set[str]]] = {}
    for r in reviewers:
        for entity, key, name in per_reviewer[r]:
            rows.setdefault((entity, key), {}).setdefault(name, set()).add(r)
    merged: dict[Cell, str] = {}
    open_: list[Disagreement] = []
    for (entity, key), fields in sorted(rows.items()):
        have = sorted({r for rs in fields.values() for r in rs})
        if len(have) < len(reviewers):
            decision = resolutions.get((entity, key, ROW))
            if decision is None:
                open_.append(
                    Disagreement(entity, key, ROW, {r: ("present" if r in have else None) for r in reviewers})
                )
                continue
            if decision == "drop":
                continue
        for name in sorted(fields):
            cell = (entity, key, name)
            if cell in resolutions:
                if resolutions[cell] is not None:
                    merged[cell] = str(resolutions[cell])
                continue
            values = {r: per_reviewer[r].get(cell) for r in have}
            distinct = set(values.values())
            if len(distinct) == 1:
                only = distinct.pop()
                if only is not None:
                    merged[cell] = only
            else:
                open_.append(Disagreement(entity, key, name, values))
    return merged, open_


# --- tidy arm pairs ------------------------------------------------------------------------------


@dataclass
class ArmPair:
    """Arm-level summaries of one study x comparison x outcome x window, ready for ``escalc``."""

    study: str
    record_ids: str
    comparison: str
    intervention_class: str
    control_class: str
    outcome_domain: str
    instrument: str
    window: str
    timepoint_days: float
    measure: str
    data: dict[str, float]  # m1i, sd1i, n1i, m2i, sd2i, n2i  or  ai, n1i, ci, n2i
    converted: bool
    conversion_method: str
    illustrative: bool
    source: str
    crps_duration_months: float | None
    crps_criteria: str | None
    direction: str
    outcome_type: str
    rob_overall: str | None
    md_scale: str | None = None  # MD rows: the scale the difference is on ("0-10"), for axis labels


_KIND = {
    "mean/SE": "se",
    "mean/95% CI": "ci",
    "median/IQR": "median-iqr",
    "median/range": "median-range",
    "median/IQR/range": "median-iqr-range",
    "change mean/SE": "se",
    "change mean/95% CI": "ci",
}


def _check_p_rows(o_sheet: SheetSpec, ext: Extraction, sheets: Mapping[str, RawSheet]) -> list[Problem]:
    """A P value between arms belongs to one comparison of two arms: the rows of one study,
    outcome, instrument and time point that use it must be exactly two, with the same P."""
    groups: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
    for key, row in ext.entity("outcome").items():
        if row.get("stat_type") in P_STATS:
            g = (row["study"], row["domain"], row["instrument"], row["timepoint_days"], row["stat_type"])
            groups.setdefault(g, []).append(key)
    out: list[Problem] = []
    column = sheets[o_sheet.name].columns.get("p_between")
    for (study, domain, _instrument, day, stat), keys in groups.items():
        rows = [ext.entity("outcome")[k] for k in keys]
        where = ext.rows_at.get(("outcome", keys[0]))
        if len(keys) != 2:
            out.append(
                Problem(
                    o_sheet.name,
                    where,
                    column,
                    f"{stat} compares two arms, but {study} has {len(keys)} {domain} row(s) with it at day "
                    f"{day:g}: enter the P value on the two arms it compares (and use another statistic "
                    "for other arms)",
                )
            )
        elif rows[0].get("p_between") != rows[1].get("p_between"):
            out.append(
                Problem(
                    o_sheet.name,
                    ext.rows_at.get(("outcome", keys[1])),
                    column,
                    f"the two arms' P values differ ({rows[0].get('p_between')} and {rows[1].get('p_between')}): "
                    "it is one P value for the difference between them",
                )
            )
        elif all(r.get("mean") is not None and r.get("p_between") is not None for r in rows):
            arm_rows = ext.entity("arm")
            ns = [r.get("n") or arm_rows.get((r["study"], r["arm"]), {}).get("n_randomised") for r in rows]
            n1, n2 = ns
            try:
                if n1 is None or n2 is None:
                    raise InputError(f"{stat} needs n (or the arm's n randomised) in both arms")
                sd_from_p(int(n1), rows[0]["mean"], int(n2), rows[1]["mean"], rows[0]["p_between"])
            except InputError as exc:
                out.append(Problem(o_sheet.name, ext.rows_at.get(("outcome", keys[1])), column, str(exc)))
    return out


def _from_p(
    rows: dict[str, dict[str, Any]], s1: list[str], s2: list[str], arms: Mapping[str, Mapping[str, Any]]
) -> None:
    """Give the two arms of a P-value comparison their common SD (Cochrane Handbook 6.5.2.3),
    in place: each row becomes mean/SD (or change mean/SD) with the method noted."""
    p_arms = [a for a in s1 + s2 if rows[a]["stat_type"] in P_STATS]
    if not p_arms:
        return
    if len(s1) != 1 or len(s2) != 1 or len(p_arms) != 2:
        first = rows[p_arms[0]]
        raise InputError(
            f"{first['study']}: the P value of {first['domain']} at day {first['timepoint_days']:g} "
            "compares two arms, but this comparison has other arms or another statistic on one side; "
            "enter those arms' SD (or SE, CI) instead"
        )
    (a1,), (a2,) = s1, s2
    r1, r2 = rows[a1], rows[a2]
    n1 = r1.get("n") or arms[a1].get("n_randomised")
    n2 = r2.get("n") or arms[a2].get("n_randomised")
    if n1 is None or n2 is None:
        raise InputError(f"{r1['study']}: {r1['stat_type']} needs n in both arms")
    sd, method = sd_from_p(int(n1), float(r1["mean"]), int(n2), float(r2["mean"]), float(r1["p_between"]))
    plain = "change mean/SD" if r1["stat_type"].startswith("change") else "mean/SD"
    for a in (a1, a2):
        rows[a] = {**rows[a], "stat_type": plain, "sd": sd, "_method": method}


def _convert_row(row: Mapping[str, Any], n: int | None) -> Conversion:
    """Mean and SD of one arm's outcome row (converted with its method when not mean/SD)."""
    stat = row["stat_type"]
    if n is None:
        raise InputError(f"{stat} needs n (or the arm's n randomised)")
    if stat in ("mean/SD", "change mean/SD"):
        return Conversion(float(row["mean"]), float(row["sd"]), "")
    kind = _KIND[stat]
    if kind == "se":
        values = {"mean": row["mean"], "se": row["se"]}
    elif kind == "ci":
        values = {"low": row["ci_low"], "high": row["ci_high"]}
    elif kind == "median-iqr":
        values = {"median": row["median"], "q1": row["q1"], "q3": row["q3"]}
    elif kind == "median-range":
        values = {"median": row["median"], "minimum": row["min"], "maximum": row["max"]}
    else:
        values = {
            k: row[f]
            for k, f in (
                ("median", "median"),
                ("q1", "q1"),
                ("q3", "q3"),
                ("minimum", "min"),
                ("maximum", "max"),
            )
        }
    conv = convert_summary(kind, n, **values)
    if kind == "ci" and row.get("mean") is not None:
        conv = Conversion(float(row["mean"]), conv.sd, conv.method)  # keep the reported mean
    return conv


@dataclass
class _Arm:
    mean: float = 0.0
    sd: float = 0.0
    n: int = 0
    events: int = 0
    methods: list[str] = field(default_factory=list)
    illustrative: bool = False
    sources: list[str] = field(default_factory=list)


def _arm_summary(
    form: Form, ctx: Context, row: Mapping[str, Any], arm_row: Mapping[str, Any], measure: str
) -> _Arm:
    """One arm's aligned summary: converted, rescaled and with its direction aligned."""
    out = _Arm(illustrative=row.get("illustrative") == "yes")
    if row.get("source"):
        out.sources.append(str(row["source"]))
    n: int | None = row.get("n")
    if n is None:
        n = arm_row.get("n_randomised")
        if n is not None:
            out.methods.append("n taken as randomised")
    if n is None:
        raise InputError(
            f"{row['study']} arm {row['arm']}: {row['domain']} at day {row['timepoint_days']:g} has no n"
        )
    if row["stat_type"] == "events/N":
        out.events, out.n = int(row["events"]), int(n)
        return out
    if row["stat_type"] == "percent/N":
        out.events, out.n = math.floor(float(row["percent"]) / 100 * n + 0.5), int(n)
        out.methods.append(f"events = {row['percent']:g}% of {n} = {out.events} (rounded)")
        return out
    conv = _convert_row(row, n)
    if conv.method:
        out.methods.append(conv.method)
    if row.get("_method"):
        out.methods.append(str(row["_method"]))
    mean, sd = conv.mean, conv.sd
    change = row["stat_type"].startswith("change")
    lo, hi, lower = _instrument_info(form, row)
    dom = ctx.domains[row["domain"]]
    if lower is not None and lower != dom.lower_is_better:
        if change or lo is None or hi is None:
            mean = -mean
            out.methods.append("sign reversed to align the scale direction")
        else:
            mean = lo + hi - mean
            out.methods.append(f"scale reversed ({lo:g}+{hi:g}-x) to align its direction")
    target = form.md_common_scale.get(row["domain"])
    if measure == "MD" and target is not None and lo is not None and hi is not None and (lo, hi) != target:
        factor = (target[1] - target[0]) / (hi - lo)
        mean = mean * factor if change else target[0] + (mean - lo) * factor
        sd *= factor
        out.methods.append(f"rescaled {lo:g}-{hi:g} to {target[0]:g}-{target[1]:g}")
    out.mean, out.sd, out.n = mean, sd, int(n)
    return out


def _combine(arms: list[_Arm], binary: bool) -> _Arm:
    """Several arms on one side of a comparison as one group (Cochrane Handbook table 6.5.a)."""
    first = arms[0]
    out = _Arm(
        first.mean,
        first.sd,
        first.n,
        first.events,
        list(first.methods),
        first.illustrative,
        list(first.sources),
    )
    for other in arms[1:]:
        if binary:
            out.events += other.events
            out.n += other.n
        else:
            out.n, out.mean, out.sd = combine_groups(out.n, out.mean, out.sd, other.n, other.mean, other.sd)
        out.methods += [m for m in other.methods if m not in out.methods]
        out.illustrative = out.illustrative or other.illustrative
        out.sources += other.sources
    if len(arms) > 1:
        out.methods.append(f"{len(arms)} arms combined (Cochrane Handbook table 6.5.a)")
    return out


def _direction_note(domain: str, spec: DomainSpec, measure: str) -> str:
    if measure in ("RR", "OR", "RD"):
        better = "fewer" if spec.lower_is_better else "more"
        return f"{measure} of events (arm 1 vs arm 2); {better} events = better ({domain})"
    return f"{'lower' if spec.lower_is_better else 'higher'} = better ({domain}, every row aligned)"


def arm_pairs(
    form: Form, ctx: Context, ext: Extraction, unused: list[dict[str, Any]] | None = None
) -> list[ArmPair]:
    """One :class:`ArmPair` per study x comparison x outcome domain x follow-up window.

    For each protocol comparison, the study's arms of the intervention class are arm 1 and its
    arms of the control classes arm 2 (several arms on one side are combined, Cochrane Handbook
    table 6.5.a, 23.3.4). Within a domain and window the instrument is chosen by the protocol's
    order of preference, and the latest time point with data for both sides is used; final
    values are preferred to change scores. Summary statistics are converted to mean/SD
    (:mod:`review.conversions`), scales with the other direction are aligned to the protocol's
    (so lower = better on every pain row), and for MD pain scales are rescaled to the form's
    common scale. Outcome rows that no pair uses (time point outside every window, no protocol
    comparison, cells still in disagreement, another instrument or time point preferred) are
    appended to ``unused`` with the reason, so nothing is dropped silently.
    """
    studies: dict[str, dict[str, Any]] = {}
    record_ids: dict[str, list[str]] = {}
    for row in ext.entity("study").values():
        label = row.get("study")
        if label is None:
            continue  # the label itself is still in disagreement
        merged = studies.setdefault(label, {})
        for k, v in row.items():
            merged.setdefault(k, v)
        if row.get("record_id") is not None:
            record_ids.setdefault(label, []).append(str(row["record_id"]))
    rob: dict[tuple[str, str], str] = {}
    for row in ext.entity("rob").values():
        if row.get("overall") and row.get("study") and row.get("domain"):
            rob[(row["study"], row["domain"])] = row["overall"]
    arms = ext.entity("arm")
    outcomes_by_study: dict[str, list[dict[str, Any]]] = {}
    for row in ext.entity("outcome").values():
        if row.get("arm") is not None:
            outcomes_by_study.setdefault(str(row.get("study")), []).append(row)
    arms_by_study: dict[str, dict[str, dict[str, Any]]] = {}
    for (s_label, a_label), arm_row in arms.items():
        arms_by_study.setdefault(s_label, {})[a_label] = arm_row
    pairs: list[ArmPair] = []
    used: set[int] = set()
    for study in sorted(studies):
        st = studies[study]
        s_arms = arms_by_study.get(study, {})
        for label, intervention, controls in ctx.comparisons:
            exp = sorted(a for a, r in s_arms.items() if r.get("intervention_class") == intervention)
            ctl = sorted(a for a, r in s_arms.items() if r.get("intervention_class") in controls)
            if not exp or not ctl:
                continue
            control_classes = sorted({s_arms[a]["intervention_class"] for a in ctl})
            for domain, spec in ctx.domains.items():
                rows = [
                    r for r in outcomes_by_study.get(study, []) if r.get("domain") == domain and _complete(r)
                ]
                for window in ctx.windows:
                    in_w = [r for r in rows if window.contains(float(r["timepoint_days"]))]
                    pair = _best_pair(form, ctx, in_w, exp, ctl, s_arms, spec)
                    if pair is None:
                        continue
                    instrument, day, side1, side2, outcome_type, rows_used = pair
                    used.update(id(r) for r in rows_used)
                    binary = spec.measure in ("RR", "OR", "RD")
                    a1, a2 = _combine(side1, binary), _combine(side2, binary)
                    if binary:
                        data = {
                            "ai": float(a1.events),
                            "n1i": float(a1.n),
                            "ci": float(a2.events),
                            "n2i": float(a2.n),
                        }
                    else:
                        data = {
                            "m1i": a1.mean,
                            "sd1i": a1.sd,
                            "n1i": float(a1.n),
                            "m2i": a2.mean,
                            "sd2i": a2.sd,
                            "n2i": float(a2.n),
                        }
                    methods = [f"arm 1: {m}" for m in a1.methods] + [f"arm 2: {m}" for m in a2.methods]
                    if outcome_type == "change":
                        methods.append("change from baseline (Cochrane Handbook 10.5.2)")
                    sources = [str(st["source"])] if st.get("source") else []
                    sources += [s for s in a1.sources + a2.sources if s not in sources]
                    pairs.append(
                        ArmPair(
                            study=study,
                            record_ids=";".join(record_ids.get(study, [])),
                            comparison=label,
                            intervention_class=intervention,
                            control_class="+".join(control_classes),
                            outcome_domain=domain,
                            instrument=instrument,
                            window=window.label,
                            timepoint_days=day,
                            measure=spec.measure,
                            data=data,
                            converted=bool(a1.methods or a2.methods),
                            conversion_method="; ".join(methods),
                            illustrative=st.get("illustrative") == "yes"
                            or a1.illustrative
                            or a2.illustrative,
                            source=" | ".join(sources),
                            crps_duration_months=st.get("crps_duration_months"),
                            crps_criteria=st.get("crps_criteria"),
                            direction=_direction_note(domain, spec, spec.measure),
                            outcome_type=outcome_type,
                            rob_overall=rob.get((study, domain), rob.get((study, "all"))),
                            md_scale=_md_scale(form, domain, rows_used[0]) if spec.measure == "MD" else None,
                        )
                    )
    if unused is not None:
        unused += _unused_rows(ctx, ext, studies, used)
    return pairs


def _md_scale(form: Form, domain: str, row: Mapping[str, Any]) -> str | None:
    """The scale a mean difference is on: the form's common scale for the domain (pain MDs are
    rescaled to it), else the instrument's own range; None when neither is known."""
    target = form.md_common_scale.get(domain)
    lo, hi = target if target is not None else _instrument_info(form, row)[:2]
    return f"{lo:g}-{hi:g}" if lo is not None and hi is not None else None


def _unused_rows(
    ctx: Context, ext: Extraction, studies: Mapping[str, Any], used: set[int]
) -> list[dict[str, Any]]:
    """Outcome rows no effect row uses, each with the reason."""
    arms = ext.entity("arm")
    classes_by_study: dict[str, set[Any]] = {}
    for (s_label, _a), arm_row in arms.items():
        classes_by_study.setdefault(s_label, set()).add(arm_row.get("intervention_class"))
    out = []
    for row in ext.entity("outcome").values():
        if id(row) in used:
            continue
        study, arm = row.get("study"), row.get("arm")
        day = row.get("timepoint_days")
        if not _complete(row) or study not in studies:
            reason = "cells missing (or still in disagreement between extractors)"
        elif day is None or ctx.window_for(float(day)) is None:
            reason = "time point outside every follow-up window of the protocol"
        else:
            cls = arms.get((study, arm), {}).get("intervention_class")
            classes = classes_by_study.get(str(study), set())
            in_comparison = any(
                (cls == i and classes & set(c)) or (cls in c and i in classes) for _l, i, c in ctx.comparisons
            )
            if not in_comparison:
                reason = f"no protocol comparison pairs {cls!r} with another arm of this study"
            else:
                reason = "another instrument, time point or outcome type was used for this window, or the other arm has no matching row"
        out.append(
            {
                "study": study,
                "arm": arm,
                "domain": row.get("domain"),
                "instrument": row.get("instrument"),
                "timepoint_days": day,
                "stat_type": row.get("stat_type"),
                "reason": reason,
            }
        )
    return out


def _complete(row: Mapping[str, Any]) -> bool:
    """Whether an outcome row has every cell its statistic type needs (a cell still in
    disagreement between extractors is missing until it is resolved)."""
    stat = row.get("stat_type")
    if stat not in STAT_TYPES or row.get("timepoint_days") is None or row.get("instrument") is None:
        return False
    if stat in BINARY_STATS and row.get("n") is None:
        return False
    return all(row.get(c) is not None for c in STAT_TYPES[stat])


def _best_pair(
    form: Form,
    ctx: Context,
    rows: list[dict[str, Any]],
    exp: list[str],
    ctl: list[str],
    arms: Mapping[str, Mapping[str, Any]],
    spec: DomainSpec,
) -> tuple[str, float, list[_Arm], list[_Arm], str, list[dict[str, Any]]] | None:
    """The preferred instrument / time point / outcome type with data on both sides."""
    binary = spec.measure in ("RR", "OR", "RD")
    order = list(spec.instruments) + sorted({r["instrument"] for r in rows} - set(spec.instruments))
    for instrument in order:
        for outcome_type in ("events",) if binary else ("final", "change"):
            cands = [
                r
                for r in rows
                if _complete(r)
                and r["instrument"] == instrument
                and (r["stat_type"] in BINARY_STATS) == binary
                and (binary or r["stat_type"].startswith("change") == (outcome_type == "change"))
            ]
            for day in sorted({float(r["timepoint_days"]) for r in cands}, reverse=True):
                at = {r["arm"]: r for r in cands if float(r["timepoint_days"]) == day}
                s1 = [a for a in exp if a in at]
                s2 = [a for a in ctl if a in at]
                if s1 and s2:
                    used = [at[a] for a in s1 + s2]  # the extracted rows (by identity), before _from_p
                    _from_p(at, s1, s2, arms)
                    side1 = [_arm_summary(form, ctx, at[a], arms[a], spec.measure) for a in s1]
                    side2 = [_arm_summary(form, ctx, at[a], arms[a], spec.measure) for a in s2]
                    return instrument, day, side1, side2, outcome_type, used
    return None
