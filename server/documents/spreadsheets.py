"""Spreadsheets in and out: bounded reading of uploaded ``.xlsx`` files, inert writing.

Reading.  An ``.xlsx`` file is a zip of XML documents, so a 2 MB upload can hold gigabytes
(a "zip bomb") or hundreds of thousands of rows that pyxform and openpyxl would load whole.
:func:`check_xlsx` looks at the archive before any spreadsheet library does: the number of
entries, the declared uncompressed total and each large entry's compression ratio, then it
decompresses every entry once, counting the bytes actually produced (a header may lie about
sizes) and streaming the worksheets' XML to count rows and cells, stopping at the first bound
crossed.  Memory stays at one decompression buffer plus one XML element.

Writing.  openpyxl stores a string that starts with ``=`` as a formula, so a household head
named ``=HYPERLINK("http://evil","x")`` would become a live formula in a commune's export.
Every XLSX writer of the app appends ``text_row(sheet, values)`` (:func:`text_row`,
:func:`text_cell`): each string becomes a cell typed as text explicitly.  :func:`csv_text`
neutralises a CSV field the OWASP way (a leading ``'`` before ``= + - @``, tab or carriage
return) for CSV meant for spreadsheet programs (the audit log export).  The ``households.csv``
and ``villages.csv`` media are data for ODK Collect, not for a spreadsheet, and stay verbatim.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from io import BytesIO
from typing import Any

from lxml import etree
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

from server.errors import AppError
from server.i18n import vi_number

# SpreadsheetML's main namespace, transitional and strict.
_SHEET_NAMESPACES = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",
)
_ROW_TAGS = frozenset(f"{{{ns}}}row" for ns in _SHEET_NAMESPACES)
_CELL_TAGS = frozenset(f"{{{ns}}}c" for ns in _SHEET_NAMESPACES)
_STRING_TAGS = frozenset(f"{{{ns}}}si" for ns in _SHEET_NAMESPACES)  # shared strings
_CHUNK = 64 * 1024
# Entries smaller than this are not checked for their compression ratio: they cannot hurt, and
# a short run of identical XML compresses well.
_RATIO_MIN_BYTES = 1_000_000


@dataclass(frozen=True, slots=True)
class XlsxLimits:
    max_entries: int
    max_unzipped_bytes: int
    max_ratio: int
    max_rows: int  # per worksheet
    max_cells: int  # all worksheets together

    @classmethod
    def from_config(cls, config: Any, prefix: str = "MAX_XLSFORM") -> XlsxLimits:
        return cls(
            max_entries=int(config[f"{prefix}_ZIP_ENTRIES"]),
            max_unzipped_bytes=int(config[f"{prefix}_UNZIPPED_BYTES"]),
            max_ratio=int(config[f"{prefix}_COMPRESSION_RATIO"]),
            max_rows=int(config[f"{prefix}_ROWS"]),
            max_cells=int(config[f"{prefix}_CELLS"]),
        )


@dataclass(frozen=True, slots=True)
class XlsxSize:
    entries: int
    unzipped_bytes: int
    rows: dict[str, int]  # worksheet entry → rows
    cells: int


def _too_large(what_vi: str, what_en: str, detail_vi: str, detail_en: str) -> AppError:
    return AppError(
        "spreadsheet.too_large",
        413,
        f"{what_vi} quá lớn hoặc quá phức tạp: {detail_vi}. Hãy chia nhỏ bảng tính hoặc bỏ các "
        "dòng, cột thừa rồi tải lên lại.",
        f"The {what_en} is too large or too complex: {detail_en}. Split the workbook or remove "
        "unused rows and columns, then upload it again.",
    )


def _unreadable(what_vi: str, what_en: str) -> AppError:
    return AppError(
        "spreadsheet.unreadable",
        400,
        f"Không đọc được {what_vi[:1].lower()}{what_vi[1:]}: tệp không phải bảng tính Excel "
        ".xlsx hợp lệ (tệp nén bị hỏng).",
        f"The {what_en} could not be read: it is not a valid .xlsx workbook (corrupt archive).",
    )


class _Counted:
    """A file-like view of one zip entry that counts the bytes it really decompresses."""

    def __init__(self, raw, counter: _Counter) -> None:
        self._raw = raw
        self._counter = counter

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(_CHUNK if size is None or size < 0 else min(size, _CHUNK))
        self._counter.spend(len(data))
        return data


def check_xlsx(
    content: bytes, limits: XlsxLimits, *, what_vi: str = "Bảng tính", what_en: str = "workbook"
) -> XlsxSize:
    """Refuse an ``.xlsx`` upload that is too large once unzipped, before anything parses it.

    :raises AppError: ``spreadsheet.too_large`` (413) naming the bound crossed,
        ``spreadsheet.unreadable`` (400) for a corrupt archive (including a CRC or size that
        does not match what its header declares).
    """
    try:
        archive = zipfile.ZipFile(BytesIO(content))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise _unreadable(what_vi, what_en) from None
    too_large = partial(_too_large, what_vi, what_en)
    _check_directory(infos, limits, too_large)
    counter = _Counter(
        limits,
        too_large,
        left=limits.max_unzipped_bytes,
        unzipped=too_large(
            f"khi giải nén hơn {vi_number(limits.max_unzipped_bytes)} byte",
            f"more than {limits.max_unzipped_bytes:,} bytes once unzipped",
        ),
    )
    try:
        for info in infos:
            with archive.open(info) as raw:
                counter.entry(info.filename, _Counted(raw, counter))
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
        raise _unreadable(what_vi, what_en) from None
    return XlsxSize(
        len(infos), limits.max_unzipped_bytes - counter.left, counter.rows, counter.cells
    )


def _check_directory(infos: list[zipfile.ZipInfo], limits: XlsxLimits, too_large) -> None:
    """What the archive declares: entries, total size, compression ratio of large entries."""
    if len(infos) > limits.max_entries:
        raise too_large(
            f"tệp nén có {vi_number(len(infos))} thành phần "
            f"(tối đa {vi_number(limits.max_entries)})",
            f"the archive has {len(infos):,} entries (at most {limits.max_entries:,})",
        )
    if sum(info.file_size for info in infos) > limits.max_unzipped_bytes:
        raise too_large(
            f"khi giải nén hơn {vi_number(limits.max_unzipped_bytes)} byte",
            f"more than {limits.max_unzipped_bytes:,} bytes once unzipped",
        )
    for info in infos:
        if info.file_size > _RATIO_MIN_BYTES and info.file_size > limits.max_ratio * max(
            info.compress_size, 1
        ):
            raise too_large(
                f"tỉ lệ nén của {info.filename} vượt quá {limits.max_ratio}:1",
                f"{info.filename} is compressed more than {limits.max_ratio}:1",
            )


@dataclass(slots=True)
class _Counter:
    """Bytes really decompressed, rows per worksheet and cells, each against its bound."""

    limits: XlsxLimits
    too_large: Any
    left: int
    unzipped: AppError
    rows: dict[str, int] = field(default_factory=dict)
    cells: int = 0

    def spend(self, n: int) -> None:
        self.left -= n
        if self.left < 0:
            raise self.unzipped

    def entry(self, name: str, stream: _Counted) -> None:
        if not name.lower().endswith(".xml"):
            _drain(stream)
            return
        try:
            for _event, element in etree.iterparse(
                stream,
                events=("end",),
                tag=[*_ROW_TAGS, *_CELL_TAGS, *_STRING_TAGS],  # the parser skips the others
                resolve_entities=False,
                no_network=True,
                load_dtd=False,
                huge_tree=False,
            ):
                self._count(name, element)
        except etree.XMLSyntaxError:
            # Not this check's concern: openpyxl and pyxform report unreadable parts themselves.
            _drain(stream)

    def _count(self, name: str, element: etree._Element) -> None:
        tag = element.tag
        if tag in _CELL_TAGS:
            self.cells += 1
            if self.cells > self.limits.max_cells:
                raise self.too_large(
                    f"có hơn {vi_number(self.limits.max_cells)} ô",
                    f"there are more than {self.limits.max_cells:,} cells",
                )
        elif tag in _ROW_TAGS:
            self.rows[name] = self.rows.get(name, 0) + 1
            if self.rows[name] > self.limits.max_rows:
                raise self.too_large(
                    f"một trang tính có hơn {vi_number(self.limits.max_rows)} dòng",
                    f"a worksheet has more than {self.limits.max_rows:,} rows",
                )
        # A cell, row or shared string is counted: drop it (and what came before it) so memory
        # holds one element, not the document.
        element.clear(keep_tail=True)
        parent = element.getparent()
        if parent is not None:
            while element.getprevious() is not None:
                del parent[0]


def _drain(stream: _Counted) -> None:
    while stream.read():
        pass


def text_cell(sheet: Worksheet | WriteOnlyWorksheet, value: Any) -> Any:
    """A value ready for ``sheet.append``: a string becomes a cell typed as text.

    openpyxl guesses the type of a plain string and makes anything starting with ``=`` a formula
    (and ``#N/A`` an error); a cell whose ``data_type`` is set to ``"s"`` afterwards is written as
    text whatever it starts with.  Control characters that cannot be stored in XLSX are dropped
    rather than failing the whole export.  Other values (numbers, dates, None) pass through.
    """
    if not isinstance(value, str):
        return value
    cell = Cell(sheet, row=1, column=1)  # placed by append
    cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell.data_type = "s"
    return cell


def text_row(sheet: Worksheet | WriteOnlyWorksheet, values: Iterable[Any]) -> list[Any]:
    """Every value of a row through :func:`text_cell`, for ``sheet.append(text_row(sheet, …))``."""
    return [text_cell(sheet, value) for value in values]


_CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: Any) -> Any:
    """A CSV field a spreadsheet program will show as text (OWASP "CSV injection")."""
    if isinstance(value, str) and value.startswith(_CSV_TRIGGERS):
        return "'" + value
    return value
