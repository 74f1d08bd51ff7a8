"""The GraphQL multipart request (https://github.com/jaydenseric/graphql-multipart-request-spec),
read strictly.

A multipart request carries ``operations`` (the JSON request, each file replaced by ``null``),
``map`` (each file's form field name → the paths of the ``null``\\s it replaces, such as
``variables.file``, or ``1.variables.file`` in a batch) and the files. Strawberry puts the files in
place without checking the paths, and a path through a string, a number or an earlier file, a list
index out of range or a map that is not an object raised ``TypeError`` or ``IndexError``: a 500,
before login. So every path is checked against ``operations`` first, and anything the spec does
not describe is a 400 (``BAD_REQUEST``):

- ``operations`` and ``map`` are text fields, ``map`` a JSON object of non-empty lists of strings;
- every key of ``map`` names a file part of the form;
- every path leads into ``variables`` (of the operation it indexes, in a batch), through objects
  by key and lists by index (``0``, ``1``…, in range), to a ``null``, and no path is given twice.

A file may fill several paths (the spec allows it: the resolvers read it from the start each time).
The parser's own refusals (more than 1,000 fields or files, a text field over 1 MiB, a malformed
body) are 400s in JSON too: Starlette would answer them in plain text.
"""

import re
from collections.abc import Callable, Mapping
from typing import Any

from cross_web import AsyncHTTPRequestAdapter
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from strawberry.file_uploads.utils import replace_placeholders_with_files

from api.refusals import Refused
from schema.messages import Text
from schema.refusals import (
    MAP_NOT_AN_OBJECT,
    MAP_NOT_PATHS,
    MAP_NOT_TO_NULL,
    MAP_OUTSIDE_VARIABLES,
    MAP_REPEATED_PATH,
    MAP_UNKNOWN_FILE,
    MULTIPART_FIELD_NOT_TEXT,
    MULTIPART_LIMIT,
    MULTIPART_UNPARSABLE,
)

# A list index: no sign, no padding, and short enough for int() (which refuses 4,300 digits).
INDEX = re.compile(r"0|[1-9][0-9]{0,8}")
_MISSING = object()
SHOWN = 100  # characters of a client's key or path quoted back in a message


def _quoted(text: str) -> str:
    return f"`{text if len(text) <= SHOWN else text[:SHOWN] + '…'}`"


def _refused(text: Text, **params: str) -> Refused:
    return Refused(400, text, params)


async def read_form(
    request: AsyncHTTPRequestAdapter,
    parse_json: Callable[[str], Any],
    decode_json: Callable[[str], object],
) -> Any:
    """``operations`` with the files in place, or a 400 for anything malformed.

    ``parse_json`` reads ``operations`` as a request body (an object, or a list of them);
    ``decode_json`` reads ``map`` (any JSON value, checked here)."""
    try:
        form = await request.get_form_data()
    except StarletteHTTPException as error:  # its MultiPartException, as plain text
        raise _refused(MULTIPART_LIMIT, detail=error.detail) from None
    except ValueError:
        raise _refused(MULTIPART_UNPARSABLE) from None
    operations = parse_json(_text_field(form.form, "operations"))
    file_map = decode_json(_text_field(form.form, "map"))
    files = {name: value for name, value in form.files.items() if isinstance(value, UploadFile)}
    return replace_placeholders_with_files(operations, checked(operations, file_map, files), files)


def _text_field(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name, "{}")  # Strawberry's default: then "no query" or "no files"
    if not isinstance(value, str):
        raise _refused(MULTIPART_FIELD_NOT_TEXT, name=name)
    return value


def checked(
    operations: Any, file_map: object, files: Mapping[str, UploadFile]
) -> dict[str, list[str]]:
    """``file_map``, once it fits ``operations`` and ``files`` exactly; a 400 otherwise."""
    if not isinstance(file_map, dict):
        raise _refused(MAP_NOT_AN_OBJECT)
    seen: set[str] = set()
    for name, paths in file_map.items():
        if not isinstance(paths, list) or not paths or not all(isinstance(p, str) for p in paths):
            raise _refused(MAP_NOT_PATHS)
        if name not in files:
            raise _refused(MAP_UNKNOWN_FILE, name=_quoted(name))
        for path in paths:
            if path in seen:
                raise _refused(MAP_REPEATED_PATH, path=_quoted(path))
            seen.add(path)
            _check_path(operations, path)
    return file_map


def _check_path(operations: Any, path: str) -> None:
    keys = path.split(".")
    # One operation: ``variables.…``; a batch: ``<index>.variables.…``.
    start = 2 if isinstance(operations, list) else 1
    if len(keys) <= start or keys[start - 1] != "variables":
        raise _refused(MAP_OUTSIDE_VARIABLES, path=_quoted(path))
    value: Any = operations
    for key in keys:
        if isinstance(value, dict) and key in value:
            value = value[key]
        elif isinstance(value, list) and INDEX.fullmatch(key) and int(key) < len(value):
            value = value[int(key)]
        else:
            value = _MISSING
            break
    if value is not None:
        raise _refused(MAP_NOT_TO_NULL, path=_quoted(path))
