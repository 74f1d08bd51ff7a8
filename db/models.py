"""The stored data: SQLAlchemy models, the same on SQLite and PostgreSQL.

Every relationship is ``raise`` by default: code that needs related rows loads them explicitly
(``selectinload``), so an accidental lazy load fails loudly instead of issuing a query per row.
"""

import datetime as dt
import enum

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Dialect,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from db.status import ACTIVE_STATES, Role, Status

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
Id = BigInteger().with_variant(Integer(), "sqlite")


class CoordinationType(enum.Enum):
    CUSTOMS_CERTIFICATE = "CUSTOMS_CERTIFICATE"
    APPROVED_EXPORTER_DECLARATION = "APPROVED_EXPORTER_DECLARATION"
    RULING_DECLARATION = "RULING_DECLARATION"
    CCPIT_CERTIFICATE = "CCPIT_CERTIFICATE"


class AttachmentSlot(enum.Enum):
    ORIGIN_PROOF = "ORIGIN_PROOF"
    IMPORT_DECLARATION = "IMPORT_DECLARATION"
    OTHER_1 = "OTHER_1"
    OTHER_2 = "OTHER_2"


REQUIRED_SLOTS = (AttachmentSlot.ORIGIN_PROOF, AttachmentSlot.IMPORT_DECLARATION)


class CertificateKind(enum.Enum):
    CUSTOMS_CO = "CUSTOMS_CO"
    CCPIT_CO = "CCPIT_CO"
    APPROVED_EXPORTER_DECLARATION = "APPROVED_EXPORTER_DECLARATION"
    RULING_DECLARATION = "RULING_DECLARATION"


