"""What a field selects (``schema.selections``), read from the document through fragments."""

import pytest
from graphql import FieldNode, FragmentDefinitionNode, OperationDefinitionNode, parse

from schema.selections import Selected

FRAGMENTS = """
fragment Files on Coordination { attachments { slot } }
fragment Deep on CoordinationConnection { edges { node { ...Files } } }
fragment Paging on CoordinationConnection { pageInfo { hasNextPage } }
fragment Loop on Coordination { ...Loop }
"""


def selected(selection: str) -> Selected:
    document = parse(f"query {{ coordinations {{ {selection} }} }}\n{FRAGMENTS}")
    [operation] = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    [field] = operation.selection_set.selections
    assert isinstance(field, FieldNode)
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return Selected([field], fragments)


@pytest.mark.parametrize(
    ("selection", "attachments", "history"),
    [
        ("totalCount", False, False),
        ("edges { node { ... on Coordination { id } } }", False, False),
        ("edges { node { ... on Coordination { attachments { id } } } }", True, False),
        ("edges { node { ...Files } }", True, False),
        ("...Deep", True, False),
        ("edges { node { ... on Coordination { h: history { to } } } }", False, True),
        ("edges { node { ...Loop } }", False, False),
        ("edges { node { ... @skip(if: true) { ...Files } } }", True, False),
    ],
)
def test_related_rows_are_read_when_selected_anywhere(
    selection: str, attachments: bool, history: bool
) -> None:
    details = selected(selection).details
    assert (details.attachments, details.history) == (attachments, history)


@pytest.mark.parametrize(
    ("selection", "path", "expected"),
    [
        ("totalCount", ("totalCount",), True),
        ("count: totalCount", ("totalCount",), True),
        ("pageInfo { endCursor }", ("pageInfo", "hasNextPage"), False),
        ("pageInfo { hasNextPage }", ("pageInfo", "hasNextPage"), True),
        ("...Paging", ("pageInfo", "hasNextPage"), True),
        ("edges { node { ...Files } }", ("totalCount",), False),
        (
            "a: pageInfo { endCursor } b: pageInfo { hasNextPage }",
            ("pageInfo", "hasNextPage"),
            True,
        ),
    ],
)
def test_a_path_is_requested_by_field_names_through_fragments(
    selection: str, path: tuple[str, ...], expected: bool
) -> None:
    assert selected(selection).requests(path) is expected
