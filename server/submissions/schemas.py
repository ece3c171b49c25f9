"""JSON shapes of submissions on the API (explicit fields only)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from server.submissions.models import REVIEW_STATES


class AttachmentOut(Schema):
    name = fields.String()
    present = fields.Method("_present")
    size = fields.Integer(allow_none=True)
    content_type = fields.String(allow_none=True)
    received_at = fields.DateTime(allow_none=True)

    def _present(self, obj) -> bool:
        return obj.blob_sha256 is not None


class VersionOut(Schema):
    instance_id = fields.String()
    deprecated_id = fields.String(allow_none=True)
    instance_name = fields.String(allow_none=True)
    form_version = fields.Function(lambda v: v.form_version.version)
    current = fields.Boolean()
    created_at = fields.DateTime()
    device_id = fields.String(allow_none=True)
    attachments_expected = fields.Integer()
    attachments_present = fields.Integer()
    missing_attachments = fields.List(fields.String())


class SubmissionOut(Schema):
    id = fields.Integer()
    instance_id = fields.String()
    form_id = fields.Function(lambda s: s.form.xml_form_id)
    commune = fields.Function(lambda s: s.commune.code)
    village = fields.Function(lambda s: s.village.code if s.village else None)
    submitter = fields.Function(lambda s: s.submitter.username)
    review_state = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    current = fields.Function(lambda s: VersionOut().dump(s.current_version))


class SubmissionDetailOut(SubmissionOut):
    versions = fields.List(fields.Nested(VersionOut))
    attachments = fields.Function(
        lambda s: AttachmentOut(many=True).dump(s.current_version.attachments)
    )
    fields_ = fields.Function(lambda s: s.current_version.fields, data_key="fields")


class SubmissionQuery(Schema):
    form_id = fields.String()
    village = fields.String()
    review_state = fields.String(validate=validate.OneOf(REVIEW_STATES))
    missing_attachments = fields.Boolean()
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    after_id = fields.Integer(load_default=0, validate=validate.Range(min=0))
