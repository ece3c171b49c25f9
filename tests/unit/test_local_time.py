"""Times are shown in Vietnam time (UTC+7) whatever the server's clock zone."""

from datetime import UTC, datetime, timedelta, timezone

from server.i18n import local_time


def test_naive_utc_is_shown_seven_hours_later_across_midnight():
    assert local_time(datetime(2026, 12, 31, 18, 30)) == "01/01/2027 01:30"


def test_aware_times_are_converted_and_none_is_empty():
    eastern = timezone(timedelta(hours=-5))
    assert local_time(datetime(2026, 1, 1, 0, 0, tzinfo=eastern)) == "01/01/2026 12:00"
    assert local_time(datetime(2026, 1, 1, 0, 0, 5, tzinfo=UTC), "%H:%M:%S") == "07:00:05"
    assert local_time(None) == ""


def test_vietnamese_numbers_group_thousands_with_dots():
    from server.i18n import vi_number

    assert vi_number(20_000_000) == "20.000.000"
    assert vi_number(999) == "999"


def test_official_date_writes_leading_zeros_as_nd_30_2020_does():
    from datetime import date

    from server.i18n import official_date

    assert official_date(date(2026, 2, 5)) == "ngày 05 tháng 02 năm 2026"
    assert official_date(date(2026, 1, 31)) == "ngày 31 tháng 01 năm 2026"
    assert official_date(date(2026, 3, 9)) == "ngày 09 tháng 3 năm 2026"  # month ≥ 3: no zero
    assert official_date(date(2026, 12, 10)) == "ngày 10 tháng 12 năm 2026"
    assert official_date(None) == "ngày …… tháng …… năm ……"  # blanks to fill in by hand


def test_official_date_of_a_stored_time_is_the_day_in_vietnam():
    from server.i18n import official_date

    # Naive UTC as stored: 17:30 UTC on 6 December is 00:30 on 7 December in Vietnam …
    assert official_date(datetime(2026, 12, 6, 17, 30)) == "ngày 07 tháng 12 năm 2026"
    # … and one minute before Vietnam's midnight it is still the 6th.
    assert official_date(datetime(2026, 12, 6, 16, 59)) == "ngày 06 tháng 12 năm 2026"
    assert official_date(datetime(2026, 2, 28, 17, 0)) == "ngày 01 tháng 3 năm 2026"
    eastern = timezone(timedelta(hours=-5))
    assert official_date(datetime(2026, 1, 1, 20, 0, tzinfo=eastern)) == (
        "ngày 02 tháng 01 năm 2026"
    )


def _frozen(monkeypatch, *moment):
    """Freeze the server's clock (server.i18n.clock, aware UTC) at ``moment`` UTC."""
    from server import i18n

    monkeypatch.setattr(i18n, "clock", lambda: datetime(*moment, tzinfo=UTC))


def test_today_is_vietnams_day_before_and_after_17_utc(monkeypatch):
    from datetime import date

    from server.i18n import vietnam_now, vietnam_today

    _frozen(monkeypatch, 2026, 12, 31, 16, 59)  # 23:59 on 31/12 in Vietnam
    assert vietnam_today() == date(2026, 12, 31)
    _frozen(monkeypatch, 2026, 12, 31, 17, 0)  # 00:00 on 01/01/2027 in Vietnam
    assert vietnam_today() == date(2027, 1, 1)
    _frozen(monkeypatch, 2026, 12, 31, 18, 30)
    assert vietnam_today() == date(2027, 1, 1) and vietnam_today().year == 2027
    assert vietnam_now().strftime("%d/%m/%Y %H:%M %z") == "01/01/2027 01:30 +0700"


def test_the_day_of_a_stored_time_is_vietnams():
    from datetime import date

    from server.i18n import vietnam_date

    assert vietnam_date(datetime(2026, 12, 31, 16, 59)) == date(2026, 12, 31)  # naive UTC
    assert vietnam_date(datetime(2026, 12, 31, 17, 0)) == date(2027, 1, 1)
    eastern = timezone(timedelta(hours=-5))
    assert vietnam_date(datetime(2026, 12, 31, 12, 0, tzinfo=eastern)) == date(2027, 1, 1)


def test_date_and_time_answers_are_shown_in_vietnam_time_vietnamese_style():
    from server.questionnaires.labels import time_answer

    # An offset of +07:00 is kept; Z or another offset is converted to UTC+7.
    assert time_answer("dateTime", "2026-09-12T08:15:03.123+07:00") == "12/09/2026 08:15"
    assert time_answer("dateTime", "2026-12-31T18:30:00.000Z") == "01/01/2027 01:30"
    assert time_answer("dateTime", "2026-09-12T08:15:03.123-05:00") == "12/09/2026 20:15"
    assert time_answer("dateTime", "2026-09-12T08:15:03+0700") == "12/09/2026 08:15"
    # No offset: the phone's own clock, kept as it is.
    assert time_answer("dateTime", "2026-09-12T08:15:03.123") == "12/09/2026 08:15"
    assert time_answer("date", "2026-09-12") == "12/09/2026"
    assert time_answer("time", "08:15:03.123+07:00") == "08:15"
    assert time_answer("time", "20:15:00.000Z") == "03:15"
    assert time_answer("time", "08:15") == "08:15"
    # Not such a value (or another type): shown as it is.
    for kind, value in [
        ("dateTime", "hôm qua"),
        ("date", "2026-13-01"),
        ("dateTime", "2026-09-12"),
        ("date", "20260912"),
        ("string", "2026-09-12"),
    ]:
        assert time_answer(kind, value) is None, (kind, value)


def test_a_monthly_rounds_month_is_vietnams_month_in_stored_utc():
    from server.meetings.models import ReviewRound
    from server.meetings.requests import _month_bounds

    # January 2027 in Vietnam: from 31/12/2026 17:00 UTC to 31/01/2027 17:00 UTC (naive, stored).
    assert _month_bounds(ReviewRound(year=2027, month=1)) == (
        datetime(2026, 12, 31, 17, 0),
        datetime(2027, 1, 31, 17, 0),
    )
