"""JSON in and out of the scoring API (``POST /api/v1/score``).

Everything a caller sends is bounded (``SCORE_*`` settings in server/config.py): the number of
members, list items and B1 answers is checked *before* their items are read, every string has a
maximum length and every number a range, and a B1 answer is a scalar or a flat list of strings.
"""

from __future__ import annotations

import math

from flask import current_app, has_app_context
from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from server.config import Defaults
from server.scoring.engine import METHOD_VI, NO_METHOD_VI
from server.scoring.facts import HouseholdFacts, MeasuredIncome, Member

_AREA = validate.OneOf(("rural", "urban"))
# Numeric B1 answers and incomes (VND per person and month) are far below this.
MAX_ABS_NUMBER = 10**12
# A B1 score A given directly: the cut-offs are 140 / 175 points and a whole point table sums to a
# few hundred, so ±10,000 holds any table's scale while refusing absurd numbers.
MAX_B1_SCORE = 10_000


def limit(name: str) -> int:
    """A ``SCORE_*`` bound: the application's setting, or its default outside an app."""
    return int(current_app.config[name]) if has_app_context() else int(getattr(Defaults, name))


def _too_many(limit_value: int) -> ValidationError:
    return ValidationError(f"Longer than maximum length {limit_value}.")


class Text(fields.String):
    """A string of at most ``SCORE_MAX_STRING_LENGTH`` characters."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > limit("SCORE_MAX_STRING_LENGTH"):
            raise _too_many(limit("SCORE_MAX_STRING_LENGTH"))
        return text


class BoundedList(fields.List):
    """A list whose length is checked before any item is read."""

    def __init__(self, inner, *, max_items: str = "SCORE_MAX_LIST_ITEMS", **kwargs) -> None:
        super().__init__(inner, **kwargs)
        self.max_items = max_items

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, list | tuple) and len(value) > limit(self.max_items):
            raise _too_many(limit(self.max_items))
        return super()._deserialize(value, attr, data, **kwargs)


class B1Answer(fields.Field):
    """One B1 answer: null, a boolean, a finite number, a string, or a flat list of strings."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            if not math.isfinite(value) or abs(value) > MAX_ABS_NUMBER:
                raise ValidationError(f"A number between -{MAX_ABS_NUMBER} and {MAX_ABS_NUMBER}.")
            return value
        if isinstance(value, str):
            return Text().deserialize(value)
        if isinstance(value, list):
            if len(value) > limit("SCORE_MAX_LIST_ITEMS"):
                raise _too_many(limit("SCORE_MAX_LIST_ITEMS"))
            if not all(isinstance(item, str) for item in value):
                raise ValidationError("A list of answers must hold strings only.")
            return [Text().deserialize(item) for item in value]
        raise ValidationError("A string, number, boolean, null or list of strings.")


class B1Answers(fields.Dict):
    """The coded B1 answers, at most ``SCORE_MAX_B1_ANSWERS`` of them."""

    def __init__(self, **kwargs) -> None:
        super().__init__(keys=Text(), values=B1Answer(allow_none=True), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, dict) and len(value) > limit("SCORE_MAX_B1_ANSWERS"):
            raise _too_many(limit("SCORE_MAX_B1_ANSWERS"))
        return super()._deserialize(value, attr, data, **kwargs)


class MemberIn(Schema):
    name = Text(load_default=None, allow_none=True)
    age = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(0, 130))
    sex = Text(load_default=None, allow_none=True, validate=validate.OneOf(("1", "2")))
    relationship = Text(load_default=None, allow_none=True)
    ethnicity = Text(load_default=None, allow_none=True)
    work_status = Text(load_default=None, allow_none=True)
    contract = Text(load_default=None, allow_none=True)
    disability = Text(load_default=None, allow_none=True)
    serious_illness = fields.Boolean(load_default=None, allow_none=True)
    health_insurance = fields.Boolean(load_default=None, allow_none=True)
    malnourished = fields.Boolean(load_default=None, allow_none=True)
    in_school = fields.Boolean(load_default=None, allow_none=True)
    education = Text(load_default=None, allow_none=True)
    qualification = Text(load_default=None, allow_none=True)
    employer_training = fields.Boolean(load_default=None, allow_none=True)
    pension = fields.Boolean(load_default=None, allow_none=True)

    @post_load
    def _make(self, data, **_kwargs) -> Member:
        return Member(**data)


class IncomeIn(Schema):
    per_person_month = fields.Integer(
        required=True, validate=validate.Range(-MAX_ABS_NUMBER, MAX_ABS_NUMBER)
    )
    agricultural = fields.Boolean(required=True)

    @post_load
    def _make(self, data, **_kwargs) -> MeasuredIncome:
        return MeasuredIncome(**data)


