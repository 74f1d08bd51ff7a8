"""Demo data for ``xhsz serve --demo``: two enterprises, their users, a customs officer, registry
certificates and a handful of saved requests of all four types. The first enterprise's requests
are in the registry, so they can be submitted once their attachments are uploaded. Seeding twice
changes nothing.
"""

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db import certificates, coordinations, identity
from db.certificates import CertificateRecord
from db.form import CoordinationForm
from db.identity import Viewer
from db.models import CERTIFICATE_KIND_FOR_TYPE, CoordinationType, User
from db.status import Role

DEMO_PASSWORD = "demo-password"  # noqa: S105 (printed for the demo on purpose)


@dataclass(frozen=True)
class DemoEnterprise:
    username: str
    uscc: str
    name: str


ENTERPRISES = (
    DemoEnterprise("demo", "91350100M000100Y43", "厦门海达进出口有限公司"),
    DemoEnterprise("demo2", "913302007178944284", "宁波东方国际贸易有限公司"),
)
CUSTOMS_USERNAME = "customs"


def _forms() -> list[CoordinationForm]:
    common = {
        "contact_name": "林晓",
        "contact_phone": "13812345678",
        "import_declaration_no": "KR-2026-0012345",
    }
    return [
        CoordinationForm(
            type=CoordinationType.CUSTOMS_CERTIFICATE,
            certificate_no="K263500000123",
            agreement_code="19",
            export_declaration_no="350120260000123456",
            import_country_code="KOR",
            import_port_code="KRPUS",
            reason="进口国海关以原产地证书签发日期晚于出运日期为由拒绝给予协定税率。",
            **common,
        ),
        CoordinationForm(
            type=CoordinationType.APPROVED_EXPORTER_DECLARATION,
            certificate_no="RCAE26350000045",
            agreement_code="22",
            export_declaration_no="35012026E000456007",
            import_country_code="JPN",
            import_port_code="JPTYO",
            approved_exporter_no="AE3501000012",
            reason="日本海关对经核准出口商编号的有效性提出质疑。",
            **common,
        ),
        CoordinationForm(
            type=CoordinationType.RULING_DECLARATION,
            certificate_no="RD2026350000078",
            agreement_code="18",
            export_declaration_no="350120260000789001",
            import_country_code="AUS",
            import_port_code="AUSYD",
            ruling_no="XM2026-0031",
            reason="澳大利亚海关未认可基于预裁定出具的原产地声明。",
            **common,
        ),
        CoordinationForm(
            type=CoordinationType.CCPIT_CERTIFICATE,
            certificate_no="CCPIT26E3501000321",
            agreement_code="02",
            export_declaration_no="350120260000321654",
            reason="越南海关认为贸促会证书的货物描述与发票不一致。",
            **common,
        ),
    ]


CCPIT_DEMO_COUNTRY = "VNM"


def _registry_entry(form: CoordinationForm, uscc: str, now: dt.datetime) -> CertificateRecord:
    """What the certificate system holds for a demo request, so that it can be submitted."""
    if form.type is None or not (
        form.certificate_no and form.agreement_code and form.export_declaration_no
    ):
        raise ValueError("the demo forms are complete")
    return CertificateRecord(
        certificate_no=form.certificate_no,
        kind=CERTIFICATE_KIND_FOR_TYPE[form.type],
        agreement_code=form.agreement_code,
        enterprise_uscc=uscc,
        import_country_code=form.import_country_code or CCPIT_DEMO_COUNTRY,
        issued_on=(now - dt.timedelta(days=30)).date(),
        export_declaration_nos=(form.export_declaration_no,),
    )


async def seed(*, session: AsyncSession, now: dt.datetime) -> bool:
    """Create the demo data unless it is there already; True when it was created."""
    if await session.scalar(select(User.id).where(User.username == ENTERPRISES[0].username)):
        return False
    password_hash = identity.hash_password(DEMO_PASSWORD)
    for index, demo in enumerate(ENTERPRISES):
        enterprise_id = await identity.ensure_enterprise(
            session=session, uscc=demo.uscc, name=demo.name, now=now
        )
        user_id = await identity.add_user(
            session=session,
            username=demo.username,
            password_hash=password_hash,
            role=Role.ENTERPRISE,
            enterprise_id=enterprise_id,
            now=now,
        )
        viewer = Viewer(
            user_id=user_id,
            username=demo.username,
            role=Role.ENTERPRISE,
            enterprise_id=enterprise_id,
            enterprise_uscc=demo.uscc,
            enterprise_name=demo.name,
        )
        for form in _forms()[: 4 if index == 0 else 2]:
            if index == 0:
                await certificates.register(
                    session=session, record=_registry_entry(form, demo.uscc, now)
                )
            await coordinations.save(
                session=session,
                viewer=viewer,
                form=form,
                coordination_id=None,
                expected_version=None,
                now=now,
            )
    await identity.add_user(
        session=session,
        username=CUSTOMS_USERNAME,
        password_hash=password_hash,
        role=Role.CUSTOMS,
        enterprise_id=None,
        now=now,
    )
    return True
