"""One error type for the whole application, with stable codes and bilingual messages.

Domain code raises :class:`AppError` (usually one of the subclasses' factory functions in the
capability that owns the rule).  Each surface writes it in its own format: the OpenRosa
blueprint as an ``<OpenRosaResponse>`` (``server.openrosa.responses``), the JSON API as a JSON
envelope (:func:`register_error_writers`), pages as a Vietnamese message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException


@dataclass(slots=True)
class AppError(Exception):
    """A failure the user can understand.

    :param code: stable dotted identifier, e.g. ``submission.conflict``; clients may rely on it.
    :param status: HTTP status to answer with.
    :param message_vi: the message shown to Vietnamese users (reviewers and staff).
    :param message_en: the same message in English, shown second.
    :param details: machine-readable context (field errors, ids).
    """

    code: str
    status: int
    message_vi: str
    message_en: str
    details: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.code}: {self.message_en}"

    @property
    def message(self) -> str:
        """Vietnamese first, English second, as reviewers and staff read it."""
        return f"{self.message_vi} ({self.message_en})"

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "code": self.code,
            "message": self.message_vi,
            "message_en": self.message_en,
        }
        if self.details:
            body["details"] = self.details
        return body


def register_error_writers(app: Flask) -> None:
    """Write errors on the JSON API (and anything without its own writer) as JSON."""

    @app.errorhandler(AppError)
    def _app_error(error: AppError):
        return jsonify(error.to_dict()), error.status

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        return (
            jsonify(
                {"code": f"http.{error.code}", "message": error.name, "message_en": error.name}
            ),
            error.code or 500,
        )