CERTIFICATE_KIND_FOR_TYPE = {
    CoordinationType.CUSTOMS_CERTIFICATE: CertificateKind.CUSTOMS_CO,
    CoordinationType.APPROVED_EXPORTER_DECLARATION: CertificateKind.APPROVED_EXPORTER_DECLARATION,
    CoordinationType.RULING_DECLARATION: CertificateKind.RULING_DECLARATION,
    CoordinationType.CCPIT_CERTIFICATE: CertificateKind.CCPIT_CO,
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC on the way in and out, whatever the backend keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        return None if value is None else as_utc(value)


def as_utc(value: dt.datetime) -> dt.datetime:
    """A stored time as aware UTC: a naive one (SQLite) is UTC; PostgreSQL's already are."""
    if value.tzinfo is dt.UTC:
        return value
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _enum(kind: type[enum.Enum]) -> Enum:
    return Enum(kind, native_enum=False, length=32, validate_strings=True)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Enterprise(Base):
    __tablename__ = "enterprises"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(_enum(Role))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"))
    is_active: Mapped[bool] = mapped_column(server_default=text("true"), default=True)
    token_version: Mapped[int] = mapped_column(server_default=text("1"), default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    enterprise: Mapped[Enterprise | None] = relationship(lazy="raise")


def _code(length: int) -> String:
    """An upper-case code searched by prefix: byte order on PostgreSQL (``COLLATE "C"``), so that a
    prefix is exactly an index range whatever the database's locale (SQLite compares bytes)."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


ACTIVE = "status IN ({})".format(", ".join(f"'{s.value}'" for s in Status if s in ACTIVE_STATES))
"""The states of ``db.status.ACTIVE_STATES``, for the index that allows one active request per
certificate and declaration (submit relies on it alone, ``db.coordinations.submit``)."""

LISTED = "deleted_at IS NULL"
"""Only requests that are not deleted are ever listed, so the list indexes leave the others out."""


def _list_index(name: str, *columns: str) -> Index:
    return Index(name, *columns, sqlite_where=text(LISTED), postgresql_where=text(LISTED))


class Coordination(Base):
    """One coordination request of any of the four types; type-specific columns are nullable."""

    __tablename__ = "coordinations"
    __table_args__ = (
        # SPEC §6: one active request per certificate and export declaration, even under races.
        Index(
            "uq_coordinations_active_certificate_declaration",
            "certificate_no",
            "export_declaration_no",
            unique=True,
            sqlite_where=text(ACTIVE),
            postgresql_where=text(ACTIVE),
        ),
        # The list (db/listing.py) reads one range of one of these per status, in sort order:
        # scoped to an enterprise (enterprise users; customs filtering by enterprise) or not
        # (customs). A never-submitted DRAFT is ordered by created_at under SUBMITTED_AT.
        _list_index(
            "ix_coordinations_list_enterprise_submitted",
            "enterprise_id",
            "status",
            "submitted_at",
            "id",
        ),
        _list_index(
            "ix_coordinations_list_enterprise_created",
            "enterprise_id",
            "status",
            "created_at",
            "id",
        ),
        _list_index(
            "ix_coordinations_list_enterprise_number",
            "enterprise_id",
            "status",
            "coordination_no",
            "id",
        ),
        _list_index("ix_coordinations_list_submitted", "status", "submitted_at", "id"),
        _list_index("ix_coordinations_list_created", "status", "created_at", "id"),
        _list_index("ix_coordinations_list_number", "status", "coordination_no", "id"),
        # An agreement can be rare (a handful of requests): the planner reads its range and sorts
        # it rather than read a status's range in order and test the agreement on every row.
        _list_index(
            "ix_coordinations_list_enterprise_agreement",
            "enterprise_id",
            "status",
            "agreement_code",
        ),
        _list_index("ix_coordinations_list_agreement", "status", "agreement_code"),
        # Prefix searches (the coordination number's is its unique index).
        Index("ix_coordinations_certificate_no", "certificate_no"),
        Index("ix_coordinations_export_declaration_no", "export_declaration_no"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    coordination_no: Mapped[str] = mapped_column(_code(18), unique=True)
    type: Mapped[CoordinationType] = mapped_column(_enum(CoordinationType))
    status: Mapped[Status] = mapped_column(_enum(Status))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    certificate_no: Mapped[str] = mapped_column(_code(40))
    agreement_code: Mapped[str] = mapped_column(String(4))
    export_declaration_no: Mapped[str] = mapped_column(_code(18))
    import_declaration_no: Mapped[str] = mapped_column(String(64))
    import_country_code: Mapped[str | None] = mapped_column(String(3))
    import_port_code: Mapped[str | None] = mapped_column(String(5))
    approved_exporter_no: Mapped[str | None] = mapped_column(String(40))
    ruling_no: Mapped[str | None] = mapped_column(String(40))
    contact_name: Mapped[str] = mapped_column(String(50))
    contact_phone: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    customs_remark: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    enterprise: Mapped[Enterprise] = relationship(lazy="raise")
    attachments: Mapped[list["Attachment"]] = relationship(
        lazy="raise", order_by="Attachment.id", back_populates="coordination"
    )
    history: Mapped[list["StatusChange"]] = relationship(
        lazy="raise", order_by="StatusChange.id", back_populates="coordination"
    )


class StatusChange(Base):
    """One line of a request's history; actor name and role are copied so the record stays true."""

    __tablename__ = "status_changes"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    coordination_id: Mapped[int] = mapped_column(ForeignKey("coordinations.id"), index=True)
    from_status: Mapped[Status | None] = mapped_column(_enum(Status))
    to_status: Mapped[Status] = mapped_column(_enum(Status))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor_username: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[Role] = mapped_column(_enum(Role))
    remark: Mapped[str | None] = mapped_column(Text)

    coordination: Mapped[Coordination] = relationship(lazy="raise", back_populates="history")


class Attachment(Base):
    __tablename__ = "attachments"
    __table_args__ = (UniqueConstraint("coordination_id", "slot"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    coordination_id: Mapped[int] = mapped_column(ForeignKey("coordinations.id"))
    slot: Mapped[AttachmentSlot] = mapped_column(_enum(AttachmentSlot))
    file_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    coordination: Mapped[Coordination] = relationship(lazy="raise", back_populates="attachments")


class Certificate(Base):
    """The certificate registry (证书申请系统) this service reads, loaded by import."""

    __tablename__ = "certificates"
    __table_args__ = (
        # The picker (db/certificates.page): an enterprise's certificates, newest first, by keyset.
        Index(
            "ix_certificates_enterprise_issued", "enterprise_uscc", "issued_on", "certificate_no"
        ),
    )

    certificate_no: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[CertificateKind] = mapped_column(_enum(CertificateKind))
    agreement_code: Mapped[str] = mapped_column(String(4))
    enterprise_uscc: Mapped[str] = mapped_column(String(18))
    import_country_code: Mapped[str] = mapped_column(String(3))
    issued_on: Mapped[dt.date] = mapped_column(Date)

    export_declarations: Mapped[list["CertificateExportDeclaration"]] = relationship(
        lazy="raise", order_by="CertificateExportDeclaration.export_declaration_no"
    )

    @property
    def linked_declarations(self) -> list[str]:
        """The export declaration numbers linked to this certificate (loaded with it)."""
        return [link.export_declaration_no for link in self.export_declarations]


class CertificateExportDeclaration(Base):
    __tablename__ = "certificate_export_declarations"

    certificate_no: Mapped[str] = mapped_column(
        ForeignKey("certificates.certificate_no", ondelete="CASCADE"), primary_key=True
    )
    export_declaration_no: Mapped[str] = mapped_column(String(18), primary_key=True)


class CoordinationCounter(Base):
    """The last sequence number handed out per China Standard Time day (XT + date + sequence)."""

    __tablename__ = "coordination_counters"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last_value: Mapped[int] = mapped_column(BigInteger)


class LoginFailure(Base):
    """A failed login, kept long enough to decide lockouts across every worker."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_username_at", "username", "at"),
        Index("ix_login_failures_client_at", "client", "at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class PersistedQuery(Base):
    """A GraphQL document registered by a client's automatic persisted query (its SHA-256)."""

    __tablename__ = "persisted_queries"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class RevokedToken(Base):
    """A bearer token revoked by ``logout`` (by its ``jti``), kept until it would have expired."""

    __tablename__ = "revoked_tokens"
    __table_args__ = (Index("ix_revoked_tokens_expires_at", "expires_at"),)

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class WritePosition(Base):
    """Where in PostgreSQL's write-ahead log a user's latest committed change ends (SPEC §11):
    a replica that has replayed that far shows the user their own writes. Written only when a
    replica is configured (``db/replica.py``)."""

    __tablename__ = "write_positions"

    user_id: Mapped[int] = mapped_column(
        Id, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    lsn: Mapped[int] = mapped_column(BigInteger)
