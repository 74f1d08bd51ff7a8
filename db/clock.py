"""Time: stored and sent in UTC; business days (numbering, date filters) are China Standard Time."""

import datetime as dt

CHINA_STANDARD_TIME = dt.timezone(dt.timedelta(hours=8), "CST")
"""UTC+8 all year (no daylight saving since 1991), so a fixed offset needs no tz database."""


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def china_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(CHINA_STANDARD_TIME).date()
