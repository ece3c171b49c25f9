"""How the pages name a consultation's state."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

STATE_LABELS = {
    "pending": _l("Chờ ý kiến"),
    "agreed": _l("Tỉnh đồng ý"),
    "revise": _l("Tỉnh đề nghị xem lại"),
}
