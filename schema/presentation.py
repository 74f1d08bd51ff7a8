"""What shapes the objects of one request: the viewer's role and language, and the signed
download and preview links issued to the viewer."""

from collections.abc import Callable
from dataclasses import dataclass

from db.status import Role
from schema.messages import Language


@dataclass(frozen=True)
class Presentation:
    role: Role
    language: Language
    download_url: Callable[[int], str]
    """The signed, short-lived URL of an attachment (by its primary key) for this viewer."""
    preview_url: Callable[[int], str]
    """The same for showing it in the browser (``inline``, sandboxed)."""
