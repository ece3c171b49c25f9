"""JSON in and out of the scoring API (``POST /api/v1/score``)."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from server.scoring.facts import HouseholdFacts, MeasuredIncome, Member

_AREA = validate.OneOf(("rural", "urban"))


class MemberIn(Schema):
    name = fields.String(load_default=None, allow_none=True)
    age = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(0, 130))
    sex = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(("1", "2")))
    relationship = fields.String(load_default=None, allow_none=True)
    ethnicity = fields.String(load_default=None, allow_none=True)
    work_status = fields.String(load_default=None, allow_none=True)
    contract = fields.String(load_default=None, allow_none=True)
    disability = fields.String(load_default=None, allow_none=True)
    serious_illness = fields.Boolean(load_default=None, allow_none=True)
    health_insurance = fields.Boolean(load_default=None, allow_none=True)
    malnourished = fields.Boolean(load_default=None, allow_none=True)
    in_school = fields.Boolean(load_default=None, allow_none=True)
    education = fields.String(load_default=None, allow_none=True)
    qualification = fields.String(load_default=None, allow_none=True)
    employer_training = fields.Boolean(load_default=None, allow_none=True)
    pension = fields.Boolean(load_default=None, allow_none=True)

    @post_load
    def _make(self, data, **_kwargs) -> Member:
        return Member(**data)


class IncomeIn(Schema):
    per_person_month = fields.Integer(required=True, validate=validate.Range(min=-(10**10)))
    agricultural = fields.Boolean(required=True)

    @post_load
    def _make(self, data, **_kwargs) -> MeasuredIncome:
        return MeasuredIncome(**data)


class HouseholdIn(Schema):
    """Canonical household facts; every fact is optional and ``null`` means unknown."""

    members = fields.List(fields.Nested(MemberIn), load_default=list)
    area_type = fields.String(load_default=None, allow_none=True, validate=_AREA)
    region = fields.String(load_default=None, allow_none=True)
    floor_area = fields.Float(load_default=None, allow_none=True, validate=validate.Range(0, 1e5))
    wall = fields.String(load_default=None, allow_none=True)
    frame = fields.String(load_default=None, allow_none=True)
    roof = fields.String(load_default=None, allow_none=True)
    water_source = fields.String(load_default=None, allow_none=True)
    latrine = fields.String(load_default=None, allow_none=True)
    telecom_use = fields.Boolean(load_default=None, allow_none=True)
    info_devices = fields.List(fields.String(), load_default=None, allow_none=True)
    digital_use = fields.List(fields.String(), load_default=None, allow_none=True)
    waste = fields.String(load_default=None, allow_none=True)
    b1 = fields.Dict(keys=fields.String(), values=fields.Raw(), load_default=dict)
    income = fields.Nested(IncomeIn, load_default=None, allow_none=True)
    screened_out = fields.Boolean(load_default=None, allow_none=True)
    screening_reasons = fields.String(load_default=None, allow_none=True)

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
    standard = fields.String()
    b1_table = fields.String(load_default=None, allow_none=True)

    @validates_schema(skip_on_field_errors=False)
    def _one_of(self, data, **_kwargs) -> None:
        if "year" in data and "standard" in data:
            raise ValidationError({"standard": ["Give a year or a standard, not both."]})


class IndicatorOut(Schema):
    code = fields.String()
    name_vi = fields.String()
    outcome = fields.Function(lambda r: r.outcome.value)
    reasons = fields.List(fields.String())
    status = fields.String()


class B1LineOut(Schema):
    item = fields.String()
    vi = fields.String()
    answer = fields.String()
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
    deprivations = fields.Integer()
    undetermined_indicators = fields.Integer()
    score_b = fields.Integer()
    score_b_max = fields.Integer()
    indicators = fields.List(fields.Nested(IndicatorOut))
    income_per_person_month = fields.Integer(allow_none=True)
    low_income_worker_household = fields.Boolean(allow_none=True)
    explanation_vi = fields.List(fields.String())
    provisional = fields.Boolean()
