"""Questionnaire → canonical household, as data (``forms/mappings/<form_id>.yaml``).

A mapping names, for each canonical fact, the submission field it comes from and how to read
it (``text``, ``integer``, ``number``, ``yes_no``, ``set``).  An empty or absent answer is
``None`` — unknown — never a default.
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

from server.scoring.facts import HouseholdFacts, Member
from server.scoring.standards import StandardError, _flatten

MAPPINGS_DIR = Path(__file__).resolve().parents[2] / "forms" / "mappings"
_READERS = ("text", "integer", "number", "yes_no", "set")


class _Source(Schema):
    field = fields.String(required=True)
    as_ = fields.String(data_key="as", load_default="text", validate=validate.OneOf(_READERS))
    ignore = fields.List(fields.String(), load_default=list)


class _Members(Schema):
    repeat = fields.String(required=True)
    facts = fields.Dict(
        keys=fields.String(validate=validate.OneOf(Member.__dataclass_fields__)),
        values=fields.Nested(_Source),
        required=True,
    )


class MappingSchema(Schema):
    form_id = fields.String(required=True)
    review_date = fields.String(required=True)
    household_code = fields.String(required=True)
    area_type = fields.String(required=True)
    household = fields.Dict(
        keys=fields.String(validate=validate.OneOf(HouseholdFacts.__dataclass_fields__)),
        values=fields.Nested(_Source),
        required=True,
    )
    members = fields.Nested(_Members, required=True)
    b1 = fields.Dict(keys=fields.String(), values=fields.Nested(_Source), load_default=dict)


@dataclass(frozen=True, slots=True)
class Mapped:
    facts: HouseholdFacts
    review_date: date | None
    household_code: str | None


@dataclass(frozen=True, slots=True)
class Mapping:
    form_id: str
    data: dict[str, Any]

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
        facts = HouseholdFacts(
            members=members,
            area_type=_read(answers.get(self.data["area_type"]), {"as_": "text", "ignore": []}),
            region=region,
            b1=b1,
            **household,
        )
        review = answers.get(self.data["review_date"]) or ""
        try:
            review_date = date.fromisoformat(review[:10])
        except ValueError:
            review_date = None
        return Mapped(facts, review_date, answers.get(self.data["household_code"]) or None)


def _read(raw: str | None, source: dict[str, Any]) -> Any:  # noqa: PLR0911
    if raw is None or not raw.strip():
        return None
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


def load_mapping(path: Path) -> Mapping:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        data = MappingSchema().load(raw if isinstance(raw, dict) else {})
    except (OSError, yaml.YAMLError) as exc:
        raise StandardError(f"{path.name}: cannot read: {exc}") from None
    except ValidationError as exc:
        raise StandardError(f"{path.name}: " + "; ".join(_flatten(exc.messages))) from None
    return Mapping(form_id=data["form_id"], data=data)


@cache
def mappings(directory: Path = MAPPINGS_DIR) -> dict[str, Mapping]:
    return {m.form_id: m for m in map(load_mapping, sorted(directory.glob("*.yaml")))}
