"""One error type for the whole application, with stable codes and bilingual messages.

Domain code raises :class:`AppError` (usually one of the subclasses' factory functions in the
capability that owns the rule).  Each surface writes it in its own format: the OpenRosa
blueprint as an ``<OpenRosaResponse>`` (``server.openrosa.responses``), the JSON API as a JSON
envelope (:func:`register_error_writers`), pages as a message in the page's language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from server.i18n import localized


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


# Page titles and messages are msgids of the English catalog (server/translations).
_PAGE_ERRORS = {
    400: (
        _l("Yêu cầu không hợp lệ"),
        _l("Dữ liệu gửi lên không hợp lệ. Hãy tải lại trang và thử lại."),
    ),
    403: (_l("Không có quyền"), _l("Tài khoản của anh/chị không được xem trang này.")),
    404: (
        _l("Không tìm thấy"),
        _l("Trang hoặc dữ liệu này không tồn tại (hoặc không thuộc phạm vi của anh/chị)."),
    ),
    405: (_l("Không hỗ trợ"), _l("Thao tác này không được hỗ trợ.")),
    413: (_l("Tệp quá lớn"), _l("Tệp gửi lên quá lớn.")),
    429: (_l("Quá nhiều yêu cầu"), _l("Anh/chị đã thử quá nhiều lần. Hãy đợi rồi thử lại.")),
    500: (_l("Lỗi máy chủ"), _l("Máy chủ gặp lỗi khi xử lý yêu cầu. Hãy thử lại sau.")),
}


def register_error_writers(app: Flask) -> None:
    """Errors on ``/api/`` are JSON; on pages, a page in the staff's language (Vietnamese
    unless English was chosen).  The OpenRosa blueprint registers its own writer
    (``server.openrosa.routes``)."""

    def wants_json() -> bool:
        return request.path.startswith("/api/")

    @app.errorhandler(AppError)
    def _app_error(error: AppError):
        if wants_json():
            return jsonify(error.to_dict()), error.status
        page = render_template(
            "error.html",
            code=error.status,
            title=_("Không thực hiện được"),
            message=localized(error.message_vi, error.message_en),
        )
        return page, error.status

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        status = error.code or 500
        if wants_json():
            body = {"code": f"http.{status}", "message": error.name, "message_en": error.name}
            return jsonify(body), status
        if isinstance(error, CSRFError):
            title, message = _("Phiên làm việc đã hết hạn"), _("Hãy tải lại trang rồi thử lại.")
        else:
            title, message = _PAGE_ERRORS.get(status, (error.name, error.description or ""))
        return render_template("error.html", code=status, title=title, message=message), status
