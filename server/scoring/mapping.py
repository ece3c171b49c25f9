"""Questionnaire → canonical household, as data (``forms/mappings/<form_id>.yaml``).

A mapping names, for each canonical fact, the submission field it comes from and how to read
it (``text``, ``integer``, ``number``, ``yes_no``, ``set``).  An empty or absent answer is
``None`` — unknown — never a default.

Two kinds: ``household`` (Phiếu B: the whole household, scored) and the *evidence* kinds that
complete it — ``screening`` (Phiếu A: did the household meet a stop criterion?) and ``income``
(the average-living-standard survey: measured income per person per month).  Evidence is linked
to the household's Phiếu B by household code, commune and review year.

A household mapping may also name the ``standard`` its questionnaire was written for (scored
with it whatever the review year; without it, the review year's standard) and read a measured
``income`` the questionnaire itself computes (same shape as the income survey's).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from marshmallow import Schema, ValidationError, fields, validate

from server.scoring.facts import HouseholdFacts, MeasuredIncome, Member
from server.scoring.standards import StandardError, _flatten, all_standards

MAPPINGS_DIR = Path(__file__).resolve().parents[2] / "forms" / "mappings"
_READERS = ("text", "integer", "number", "yes_no", "set")


class _Source(Schema):
    field = fields.String(required=True)
    as_ = fields.String(data_key="as", load_default="text", validate=validate.OneOf(_READERS))
    ignore = fields.List(fields.String(), load_default=list)
    # A blank answer is unknown, except for a set computed on the phone whose blank value means
    # "none of them" (``blank: empty``).  An absent field (not relevant) is always unknown.
    blank = fields.String(load_default="unknown", validate=validate.OneOf(("unknown", "empty")))


class _Members(Schema):
    repeat = fields.String(required=True)
    facts = fields.Dict(
        keys=fields.String(validate=validate.OneOf(Member.__dataclass_fields__)),
        values=fields.Nested(_Source),
        required=True,
    )


class _Income(Schema):
    """Measured income: per person per month, and the occupation that says whether the
    household is agricultural (farming, forestry, fishery, salt-making)."""

    per_person_month = fields.Nested(_Source, required=True)
    occupation = fields.Nested(_Source, required=True)
    agricultural_values = fields.List(fields.String(), required=True)


# Household facts read from a single answer; the others have their own keys.
_HOUSEHOLD_ANSWERS = tuple(
    f
    for f in HouseholdFacts.__dataclass_fields__
    if f not in ("members", "area_type", "region", "b1", "income")
)


class MappingSchema(Schema):
    kind = fields.String(load_default="household", validate=validate.Equal("household"))
    form_id = fields.String(required=True)
    # The standard the questionnaire was written for (a code of forms/standards/), checked
    # against the known standards on load; absent: the review year's standard.
    standard = fields.String(load_default=None)
    review_date = fields.String(required=True)
    household_code = fields.String(required=True)
    area_type = fields.String(required=True)
    household = fields.Dict(
        keys=fields.String(validate=validate.OneOf(_HOUSEHOLD_ANSWERS)),
        values=fields.Nested(_Source),
        required=True,
    )
    members = fields.Nested(_Members, required=True)
    b1 = fields.Dict(keys=fields.String(), values=fields.Nested(_Source), load_default=dict)
    income = fields.Nested(_Income, load_default=None)


class _Screening(Schema):
    result = fields.Nested(_Source, required=True)
    stop_values = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    continue_values = fields.List(fields.String(), required=True)
    reasons = fields.Nested(_Source, load_default=None)


class EvidenceMappingSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(("screening", "income")))
    form_id = fields.String(required=True)
    review_date = fields.String(required=True)
    household_code = fields.String(required=True)
    screening = fields.Nested(_Screening)
    income = fields.Nested(_Income)


@dataclass(frozen=True, slots=True)
class Evidence:
    """What a Phiếu A or income survey says about one household."""

    kind: str  # screening / income
    household_code: str | None
    review_date: date | None
    # screening: {"screened_out": bool | None, "reasons": str | None}
    # income: {"per_person_month": int | None, "agricultural": bool | None}
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class EvidenceMapping:
    form_id: str
    kind: str
    data: dict[str, Any]

    def apply(self, answers: dict[str, str]) -> Evidence:
        spec = self.data[self.kind]
        if self.kind == "screening":
            result = _read(answers.get(spec["result"]["field"]), spec["result"])
            screened_out = (
                True
                if result in spec["stop_values"]
                else False
                if result in spec["continue_values"]
                else None
            )
            source = spec["reasons"]
            reasons = _read(answers.get(source["field"]), source) if source else None
            data = {"screened_out": screened_out, "reasons": reasons}
        else:
            per_person_month, agricultural = _income(answers, spec)
            data = {"per_person_month": per_person_month, "agricultural": agricultural}
        return Evidence(
            self.kind,
            answers.get(self.data["household_code"]) or None,
            _date(answers.get(self.data["review_date"])),
            data,
        )


@dataclass(frozen=True, slots=True)
class Mapped:
    facts: HouseholdFacts
    review_date: date | None
    household_code: str | None


@dataclass(frozen=True, slots=True)
class Mapping:
    form_id: str
    data: dict[str, Any]

    @property
    def standard(self) -> str | None:
        """The standard the questionnaire was written for, or None (the review year's)."""
        return self.data.get("standard")

    def apply(self, answers: dict[str, str], region: str | None) -> Mapped:
        household = {
            fact: _read(answers.get(source["field"]), source)
            for fact, source in self.data["household"].items()
        }
        repeat = self.data["members"]["repeat"]
        positions = sorted(
            {
                int(m.group(1))
                for key in answers
                if (m := re.match(rf"^{re.escape(repeat)}\[(\d+)\]/", key))
            }
        )
        members = tuple(
            Member(
                **{
                    fact: _read(answers.get(f"{repeat}[{n}]/{source['field']}"), source)
                    for fact, source in self.data["members"]["facts"].items()
                }
            )
            for n in positions
        )
        b1 = {
            item: value
            for item, source in self.data["b1"].items()
            if (value := _read(answers.get(source["field"]), source)) is not None
        }
        income = None
        if self.data["income"] is not None:
            per_person_month, agricultural = _income(answers, self.data["income"])
            if per_person_month is not None and agricultural is not None:
                income = MeasuredIncome(per_person_month, agricultural)
        facts = HouseholdFacts(
            members=members,
            area_type=_read(answers.get(self.data["area_type"]), {"as_": "text", "ignore": []}),
            region=region,
            b1=b1,
            income=income,
            **household,
        )
        return Mapped(
            facts,
            _date(answers.get(self.data["review_date"])),
            answers.get(self.data["household_code"]) or None,
        )


def _income(answers: dict[str, str], spec: dict[str, Any]) -> tuple[int | None, bool | None]:
    """Income per person per month and whether the household is agricultural (None: not
    answered — a questionnaire whose income part was skipped measured no income)."""
    occupation = _read(answers.get(spec["occupation"]["field"]), spec["occupation"])
    per_person_month = _read(
        answers.get(spec["per_person_month"]["field"]), spec["per_person_month"]
    )
    agricultural = None if occupation is None else occupation in spec["agricultural_values"]
    return per_person_month, agricultural


def _date(raw: str | None) -> date | None:
    try:
        return date.fromisoformat((raw or "")[:10])
    except ValueError:
        return None


def _read(raw: str | None, source: dict[str, Any]) -> Any:  # noqa: PLR0911
    if raw is None:
        return None
    if not raw.strip():
        return frozenset() if source.get("blank") == "empty" and source["as_"] == "set" else None
    text = raw.strip()
    kind = source["as_"]
    try:
        if kind == "integer":
            return int(float(text))
        if kind == "number":
            return float(text)
    except ValueError:
        return None
    if kind == "yes_no":
        return {"yes": True, "no": False}.get(text)
    if kind == "set":
        return frozenset(v for v in text.split() if v not in source["ignore"])
    return text


def load_mapping(path: Path) -> Mapping | EvidenceMapping:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        raw = raw if isinstance(raw, dict) else {}
        if raw.get("kind", "household") == "household":
            data = MappingSchema().load(raw)
            standards = all_standards()
            if data["standard"] is not None and data["standard"] not in standards:
                raise StandardError(
                    f"{path.name}: standard: unknown standard '{data['standard']}' "
                    f"(known: {', '.join(standards)})."
                )
            return Mapping(form_id=data["form_id"], data=data)
        data = EvidenceMappingSchema().load(raw)
    except (OSError, yaml.YAMLError) as exc:
        raise StandardError(f"{path.name}: cannot read: {exc}") from None
    except ValidationError as exc:
        raise StandardError(f"{path.name}: " + "; ".join(_flatten(exc.messages))) from None
    if data["kind"] not in data:
        raise StandardError(f"{path.name}: {data['kind']}: Missing data for required field.")
    return EvidenceMapping(form_id=data["form_id"], kind=data["kind"], data=data)


@cache
def all_mappings(directory: Path = MAPPINGS_DIR) -> dict[str, Mapping | EvidenceMapping]:
    return {m.form_id: m for m in map(load_mapping, sorted(directory.glob("*.yaml")))}


def mappings(directory: Path = MAPPINGS_DIR) -> dict[str, Mapping]:
    """The household (Phiếu B) mappings: forms whose submissions are scored."""
    return {k: m for k, m in all_mappings(directory).items() if isinstance(m, Mapping)}


def evidence_mappings(directory: Path = MAPPINGS_DIR) -> dict[str, EvidenceMapping]:
    """Phiếu A and income-survey mappings: forms that complete a household's Phiếu B."""
    return {k: m for k, m in all_mappings(directory).items() if isinstance(m, EvidenceMapping)}