class HouseholdIn(Schema):
    """Canonical household facts; every fact is optional and ``null`` means unknown."""

    members = BoundedList(fields.Nested(MemberIn), max_items="SCORE_MAX_MEMBERS", load_default=list)
    area_type = Text(load_default=None, allow_none=True, validate=_AREA)
    region = Text(load_default=None, allow_none=True)
    floor_area = fields.Float(load_default=None, allow_none=True, validate=validate.Range(0, 1e5))
    wall = Text(load_default=None, allow_none=True)
    frame = Text(load_default=None, allow_none=True)
    roof = Text(load_default=None, allow_none=True)
    water_source = Text(load_default=None, allow_none=True)
    latrine = Text(load_default=None, allow_none=True)
    telecom_use = fields.Boolean(load_default=None, allow_none=True)
    info_devices = BoundedList(Text(), load_default=None, allow_none=True)
    digital_use = BoundedList(Text(), load_default=None, allow_none=True)
    waste = Text(load_default=None, allow_none=True)
    b1 = B1Answers(load_default=dict)
    income = fields.Nested(IncomeIn, load_default=None, allow_none=True)
    screened_out = fields.Boolean(load_default=None, allow_none=True)
    screening_reasons = Text(load_default=None, allow_none=True)

    @post_load
    def _make(self, data, **_kwargs) -> HouseholdFacts:
        for key in ("info_devices", "digital_use"):
            if data[key] is not None:
                data[key] = frozenset(data[key])
        data["b1"] = {k: frozenset(v) if isinstance(v, list) else v for k, v in data["b1"].items()}
        data["members"] = tuple(data["members"])
        return HouseholdFacts(**data)


class ScoreRequest(Schema):
    household = fields.Nested(HouseholdIn, required=True)
    year = fields.Integer(validate=validate.Range(2022, 2100))
    standard = Text()
    b1_table = Text(load_default=None, allow_none=True)
    # Score A the caller already has (hand-scored paper, another system): an alternative to
    # B1 answers + b1_table, never together with them.
    b1_score = fields.Float(
        load_default=None,
        allow_none=True,
        allow_nan=False,
        validate=validate.Range(-MAX_B1_SCORE, MAX_B1_SCORE),
    )

    form_id = Text(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "A shipped Phiếu B (phieu_b_2022, phieu_b_2027) whose choice labels "
            'word the reasons and the explanation ("nguồn nước: Giếng khoan"). Without it '
            'they name coded answers by their canonical code ("nguồn nước: gieng_khoan").'
        },
    )

    @validates_schema(skip_on_field_errors=False)
    def _one_of(self, data, **_kwargs) -> None:
        if "year" in data and "standard" in data:
            raise ValidationError({"standard": ["Give a year or a standard, not both."]})


_IN_WORDS = (
    "Coded answers in the words of the request's form_id (its choice labels), else by their "
    "canonical code."
)


class IndicatorOut(Schema):
    code = fields.String()
    name_vi = fields.String()
    outcome = fields.Function(lambda r: r.outcome.value)
    reasons = fields.List(fields.String(), metadata={"description": _IN_WORDS})
    status = fields.String()
    provisional = fields.Boolean()  # the indicator's rule or a definition it uses is unsettled
    provisional_vi = fields.List(fields.String())  # what is unsettled, in words


class FigureOut(Schema):
    key = fields.String()
    vi = fields.String()
    value = fields.Raw(allow_none=True)
    status = fields.String()
    provisional = fields.Boolean()
    decides = fields.Boolean()  # the verdict rests on this figure (else it is only shown)


class B1LineOut(Schema):
    item = fields.String()
    vi = fields.String()
    answer = fields.String()  # the coded answer
    answer_vi = fields.String(metadata={"description": _IN_WORDS})
    points = fields.Float(allow_none=True)


class ScoreOut(Schema):
    category = fields.Function(lambda r: r.category.value)
    category_vi = fields.String()
    standard = fields.String()
    area_type = fields.String(allow_none=True)
    score_a = fields.Float(allow_none=True)
    cutoff = fields.Float(allow_none=True)
    b1_table = fields.String(attribute="table_code", allow_none=True)
    b1_table_version = fields.String(attribute="table_version", allow_none=True)
    b1_table_disclaimer = fields.String(attribute="table_disclaimer_vi", allow_none=True)
    b1_lines = fields.Function(lambda r: B1LineOut(many=True).dump(r.b1.lines) if r.b1 else [])
    b1_missing = fields.Function(lambda r: list(r.b1.missing) if r.b1 else [])
    b1_invalid = fields.Function(lambda r: list(r.b1.invalid) if r.b1 else [])
    deprivations = fields.Integer()
    undetermined_indicators = fields.Integer()
    score_b = fields.Integer()
    score_b_max = fields.Integer()
    indicators = fields.List(fields.Nested(IndicatorOut))
    income_per_person_month = fields.Integer(allow_none=True)
    low_income_worker_household = fields.Boolean(allow_none=True)
    explanation_vi = fields.List(fields.String(), metadata={"description": _IN_WORDS})
    # True only when what decided the verdict is unsettled (``provisional_vi`` says what).
    provisional = fields.Boolean()
    provisional_vi = fields.List(fields.String())
    figures = fields.List(fields.Nested(FigureOut))
    method = fields.String(allow_none=True)  # "b1" | "income" | null: which method decided
    method_vi = fields.Function(lambda r: METHOD_VI.get(r.method, NO_METHOD_VI))
    methods_disagree = fields.Boolean()
    income_line = fields.Integer(allow_none=True)
    b1_given = fields.Boolean()
    b1_category = fields.Function(lambda r: r.b1_category.value if r.b1_category else None)
    income_category = fields.Function(
        lambda r: r.income_category.value if r.income_category else None
    )
