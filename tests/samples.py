"""Real files for uploads: a valid PDF, JPEG or PNG of exactly the size asked for, the same bytes on
every call (``pdf(2048)``), made by the libraries that read them (pypdf, Pillow) and padded where
each format has room for data a reader skips: a comment in a PDF page's content, a PNG's ``tEXt``
chunk, a JPEG's comment segments. Also the broken files the content checks must refuse."""

import io
import random
import string
import struct
import zlib
from functools import cache

from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DecodedStreamObject

# Letters and digits for padding: a reader takes them as text, and no format escapes them.
_ALPHANUMERIC = string.ascii_letters.encode() + string.digits.encode()
_PRINTABLE = bytes(_ALPHANUMERIC[i % len(_ALPHANUMERIC)] for i in range(256))
_JPEG_SEGMENT = 0xFFFF + 2  # marker, and a length that counts itself: at most 65,535


def filler(seed: str, size: int) -> bytes:
    return random.Random(seed).randbytes(size).translate(_PRINTABLE)


@cache
def pdf(size: int) -> bytes:
    """A one-page PDF (A4, blank) of ``size`` bytes."""
    padding = size - len(_pdf(b""))
    for _ in range(5):  # the lengths and offsets it records grow a digit now and then
        made = _pdf(filler(f"pdf{size}", max(padding, 0)))
        if len(made) in (size, size - 1):
            return made + b"\n" * (size - len(made))  # "%%EOF" may end with a line break
        padding -= len(made) - size
    raise ValueError(f"no PDF of {size} bytes")


def _pdf(padding: bytes) -> bytes:
    """The page's content is a comment of ``padding``: it draws nothing."""
    writer = PdfWriter()
    page = writer.add_blank_page(595, 842)
    content = DecodedStreamObject()
    content.set_data(b"%" + padding + b"\n")
    page.replace_contents(ArrayObject([content]))
    writer.add_metadata({"/Title": "原产地证明"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def image(kind: str) -> bytes:
    """A 4 × 4 picture, as Pillow writes it (``kind``: ``PNG`` or ``JPEG``)."""
    picture = Image.new("RGB", (4, 4), (200, 30, 30))
    out = io.BytesIO()
    picture.save(out, kind, **({"optimize": True} if kind == "JPEG" else {}))
    return out.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@cache
def png(size: int) -> bytes:
    """A PNG of ``size`` bytes: a 4 × 4 picture and a comment."""
    base = image("PNG")
    header_end = 8 + 25  # the signature and the IHDR chunk
    text = b"Comment\0"
    padding = size - len(base) - len(png_chunk(b"tEXt", text))
    if padding < 0:
        raise ValueError(f"no PNG of {size} bytes")
    comment = png_chunk(b"tEXt", text + filler(f"png{size}", padding))
    return base[:header_end] + comment + base[header_end:]


@cache
def jpeg(size: int) -> bytes:
    """A JPEG of ``size`` bytes: a 4 × 4 picture and comment segments (COM)."""
    base = image("JPEG")
    padding = size - len(base)
    segments = []
    seed = random.Random(f"jpeg{size}")
    while padding > 0:
        take = min(padding, _JPEG_SEGMENT)
        if 0 < padding - take < 4:  # a segment is at least 4 bytes: leave room for the last
            take -= 4
        if take < 4:
            raise ValueError(f"no JPEG of {size} bytes")
        body = seed.randbytes(take - 4).translate(_PRINTABLE)
        segments.append(b"\xff\xfe" + struct.pack(">H", take - 2) + body)
        padding -= take
    if padding < 0:
        raise ValueError(f"no JPEG of {size} bytes")
    return base[:2] + b"".join(segments) + base[2:]


# --- broken files -------------------------------------------------------------------------------


def without_png_chunk(content: bytes, kind: bytes) -> bytes:
    """A PNG with every chunk of ``kind`` left out."""
    out, at = [content[:8]], 8
    while at < len(content):
        (length,) = struct.unpack(">I", content[at : at + 4])
        end = at + 12 + length
        if content[at + 4 : at + 8] != kind:
            out.append(content[at:end])
        at = end
    return b"".join(out)


def with_bad_png_crc(content: bytes, kind: bytes) -> bytes:
    """A PNG whose first ``kind`` chunk has a wrong CRC."""
    at = content.index(kind) - 4
    (length,) = struct.unpack(">I", content[at : at + 4])
    crc_at = at + 8 + length
    damaged = bytearray(content)
    damaged[crc_at] ^= 0xFF
    return bytes(damaged)


def png_claiming(width: int, height: int) -> bytes:
    """A well-formed PNG whose header announces ``width`` × ``height`` pixels (its data, a few
    bytes, holds far fewer: only decoding would find out)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + png_chunk(b"IEND", b"")
    )


def jpeg_segments(content: bytes) -> list[tuple[int, int, int]]:
    """(marker, start, end) of each segment before the first scan's data."""
    found, at = [], 2
    while True:
        marker = content[at + 1]
        (length,) = struct.unpack(">H", content[at + 2 : at + 4])
        found.append((marker, at, at + 2 + length))
        if marker == 0xDA:
            return found
        at += 2 + length


def without_jpeg_segment(content: bytes, marker: int) -> bytes:
    """A JPEG with its first segment of ``marker`` left out (0xC0: the frame header)."""
    start, end = next((s, e) for m, s, e in jpeg_segments(content) if m == marker)
    return content[:start] + content[end:]


def jpeg_claiming(width: int, height: int) -> bytes:
    """A JPEG whose frame header announces ``width`` × ``height`` pixels."""
    content = bytearray(image("JPEG"))
    start = next(s for m, s, _ in jpeg_segments(bytes(content)) if m == 0xC0)
    content[start + 5 : start + 9] = struct.pack(">HH", height, width)
    return bytes(content)


def pdf_with(*, pages: int = 1, encrypt: str | None = None, user_password: str = "") -> bytes:
    """A PDF of blank pages, encrypted with ``encrypt`` (e.g. ``AES-256``) when given; without a
    user password any reader opens it, the owner password only guards editing."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    if encrypt:
        writer.encrypt(user_password=user_password, owner_password="owner", algorithm=encrypt)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
