"""Reference data shipped with the service: trade agreements, countries and ports (SPEC §5).

It is constant data read once per process from files in this package: agreements from
``agreements.csv``, countries from ISO 3166-1 (pycountry, with China Customs' Chinese names), ports
from the UN/LOCODE 2023-1 list (``ports.csv.gz``, made by ``build_ports.py``).
"""

import csv
import gettext
import gzip
import io
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import islice

import pycountry

CHINESE_NAME_OVERRIDES = {
    "TWN": "中国台湾",
    "HKG": "中国香港",
    "MAC": "中国澳门",
    "KOR": "韩国",
    "PRK": "朝鲜",
    "LAO": "老挝",
    "KHM": "柬埔寨",
    "BGD": "孟加拉国",
}
ENGLISH_NAME_OVERRIDES = {
    "TWN": "Taiwan, China",
    "HKG": "Hong Kong, China",
    "MAC": "Macao, China",
}


@dataclass(frozen=True)
class Country:
    code: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class Port:
    code: str
    name: str
    country_code: str
    is_seaport: bool
    is_airport: bool


@dataclass(frozen=True)
class Agreement:
    code: str
    name_zh: str
    name_en: str
    partner_codes: tuple[str, ...]
    certificate_prefix: str

    def has_partner(self, country_code: str) -> bool:
        return country_code in self.partner_codes


def _read_text(name: str) -> str:
    data = resources.files(__package__).joinpath(name).read_bytes()
    return (gzip.decompress(data) if name.endswith(".gz") else data).decode("utf-8")


@cache
def _agreements() -> dict[str, Agreement]:
    rows = csv.DictReader(io.StringIO(_read_text("agreements.csv")))
    return {
        row["code"]: Agreement(
            code=row["code"],
            name_zh=row["name_zh"],
            name_en=row["name_en"],
            partner_codes=tuple(row["partners"].split()),
            certificate_prefix=row["co_prefix"],
        )
        for row in rows
    }


@cache
def _countries() -> dict[str, Country]:
    chinese = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["zh_CN"])
    countries = {}
    for entry in pycountry.countries:
        code = entry.alpha_3
        countries[code] = Country(
            code=code,
            name_zh=CHINESE_NAME_OVERRIDES.get(code) or chinese.gettext(entry.name),
            name_en=ENGLISH_NAME_OVERRIDES.get(code, entry.name),
        )
    return countries


@cache
def _ports() -> dict[str, Port]:
    rows = csv.DictReader(io.StringIO(_read_text("ports.csv.gz")))
    return {
        row["code"]: Port(
            code=row["code"],
            name=row["name"],
            country_code=row["country"],
            is_seaport=row["seaport"] == "1",
            is_airport=row["airport"] == "1",
        )
        for row in rows
    }


@cache
def _ports_by_country() -> dict[str, tuple[Port, ...]]:
    grouped: dict[str, list[Port]] = {}
    for port in _ports().values():
        grouped.setdefault(port.country_code, []).append(port)
    return {code: tuple(ports) for code, ports in grouped.items()}


def agreements() -> list[Agreement]:
    return list(_agreements().values())


def agreement(code: str) -> Agreement | None:
    return _agreements().get(code)


def country(code: str) -> Country | None:
    return _countries().get(code)


def port(code: str) -> Port | None:
    return _ports().get(code)


def partners(agreement: Agreement) -> list[Country]:
    return [_countries()[code] for code in agreement.partner_codes]


def _matches(search: str | None, *texts: str) -> bool:
    if not search:
        return True
    needle = search.strip().casefold()
    return any(needle in text.casefold() for text in texts)


def search_countries(
    *, search: str | None, agreement_code: str | None, limit: int
) -> list[Country]:
    """Countries whose code or name contains ``search``, optionally only an agreement's partners."""
    if agreement_code is None:
        pool: Iterable[Country] = _countries().values()
    else:
        found = agreement(agreement_code)
        pool = partners(found) if found else []
    return list(islice((c for c in pool if _matches(search, c.code, c.name_zh, c.name_en)), limit))


def search_ports(*, country_code: str, search: str | None, limit: int) -> list[Port]:
    """Ports of a country whose code or name contains ``search``, seaports first."""
    pool = sorted(
        _ports_by_country().get(country_code.upper(), ()),
        key=lambda p: (not p.is_seaport, p.name),
    )
    return [p for p in pool if _matches(search, p.code, p.name)][:limit]
