"""JSON shapes of forms and versions on the administrators' API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from server.questionnaires.models import FormState


class AttachmentOut(Schema):
    name = fields.String()
    uploaded = fields.Function(lambda a: a.blob_sha256 is not None)
    generated_per_reviewer = fields.Function(lambda a: a.dynamic is not None)


class VersionOut(Schema):
    version = fields.String()
    title = fields.String()
    state = fields.Function(lambda v: v.state.value)
    created_at = fields.DateTime()
    published_at = fields.DateTime(allow_none=True)
    accepting_submissions = fields.Boolean()
    xform_md5 = fields.String()
    has_xlsx = fields.Function(lambda v: v.xlsx is not None)
    warnings = fields.List(fields.String())
    attachments = fields.List(fields.Nested(AttachmentOut))


class FormOut(Schema):
    form_id = fields.Function(lambda f: f.xml_form_id)
    title = fields.String()
    state = fields.Function(lambda f: f.state.value)
    current_version = fields.Function(
        lambda f: f.current_version.version if f.current_version else None
    )
    versions = fields.List(fields.Nested(VersionOut))


class DraftOut(Schema):
    form_id = fields.String()
    version = fields.String()
    test_url = fields.String()
    warnings = fields.List(fields.Dict())


class FormPatch(Schema):
    state = fields.String(required=True, validate=validate.OneOf([s.value for s in FormState]))


class VersionPatch(Schema):
    accepting_submissions = fields.Boolean(required=True)


class AssignmentIn(Schema):
    commune = fields.String(required=True, validate=validate.Length(min=1, max=20))
