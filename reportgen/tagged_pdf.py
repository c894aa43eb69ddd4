"""What a tagged PDF/UA brief needs beyond WeasyPrint's own tagging.

WeasyPrint 70 writes the structure tree of `pdf_variant="pdf/ua-1"`: headings,
paragraphs, lists, tables with header ids, figures with their alt text, backgrounds and
rules as artifacts. A few things a screen reader (and a PDF/UA checker) still trips on
are left, and `finish` mends them on the finished object graph, before it is written:

- table header cells carry no /Scope, so a header that no data cell lists (the corner
  cell of a table whose rows have headers) is tied to nothing;
- the running header and the page numbers are tagged content outside the document's
  tree: a reader would announce "Page 3 of 15" on every page; they become /Artifact
  /Pagination, as ISO 14289-1 asks;
- empty elements (the colour swatch beside a segment name) are read as nothing at all,
  so they leave the tree;
- a link whose text holds an inline element (the `<bdi>` around a segment name in the
  contents) gets a second annotation inside that element instead of the link;
- link annotations lack the Print flag, so screen and print would differ.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pydyf

_PRINT = 4
"""Annotation flag bit 3: the annotation is printed (and so, kept by readers)."""


def _number(reference: Any) -> int | None:
    """The object number of an indirect reference ("12 0 R"), None for anything else."""
    text = reference.decode() if isinstance(reference, bytes) else str(reference)
    parts = text.split()
    if len(parts) == 3 and parts[2] == "R" and parts[0].isdigit():
        return int(parts[0])
    return None


class _Graph:
    """The PDF's objects by number, as pydyf keeps them before writing."""

    def __init__(self, pdf: pydyf.PDF) -> None:
        self.objects = {obj.number: obj for obj in pdf.objects if getattr(obj, "number", None)}

    def get(self, reference: Any) -> Any:
        number = _number(reference)
        return None if number is None else self.objects.get(number)

    def kids(self, element: pydyf.Dictionary) -> Iterator[pydyf.Dictionary]:
        for kid in element.get("K", ()):
            target = self.get(kid)
            if isinstance(target, pydyf.Dictionary) and target.get("Type") == "/StructElem":
                yield target


def _reachable(graph: _Graph, root: pydyf.Dictionary) -> set[int]:
    seen: set[int] = set()
    stack = list(graph.kids(root))
    while stack:
        element = stack.pop()
        if element.number not in seen:
            seen.add(element.number)
            stack.extend(graph.kids(element))
    return seen


def _scope_headers(graph: _Graph, elements: list[pydyf.Dictionary]) -> None:
    """A header cell heads its row when a data cell of its own row names it (WeasyPrint
    lists a `scope="row"` header there), else its column."""
    for row in (e for e in elements if e.get("S") == "/TR"):
        cells = list(graph.kids(row))
        named = {
            getattr(header, "string", header)
            for cell in cells
            if cell.get("S") == "/TD"
            for header in cell.get("A", {}).get("Headers", ())
        }
        for cell in cells:
            if cell.get("S") == "/TH":
                own = getattr(cell.get("ID"), "string", None)
                cell.setdefault("A", pydyf.Dictionary({"O": "/Table"}))
                cell["A"]["Scope"] = "/Row" if own in named else "/Column"


def _drop_empty(graph: _Graph, element: pydyf.Dictionary) -> bool:
    """Remove empty inline elements below `element`; True when `element` is empty itself."""
    kept = pydyf.Array()
    for kid in element.get("K", ()):
        target = graph.get(kid)
        is_element = isinstance(target, pydyf.Dictionary) and target.get("Type") == "/StructElem"
        if is_element and _drop_empty(graph, target):
            continue
        kept.append(kid)
    element["K"] = kept
    return (
        not kept
        and element.get("S") in ("/Span", "/NonStruct")
        and "Alt" not in element
        and "ActualText" not in element
    )


def _pagination_artifacts(
    graph: _Graph, pdf: pydyf.PDF, root: pydyf.Dictionary, orphans: list[pydyf.Dictionary]
) -> None:
    """Mark the content of elements outside the tree (the margin boxes) as pagination
    artifacts, and unlink it from the parent tree, whose per-page arrays are indexed by
    marked-content id."""
    pages = {_number(reference): index for index, reference in enumerate(pdf.page_references)}
    marked: dict[int, set[int]] = {}
    for element in orphans:
        page = pages.get(_number(element.get("Pg")))
        for kid in element.get("K", ()):
            if isinstance(kid, int) and page is not None:
                marked.setdefault(page, set()).add(kid)
    rewritten: dict[int, set[int]] = {}
    for page, mcids in marked.items():
        ops = graph.get(graph.get(pdf.page_references[page])["Contents"]).stream
        for i in range(len(ops) - 2):
            properties = ops[i + 1]
            if (
                ops[i + 2] == b"BDC"
                and isinstance(properties, pydyf.Dictionary)
                and properties.get("MCID") in mcids
            ):
                ops[i : i + 2] = ["/Artifact", pydyf.Dictionary({"Type": "/Pagination"})]
                rewritten.setdefault(page, set()).add(properties["MCID"])
    # Only what became an artifact leaves the parent tree: content drawn elsewhere (a
    # translucent margin box's group) keeps its entry, tagged if not in the tree.
    nums = graph.get(root["ParentTree"])["Nums"]
    for key, value in zip(nums[::2], nums[1::2], strict=True):
        if isinstance(value, pydyf.Array):  # a page's array; annotations map to one element
            for mcid in rewritten.get(key, ()):
                value[mcid] = "null"


def _links_in_links(
    graph: _Graph, root: pydyf.Dictionary, elements: list[pydyf.Dictionary]
) -> None:
    """Move a link annotation held by an element inside a /Link up to that /Link, in the
    element's children and in the parent tree, which maps the annotation to its element."""
    nums = graph.get(root["ParentTree"])["Nums"]
    owner = {nums[i]: i + 1 for i in range(0, len(nums), 2)}
    for element in elements:
        if element.get("S") == "/Link":
            continue
        link = graph.get(element.get("P"))
        while link is not None and link.get("S") not in ("/Link", None):
            link = graph.get(link.get("P"))
        if link is None or link.get("S") != "/Link":
            continue
        for kid in list(element.get("K", ())):
            reference = graph.get(kid)
            if isinstance(reference, pydyf.Dictionary) and reference.get("Type") == "/OBJR":
                element["K"].remove(kid)
                link["K"].append(kid)
                annotation = graph.get(reference["Obj"])
                nums[owner[annotation["StructParent"]]] = link.reference


def finish(document: Any, pdf: pydyf.PDF) -> None:
    """WeasyPrint's finisher: mend the structure tree of a `pdf/ua-1` brief."""
    graph = _Graph(pdf)
    root = graph.get(pdf.catalog["StructTreeRoot"])
    reachable = _reachable(graph, root)
    elements = [
        obj
        for obj in graph.objects.values()
        if isinstance(obj, pydyf.Dictionary) and obj.get("Type") == "/StructElem"
    ]
    in_tree = [e for e in elements if e.number in reachable]
    _scope_headers(graph, in_tree)
    _links_in_links(graph, root, in_tree)
    _pagination_artifacts(graph, pdf, root, [e for e in elements if e.number not in reachable])
    for top in graph.kids(root):
        _drop_empty(graph, top)
    for obj in graph.objects.values():
        if isinstance(obj, pydyf.Dictionary) and obj.get("Subtype") == "/Link":
            obj["F"] = int(obj.get("F", 0)) | _PRINT
