"""Reference data over HTTP: agreements, countries and ports, searchable as the seed's pickers."""

import csv
from pathlib import Path

import pytest

from tests.support import Actor, Api, Factory

AGREEMENTS_CSV = Path(__file__).parents[2] / "db" / "reference" / "agreements.csv"


@pytest.fixture
async def alice(factory: Factory) -> Actor:
    return await factory.enterprise_user()


async def test_trade_agreements_are_the_shipped_table(api: Api, alice: Actor) -> None:
    data = await api.data(
        "{ tradeAgreements { code nameZh nameEn partners { code } } }", actor=alice
    )
    with AGREEMENTS_CSV.open(encoding="utf-8") as handle:
        expected = [
            {
                "code": row["code"],
                "nameZh": row["name_zh"],
                "nameEn": row["name_en"],
                "partners": [{"code": c} for c in row["partners"].split()],
            }
            for row in csv.DictReader(handle)
        ]
    assert data["tradeAgreements"] == expected
    rcep = next(a for a in data["tradeAgreements"] if a["code"] == "22")
    assert len(rcep["partners"]) == 14


@pytest.mark.parametrize(
    ("search", "code"),
    [
        ("韩国", "KOR"),
        ("korea, rep", "KOR"),
        ("kor", "KOR"),
        ("中国台湾", "TWN"),
        ("柬埔寨", "KHM"),
    ],
)
async def test_countries_are_found_by_chinese_or_english_name_or_code(
    api: Api, alice: Actor, search: str, code: str
) -> None:
    data = await api.data(
        "query($s: String) { countries(search: $s, first: 100) { code nameZh nameEn } }",
        {"s": search},
        actor=alice,
    )
    assert code in [c["code"] for c in data["countries"]]


async def test_customs_names_override_the_iso_translation(api: Api, alice: Actor) -> None:
    data = await api.data('{ countries(search: "HKG") { code nameZh nameEn } }', actor=alice)
    assert data["countries"] == [
        {"code": "HKG", "nameZh": "中国香港", "nameEn": "Hong Kong, China"}
    ]


async def test_countries_of_an_agreement_are_its_partners(api: Api, alice: Actor) -> None:
    data = await api.data('{ countries(agreementCode: "19") { code nameZh } }', actor=alice)
    assert data["countries"] == [{"code": "KOR", "nameZh": "韩国"}]
    data = await api.data(
        '{ countries(agreementCode: "22", search: "日本") { code } }', actor=alice
    )
    assert data["countries"] == [{"code": "JPN"}]
    data = await api.data('{ countries(agreementCode: "99") { code } }', actor=alice)
    assert data["countries"] == []


async def test_ports_of_a_country_are_searchable_by_name_and_code(api: Api, alice: Actor) -> None:
    data = await api.data(
        '{ ports(countryCode: "KOR", search: "busan") { code name countryCode isSeaport } }',
        actor=alice,
    )
    assert {"code": "KRPUS", "name": "Busan", "countryCode": "KOR", "isSeaport": True} in data[
        "ports"
    ]
    data = await api.data('{ ports(countryCode: "kor", search: "KRINC") { code } }', actor=alice)
    assert data["ports"] == [{"code": "KRINC"}]
    data = await api.data('{ ports(countryCode: "XYZ") { code } }', actor=alice)
    assert data["ports"] == []


async def test_first_bounds_the_answer(api: Api, alice: Actor) -> None:
    data = await api.data(
        '{ countries(first: 5) { code } ports(countryCode: "JPN", first: 3) { code } }', actor=alice
    )
    assert len(data["countries"]) == 5
    assert len(data["ports"]) == 3
    default = await api.data("{ countries { code } }", actor=alice)
    assert len(default["countries"]) == 20


@pytest.mark.parametrize("first", [0, -1, 101])
async def test_first_outside_1_to_100_is_a_clear_error(api: Api, alice: Actor, first: int) -> None:
    for field in ("countries", 'ports(countryCode: "KOR", '):
        document = (
            f"{{ countries(first: {first}) {{ code }} }}"
            if field == "countries"
            else f"{{ {field}first: {first}) {{ code }} }}"
        )
        body = await api.post(document, actor=alice)
        [error] = body["errors"]
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "first"}
        assert "应在1到100之间" in error["message"]
