"""What each role is called on the pages (Vietnamese msgids, English in the catalog)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from server.accounts.models import Role

ROLE_LABELS = {
    Role.ADMIN: _l("Quản trị viên cấp tỉnh"),
    Role.OFFICER: _l("Công chức cấp xã"),
    Role.REVIEWER: _l("Rà soát viên (ODK Collect)"),
    Role.VILLAGE_HEAD: _l("Trưởng thôn (ODK Collect và xem thôn mình)"),
}
