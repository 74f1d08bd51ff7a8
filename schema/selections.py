"""What a query selects below a field: to read only the rows it shows."""

from collections.abc import Iterable, Sequence

from strawberry.types import Info
from strawberry.types.nodes import SelectedField, Selection

from db.queries import Details


def requests(selections: Iterable[Selection], path: Sequence[str]) -> bool:
    """Whether the query selects ``path`` (field names, through any fragments)."""
    for selection in selections:
        if not isinstance(selection, SelectedField):
            if requests(selection.selections, path):
                return True
        elif selection.name == path[0] and (
            len(path) == 1 or requests(selection.selections, path[1:])
        ):
            return True
    return False


def mentions(selections: Iterable[Selection], name: str) -> bool:
    """Whether a field called ``name`` is selected anywhere below (conservatively: any depth)."""
    return any(
        (isinstance(selection, SelectedField) and selection.name == name)
        or mentions(selection.selections, name)
        for selection in selections
    )


def details(selections: Iterable[Selection]) -> Details:
    """The related rows of a request that the selections show, at any depth."""
    chosen = list(selections)
    return Details(attachments=mentions(chosen, "attachments"), history=mentions(chosen, "history"))


def details_below(info: Info) -> Details:
    """``details`` of what the current field selects."""
    return details(info.selected_fields[0].selections)
