"""What an attachment's bytes must be (SPEC §4): a PDF, a JPEG or a PNG, told by the bytes alone.

``sniff`` reads the kind a file claims from its first bytes; ``is_intact`` then checks that the file
is one, whole, by its structure, since a magic number is three to eight bytes anyone can type
(``%PDF-`` followed by a web page is not a PDF). The checks parse and never render or run anything:

- PDF: ``%%EOF`` within the last 1,024 bytes, and pypdf, strict, reads the cross-reference table,
  the trailer and the page tree, which holds at least one page. The caller checks the PDF size
  limit first, so this reads at most that much (300 KiB).
- PNG: the IHDR chunk first, then, through Pillow, every chunk's CRC up to IEND.
- JPEG: SOI, well-formed marker segments with a frame header (SOFn) before the first scan, and an
  EOI after that scan's start; Pillow reads the frame header. Data after the EOI is allowed (phone
  cameras append a video there); an EOI inside an earlier segment (a thumbnail's) does not count.
- Images: Pillow must recognise the same format, and the picture may have at most
  ``MAX_PIXELS``, so that a few bytes cannot announce an image that fills the memory of whoever
  opens it (Pillow's decompression-bomb limit). No pixel is decoded here.
"""

import io
import logging
from collections.abc import Callable

from PIL import Image
from pypdf import PdfReader

logger = logging.getLogger(__name__)

PDF, JPEG, PNG = "application/pdf", "image/jpeg", "image/png"
SIGNATURES = ((b"%PDF-", PDF), (b"\xff\xd8\xff", JPEG), (b"\x89PNG\r\n\x1a\n", PNG))
"""The allowed kinds of file, known by their first bytes; names and headers are never trusted."""
SNIFF_BYTES = 8
EXTENSIONS = {PDF: ".pdf", JPEG: ".jpg", PNG: ".png"}
NAMES = {PDF: "PDF", JPEG: "JPEG", PNG: "PNG"}

PDF_EOF_WINDOW = 1024
MAX_PIXELS = 89_478_485  # Pillow's default MAX_IMAGE_PIXELS: a quarter GiB of RGBA pixels

_FRAME_HEADERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # SOF0–SOF15 (not DHT, JPG, DAC)
_WITHOUT_LENGTH = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM and the restart markers
_START_OF_SCAN, _END_OF_IMAGE = 0xDA, b"\xff\xd9"


def sniff(head: bytes) -> str | None:
    """The content type the first bytes of a file announce, if it is one we accept."""
    for signature, content_type in SIGNATURES:
        if head.startswith(signature):
            return content_type
    return None


def is_intact(content_type: str, content: bytes) -> bool:
    """Whether ``content``, which ``sniff`` took for ``content_type``, is such a file, whole."""
    check: Callable[[bytes], bool] = {PDF: _pdf, PNG: _png, JPEG: _jpeg}[content_type]
    try:
        return check(content)
    except Exception as error:  # a parser given hostile bytes may raise anything at all
        logger.debug("not a whole %s: %s: %s", NAMES[content_type], type(error).__name__, error)
        return False


def _pdf(content: bytes) -> bool:
    if b"%%EOF" not in content[-PDF_EOF_WINDOW:]:
        return False
    return len(PdfReader(io.BytesIO(content), strict=True).pages) > 0


def _png(content: bytes) -> bool:
    if content[8:16] != b"\x00\x00\x00\x0dIHDR":  # the first chunk, 13 bytes long
        return False
    with Image.open(io.BytesIO(content), formats=["PNG"]) as image:
        if image.format != "PNG" or image.width * image.height > MAX_PIXELS:
            return False
        image.verify()  # reads every chunk up to IEND and checks its CRC
    return True


def _jpeg(content: bytes) -> bool:
    scan = _first_scan(content)
    if scan is None or content.find(_END_OF_IMAGE, scan) < 0:
        return False
    with Image.open(io.BytesIO(content), formats=["JPEG"]) as image:
        # MPO is the JPEG of cameras that store several pictures in one file.
        return image.format in ("JPEG", "MPO") and image.width * image.height <= MAX_PIXELS


def _first_scan(content: bytes) -> int | None:
    """Where the first scan's coded data begins, if SOI, well-formed segments and a frame header
    come before it."""
    if not content.startswith(b"\xff\xd8"):
        return None
    at, framed = 2, False
    while at + 1 < len(content):
        if content[at] != 0xFF:
            return None
        if content[at + 1] == 0xFF:  # a fill byte before a marker
            at += 1
            continue
        marker = content[at + 1]
        if marker in _WITHOUT_LENGTH:
            at += 2
            continue
        length = int.from_bytes(content[at + 2 : at + 4], "big")
        end = at + 2 + length
        if marker in (0x00, 0xD8, 0xD9) or length < 2 or end > len(content):
            return None
        framed = framed or marker in _FRAME_HEADERS
        if marker == _START_OF_SCAN:
            return end if framed else None
        at = end
    return None
