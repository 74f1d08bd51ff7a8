"""What shapes the objects of one request: the viewer's role and language."""

from dataclasses import dataclass

from db.status import Role
from schema.messages import Language


@dataclass(frozen=True)
class Presentation:
    role: Role
    language: Language
