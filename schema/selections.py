"""What a query selects below a field: to read only the rows it shows.

Read from the document itself, through fragments, by field name (not alias), whatever
``@skip``/``@include`` say (so at worst a little more is read than shown). That depends only on the
field's nodes in a document, and documents are cached (``schema/guard.py``): so the answer is kept
per field node, and the list's resolver asks it without converting the selection for every request
(as Strawberry's ``info.selected_fields`` does).
"""

import operator
from collections.abc import Iterable, Iterator, Mapping, Sequence

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionNode,
)
from strawberry.types import Info

from db.queries import Details

MAX_REMEMBERED = 4096


class Selected:
    """The selection set of one field (of all its nodes, as graphql-core merges them)."""

    __slots__ = ("_fragments", "_nodes", "details")

    def __init__(
        self, nodes: Sequence[FieldNode], fragments: Mapping[str, FragmentDefinitionNode]
    ) -> None:
        self._nodes = nodes
        self._fragments = fragments
        self.details = Details(
            attachments=self.mentions("attachments"), history=self.mentions("history")
        )

    def requests(self, path: Sequence[str]) -> bool:
        """Whether the field selects ``path`` (field names, through any fragments)."""
        return _requests(self._below(self._nodes), path, self._fragments, set())

    def mentions(self, name: str) -> bool:
        """Whether a field called ``name`` is selected anywhere below (at any depth)."""
        return _mentions(self._below(self._nodes), name, self._fragments, set())

    @staticmethod
    def _below(nodes: Iterable[FieldNode]) -> list[SelectionNode]:
        return [s for node in nodes if node.selection_set for s in node.selection_set.selections]


def _fields(
    selections: Iterable[SelectionNode],
    fragments: Mapping[str, FragmentDefinitionNode],
    seen: set[str],
) -> Iterator[FieldNode]:
    """The fields of one level of a selection set, through its fragments (a named fragment once:
    an unknown or repeated one, which validation refuses anyway, stands for nothing)."""
    for selection in selections:
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields(selection.selection_set.selections, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            definition = fragments.get(name)
            if definition is not None and name not in seen:
                seen.add(name)
                yield from _fields(definition.selection_set.selections, fragments, seen)


def _below(field: FieldNode) -> Sequence[SelectionNode]:
    return field.selection_set.selections if field.selection_set else ()


def _requests(
    selections: Iterable[SelectionNode],
    path: Sequence[str],
    fragments: Mapping[str, FragmentDefinitionNode],
    seen: set[str],
) -> bool:
    return any(
        field.name.value == path[0]
        and (len(path) == 1 or _requests(_below(field), path[1:], fragments, set(seen)))
        for field in _fields(selections, fragments, seen)
    )


def _mentions(
    selections: Iterable[SelectionNode],
    name: str,
    fragments: Mapping[str, FragmentDefinitionNode],
    seen: set[str],
) -> bool:
    return any(
        field.name.value == name or _mentions(_below(field), name, fragments, seen)
        for field in _fields(selections, fragments, seen)
    )


_remembered: dict[tuple[int, ...], tuple[tuple[FieldNode, ...], Selected]] = {}


def selected(info: Info) -> Selected:
    """What the current field selects; remembered per field nodes (by identity: the nodes are
    kept with the answer, so recycled ids never match)."""
    raw = info._raw_info
    nodes = tuple(raw.field_nodes)
    key = tuple(map(id, nodes))
    found = _remembered.get(key)
    if found is not None and all(map(operator.is_, found[0], nodes)):
        return found[1]
    answer = Selected(nodes, raw.fragments)
    if len(_remembered) >= MAX_REMEMBERED:
        _remembered.pop(next(iter(_remembered)))
    _remembered[key] = (nodes, answer)
    return answer


def details_below(info: Info) -> Details:
    """The related rows of a request that the current field shows, at any depth."""
    return selected(info).details
