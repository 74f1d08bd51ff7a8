"""The small object types the rest of the schema is made of: Relay's ``Node``, enterprises, the
reference data (countries, ports, trade agreements) and the logged-in user.

Reference objects are immutable, so each is built once per process and shared by every request.
"""

from functools import cache
from typing import TypeVar

import strawberry

from db import reference
from db.identity import Viewer as ViewerData
from db.status import Role

T = TypeVar("T")


@strawberry.interface(description="节点: an object with a globally unique ID (Relay).")
class Node:
    id: strawberry.ID = strawberry.field(
        description="全局ID: the object's opaque Relay global ID, for node(id) and refetching."
    )


@strawberry.type(description="企业: an enterprise, identified by its unified social credit code.")
class Enterprise:
    uscc: str = strawberry.field(
        description="统一社会信用代码: the unified social credit code, 18 characters "
        "(GB 32100-2015, digits and capitals, with a check character)."
    )
    name: str = strawberry.field(description="企业中文名称: the enterprise's name in Chinese.")


@strawberry.type(description="国家/地区: a country or region (ISO 3166-1).")
class Country:
    code: str = strawberry.field(
        description="国家/地区代码: ISO 3166-1 alpha-3 code, 3 capital letters, e.g. KOR."
    )
    name_zh: str = strawberry.field(description="中文名称: the name in Chinese, e.g. 韩国.")
    name_en: str = strawberry.field(
        description="英文名称: the name in English, e.g. Korea, Republic of."
    )

    @classmethod
    def of(cls, country: reference.Country) -> "Country":
        return cls(code=country.code, name_zh=country.name_zh, name_en=country.name_en)


@strawberry.type(description="口岸: a port or airport of a country (UN/LOCODE).")
class Port:
    code: str = strawberry.field(
        description="口岸代码: UN/LOCODE, 5 characters (country and place), e.g. KRPUS."
    )
    name: str = strawberry.field(description="口岸名称: the port's name, e.g. Busan.")
    country_code: str = strawberry.field(
        description="国家/地区代码: the ISO 3166-1 alpha-3 code of its country, e.g. KOR."
    )
    is_seaport: bool = strawberry.field(description="是否海港: true for a seaport.")
    is_airport: bool = strawberry.field(description="是否空港: true for an airport.")

    @classmethod
    def of(cls, port: reference.Port) -> "Port":
        return cls(
            code=port.code,
            name=port.name,
            country_code=port.country_code,
            is_seaport=port.is_seaport,
            is_airport=port.is_airport,
        )


@strawberry.type(description="优惠贸易协定: one of China's preferential trade agreements.")
class TradeAgreement:
    code: str = strawberry.field(
        description="优惠贸易协定代码: the agreement's two-digit code, e.g. 19 (China–Korea) "
        "or 22 (RCEP)."
    )
    name_zh: str = strawberry.field(description="中文名称: the agreement's name in Chinese.")
    name_en: str = strawberry.field(description="英文名称: the agreement's name in English.")
    partners: list[Country] = strawberry.field(
        description="成员国家/地区: the partner parties (importing countries it applies to)."
    )

    @classmethod
    def of(cls, agreement: reference.Agreement) -> "TradeAgreement":
        return cls(
            code=agreement.code,
            name_zh=agreement.name_zh,
            name_en=agreement.name_en,
            partners=[Country.of(c) for c in reference.partners(agreement)],
        )


@strawberry.type(description="当前用户: the logged-in user.")
class Viewer:
    username: str = strawberry.field(description="用户名: the login name.")
    role: Role = strawberry.field(description="用户角色: enterprise user or customs officer.")
    enterprise: Enterprise | None = strawberry.field(
        description="所属企业: the user's enterprise; null for customs officers."
    )

    @classmethod
    def of(cls, viewer: ViewerData) -> "Viewer":
        enterprise = (
            Enterprise(uscc=viewer.enterprise_uscc, name=viewer.enterprise_name)
            if viewer.enterprise_uscc and viewer.enterprise_name
            else None
        )
        return cls(username=viewer.username, role=viewer.role, enterprise=enterprise)


@cache
def trade_agreement(code: str) -> TradeAgreement:
    return TradeAgreement.of(_stored(reference.agreement(code), "agreement", code))


@cache
def country(code: str) -> Country:
    return Country.of(_stored(reference.country(code), "country", code))


@cache
def port(code: str) -> Port:
    return Port.of(_stored(reference.port(code), "port", code))


def _stored(found: T | None, what: str, code: str) -> T:
    """A reference entry a stored row names, which must exist."""
    if found is None:
        raise LookupError(f"unknown {what} {code!r} in stored data")
    return found
