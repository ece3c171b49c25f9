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
