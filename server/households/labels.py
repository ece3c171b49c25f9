"""A household's recorded status and list source as the staff pages show them (plain words,
translatable; the msgids are the Vietnamese labels)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from server.households.models import HouseholdStatus, ListSource

STATUS_LABELS = {
    HouseholdStatus.POOR.value: _l("Hộ nghèo"),
    HouseholdStatus.NEAR_POOR.value: _l("Hộ cận nghèo"),
    HouseholdStatus.ESCAPED_POVERTY.value: _l("Đã thoát nghèo"),
    HouseholdStatus.ESCAPED_NEAR_POVERTY.value: _l("Đã thoát cận nghèo"),
    HouseholdStatus.NONE.value: _l("Không nghèo, không cận nghèo"),
    HouseholdStatus.NEW.value: _l("Chưa rà soát trước đây"),
}
SOURCE_LABELS = {
    ListSource.ON_LIST.value: _l("Trong danh sách hộ nghèo, cận nghèo xã quản lý"),
    ListSource.APPLICANT.value: _l("Hộ có giấy đề nghị"),
    ListSource.OTHER.value: _l("Hộ khác theo yêu cầu rà soát"),
}
