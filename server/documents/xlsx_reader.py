"""Reading the cells of an uploaded ``.xlsx`` workbook as text, streaming, with hardened lxml.

For data uploads (a commune's household list) rather than forms: the worksheet's XML is
streamed once with lxml (no DTD, no entities, no network, no huge trees), each row and cell
dropped as soon as it is read, and only the cells that are present are returned.  Call it only
after :func:`server.documents.spreadsheets.check_xlsx` has bounded the archive (entries, bytes
once unzipped, rows, cells).

Why not openpyxl's read-only mode: it fills the gaps a worksheet declares — a two-row file whose
second row is numbered 1 048 576, or whose dimension says ``A1:XFD1048576``, makes it yield a
million empty rows of 16 384 cells — and it builds a Python cell object per cell, ten times
slower than this for a 5 000-row list.  Nothing here evaluates a formula: a cell that has one is
returned with ``formula=True`` and its text (the formula's cached result if any), so that the
caller can refuse it.  Macros (``vbaProject.bin``) are never opened.
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO

from lxml import etree

_MAIN = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",
)
_RELATIONSHIPS = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "http://purl.oclc.org/ooxml/officeDocument/relationships",
)
_PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_HARDENED = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "huge_tree": False,
}
_ROW = frozenset(f"{{{ns}}}row" for ns in _MAIN)
_SI = frozenset(f"{{{ns}}}si" for ns in _MAIN)


class UnreadableWorkbook(Exception):
    """The archive is not a workbook this reader understands."""


@dataclass(frozen=True, slots=True)
class Cell:
    text: str
    formula: bool


@dataclass(frozen=True, slots=True)
class SheetInfo:
    name: str
    path: str  # the worksheet's entry in the archive


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _parse(archive: zipfile.ZipFile, name: str) -> etree._Element:
    parser = etree.XMLParser(**_HARDENED)
    with archive.open(name) as stream:
        return etree.parse(stream, parser).getroot()


def _relationships(archive: zipfile.ZipFile, part: str) -> list[tuple[str, str, str]]:
    """(id, type, target resolved against ``part``) of a part's relationships."""
    folder, base = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", f"{base}.rels")
    if rels not in archive.NameToInfo:
        return []
    found = []
    for rel in _parse(archive, rels):
        if rel.tag != f"{{{_PACKAGE_RELS}}}Relationship":
            continue
        target = rel.get("Target", "")
        target = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
        found.append((rel.get("Id", ""), rel.get("Type", ""), posixpath.normpath(target)))
    return found


class Workbook:
    """An opened workbook: its sheets (:attr:`sheets`) and their rows (:meth:`rows`)."""

    def __init__(self, content: bytes) -> None:
        try:
            self._archive = zipfile.ZipFile(BytesIO(content))
            document = next(
                (
                    t
                    for _i, kind, t in _relationships(self._archive, "")
                    if kind.endswith("/officeDocument")
                ),
                "xl/workbook.xml",
            )
            if document not in self._archive.NameToInfo:
                raise UnreadableWorkbook(document)
            rels = _relationships(self._archive, document)
            targets = {rel_id: target for rel_id, _kind, target in rels}
            self.sheets = []
            for element in _parse(self._archive, document).iter():
                if _local(element.tag) != "sheet":
                    continue
                rel_id = next(
                    (
                        element.get(f"{{{ns}}}id")
                        for ns in _RELATIONSHIPS
                        if element.get(f"{{{ns}}}id")
                    ),
                    None,
                )
                path = targets.get(rel_id or "")
                if path and path in self._archive.NameToInfo:
                    self.sheets.append(SheetInfo(element.get("name", "")[:100], path))
            strings = next((t for _i, kind, t in rels if kind.endswith("/sharedStrings")), None)
            self._shared = self._shared_strings(strings) if strings else []
        except (zipfile.BadZipFile, KeyError, OSError, EOFError, ValueError, etree.XMLSyntaxError):
            raise UnreadableWorkbook("corrupt") from None

    def _shared_strings(self, path: str) -> list[str]:
        if path not in self._archive.NameToInfo:
            return []
        strings = []
        with self._archive.open(path) as stream:
            for _event, element in etree.iterparse(
                stream, events=("end",), tag=list(_SI), **_HARDENED
            ):
                strings.append(_text_of(element))
                element.clear(keep_tail=True)
        return strings

    def rows(self, sheet: SheetInfo, max_columns: int) -> Iterator[tuple[int, list[Cell]]]:
        """(row number, its first ``max_columns`` cells, missing ones empty) of every row present
        in the worksheet, in order.

        :raises UnreadableWorkbook: for a worksheet that is not well-formed.
        """
        empty = Cell("", False)
        try:
            with self._archive.open(sheet.path) as stream:
                number = 0
                for _event, row in etree.iterparse(
                    stream, events=("end",), tag=list(_ROW), **_HARDENED
                ):
                    number = _int(row.get("r"), number + 1)
                    cells: dict[int, Cell] = {}
                    position = -1
                    for cell in row:
                        if _local(cell.tag) != "c":
                            continue
                        position = _column(cell.get("r"), position + 1)
                        if position < max_columns:
                            cells[position] = self._cell(cell)
                    row.clear(keep_tail=True)
                    while row.getprevious() is not None:
                        del row.getparent()[0]
                    if cells:
                        width = max(cells) + 1
                        yield number, [cells.get(i, empty) for i in range(width)]
        except (zipfile.BadZipFile, KeyError, OSError, EOFError, etree.XMLSyntaxError):
            raise UnreadableWorkbook(sheet.path) from None

    def _cell(self, cell) -> Cell:
        kind = cell.get("t", "n")
        value = formula = None
        for child in cell:
            name = _local(child.tag)
            if name == "v":
                value = child.text or ""
            elif name == "f":
                formula = True
            elif name == "is":
                value = _text_of(child)
        text = value or ""
        if kind == "s" and value:
            index = _int(value, -1)
            text = self._shared[index] if 0 <= index < len(self._shared) else ""
        elif kind == "b":
            text = "TRUE" if value == "1" else "FALSE" if value == "0" else text
        elif kind == "n" and value:
            text = _number(value)
        return Cell(text, bool(formula))


def _text_of(element) -> str:
    """A shared or inline string's text: its ``t`` runs, phonetic runs (``rPh``) left out."""
    parts = []
    for node in element.iter():
        if _local(node.tag) == "t":
            parent = node.getparent()
            if parent is not None and _local(parent.tag) == "rPh":
                continue
            parts.append(node.text or "")
    return "".join(parts)


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def _column(reference: str | None, default: int) -> int:
    """``"C12"`` → 2 (0-based column)."""
    if not reference:
        return default
    index = 0
    for char in reference:
        if "A" <= char <= "Z":
            index = index * 26 + ord(char) - 64
        else:
            break
    return index - 1 if index else default


def _number(value: str) -> str:
    """A number as a person typed it: ``"101"``, ``"1.5"`` (``"101.0"`` → ``"101"``)."""
    try:
        number = float(value)
    except ValueError:
        return value
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return value
