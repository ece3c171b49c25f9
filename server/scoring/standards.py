"""Loading the versioned standards in ``forms/standards/*.yaml``.

Each file is validated by a marshmallow schema; a problem is reported with the file name and the
key (``2027_2030.yaml: indicators.3.rule.kind: …``) so an administrator can fix the data.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

import yaml
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

STANDARDS_DIR = Path(__file__).resolve().parents[2] / "forms" / "standards"
STATUSES = ("verified", "secondary", "inferred", "provisional", "missing")
OPS = ("==", "!=", "<", "<=", ">", ">=", "in", "not_in")
MEMBER_FACTS = (
    "age",
    "sex",
    "relationship",
    "work_status",
    "contract",
    "disability",
    "serious_illness",
    "health_insurance",
    "malnourished",
    "in_school",
    "education",
    "qualification",
    "employer_training",
    "pension",
    "working_age",
    "dependant",
)
HOUSEHOLD_FACTS = (
    "floor_area",
    "wall",
    "frame",
    "roof",
    "water_source",
    "latrine",
    "telecom_use",
    "info_devices",
    "digital_use",
    "waste",
)
RULE_KINDS = (
    "any_member",
    "member_share",
    "count_not_in",
    "per_person_below",
    "household_not_in",
    "household_equals",
    "household_none_of",
)


class StandardError(Exception):
    """A standards file is missing, unreadable or invalid."""


class _Sourced(Schema):
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    source = fields.String(required=True)


class _Value(_Sourced):
    value = fields.Raw(required=True, allow_none=True)


class _ByArea(Schema):
    rural = fields.Nested(_Value, required=True)
    urban = fields.Nested(_Value, required=True)


class _Method(_Sourced):
    value = fields.String(required=True, validate=validate.OneOf(("b1", "income")))


class _Band(_Sourced):
    above = fields.Integer(allow_none=True, load_default=None)
    up_to = fields.Integer(allow_none=True, load_default=None)


class _BandByArea(Schema):
    rural = fields.Nested(_Band, required=True)
    urban = fields.Nested(_Band, required=True)


class _Condition(Schema):
    fact = fields.String(required=True, validate=validate.OneOf(MEMBER_FACTS))
    op = fields.String(required=True, validate=validate.OneOf(OPS))
    value = fields.Raw(required=True, allow_none=True)


class _Rule(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(RULE_KINDS))
    when_any = fields.List(fields.List(fields.Nested(_Condition)))
    when = fields.List(fields.Nested(_Condition))
    above = fields.Float()
    at_least = fields.Integer()
    facts = fields.Dict(
        keys=fields.String(validate=validate.OneOf(HOUSEHOLD_FACTS)),
        values=fields.List(fields.String()),
    )
    lists_status = fields.String(validate=validate.OneOf(STATUSES))
    fact = fields.String(validate=validate.OneOf(HOUSEHOLD_FACTS))
    threshold = fields.Float()
    values = fields.List(fields.String())
    value = fields.Raw(allow_none=True)

    _NEEDS: ClassVar[dict[str, tuple[str, ...]]] = {
        "any_member": ("when_any",),
        "member_share": ("when", "above"),
        "count_not_in": ("facts", "at_least"),
        "per_person_below": ("fact", "threshold"),
        "household_not_in": ("fact", "values"),
        "household_equals": ("fact", "value"),
        "household_none_of": ("fact", "values"),
    }

    @validates_schema
    def _complete(self, data: dict, **_kwargs) -> None:
        missing = [k for k in self._NEEDS[data["kind"]] if k not in data]
        if missing:
            raise ValidationError({k: ["Required for this kind."] for k in missing})


class _Indicator(_Sourced):
    code = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9_]*$"))
    service = fields.String(required=True)
    vi = fields.String(required=True)
    deprived_vi = fields.String(required=True)
    rule = fields.Nested(_Rule, required=True)


class _WorkingAge(_Sourced):
    min = fields.Integer(required=True)
    max_male = fields.Integer(required=True)
    max_female = fields.Integer(required=True)


class _Dependant(_Sourced):
    child_under = fields.Integer(required=True)
    elderly_from = fields.Integer(required=True)
    severe_disability = fields.List(fields.String(), required=True)


class _Service(Schema):
    code = fields.String(required=True)
    vi = fields.String(required=True)


class StandardSchema(Schema):
    code = fields.String(required=True)
    name_vi = fields.String(required=True)
    legal_basis = fields.String(required=True)
    applies_to_years = fields.Nested(_Value, required=True)
    income_line = fields.Nested(_ByArea, required=True)
    b1_cutoff = fields.Nested(_ByArea, required=True)
    points_per_deprivation = fields.Nested(_Value, required=True)
    poor_if_score_b_at_least = fields.Nested(_Value, required=True)
    # Which method decides when a household has both a usable B1 score (score A with a
    # cut-off) and a measured income; the other method's verdict is still computed and shown.
    decisive_method = fields.Nested(_Method, required=True)
    average_living_standard = fields.Nested(_BandByArea, required=True)
    low_income_worker_line = fields.Nested(_BandByArea, required=True)
    # Whether a Phiếu A "stop" ends the household's review (no Phiếu B verdict).
    phieu_a_stops_review = fields.Nested(_Value, required=True)
    working_age = fields.Nested(_WorkingAge, required=True)
    dependant = fields.Nested(_Dependant, required=True)
    services = fields.List(fields.Nested(_Service), required=True)
    indicators = fields.List(
        fields.Nested(_Indicator), required=True, validate=validate.Length(min=1)
    )

    @validates_schema
    def _consistent(self, data: dict, **_kwargs) -> None:
        services = {s["code"] for s in data["services"]}
        codes = [i["code"] for i in data["indicators"]]
        errors: dict[str, Any] = {}
        for number, indicator in enumerate(data["indicators"]):
            if indicator["service"] not in services:
                errors[f"indicators.{number}.service"] = ["Unknown service."]
        if len(codes) != len(set(codes)):
            errors["indicators"] = ["Indicator codes must be unique."]
        if errors:
            raise ValidationError(errors)


@dataclass(frozen=True, slots=True)
class Standard:
    """A validated standard; ``data`` keeps every value with its status and source."""

    code: str
    data: dict[str, Any]

    @property
    def name_vi(self) -> str:
        return self.data["name_vi"]

    @property
    def years(self) -> list[int]:
        return self.data["applies_to_years"]["value"]

    @property
    def indicators(self) -> list[dict[str, Any]]:
        return self.data["indicators"]

    def value(self, key: str, area: str | None = None):
        entry = self.data[key]
        return (entry[area] if area else entry)["value"]

    def is_provisional(self, key: str, area: str | None = None) -> bool:
        entry = self.data[key]
        return (entry[area] if area else entry)["status"] not in ("verified", "secondary")


def _flatten(messages: Any, prefix: str = "") -> list[str]:
    if isinstance(messages, dict):
        out = []
        for key, value in messages.items():
            out += _flatten(value, f"{prefix}.{key}" if prefix else str(key))
        return out
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [f"{prefix}: {' '.join(messages)}"]
    return [f"{prefix}: {messages}"]


def load_standard(path: Path) -> Standard:
    """Read and validate one standards file.

    :raises StandardError: naming the file and, for schema errors, each offending key.
    """
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise StandardError(f"{path.name}: cannot read: {exc}") from None
    try:
        data = StandardSchema().load(raw if isinstance(raw, dict) else {})
    except ValidationError as exc:
        raise StandardError(f"{path.name}: " + "; ".join(_flatten(exc.messages))) from None
    if f"{data['code']}.yaml" != path.name:
        raise StandardError(f"{path.name}: code: must match the file name ({data['code']}).")
    return Standard(code=data["code"], data=data)


@cache
def all_standards(directory: Path = STANDARDS_DIR) -> dict[str, Standard]:
    standards = {}
    for path in sorted(directory.glob("*.yaml")):
        standard = load_standard(path)
        standards[standard.code] = standard
    return standards


def standard_for_year(year: int, directory: Path = STANDARDS_DIR) -> Standard:
    for standard in all_standards(directory).values():
        if year in standard.years:
            return standard
    raise StandardError(f"No standard applies to the year {year}.")
