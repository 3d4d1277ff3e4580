"""The pulled sheet as OpenDocument (.ods), written directly as XML (no extra dependency); and
any grid of text as an .ods of one sheet (:func:`write_text_table`, ``validate --fix -o FIXED.ods``).

Every value is a string cell in a Text-formatted style (``@``), the header bold with its note
(an annotation) and frozen (settings.xml), enumerations and booleans get a list validation, and
the base sheet is a table whose style hides it (``table:display="false"``).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape, quoteattr

from catalog_sync.sheets.write.template import dropdown_values, header_note

if TYPE_CHECKING:
    from catalog_sync.sheets.write.pulled import Pulled

_MIME = "application/vnd.oasis.opendocument.spreadsheet"
_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
    'xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0" '
    'xmlns:config="urn:oasis:names:tc:opendocument:xmlns:config:1.0" '
    'xmlns:of="urn:oasis:names:tc:opendocument:xmlns:of:1.2" office:version="1.2"'
)
_STYLES = (
    "<office:automatic-styles>"
    '<number:text-style style:name="N_text"><number:text-content/></number:text-style>'
    '<style:style style:name="ce_text" style:family="table-cell" style:parent-style-name="Default" '
    'style:data-style-name="N_text"/>'
    '<style:style style:name="ce_head" style:family="table-cell" style:parent-style-name="Default" '
    'style:data-style-name="N_text"><style:text-properties fo:font-weight="bold"/></style:style>'
    '<style:style style:name="co_text" style:family="table-column">'
    '<style:table-column-properties style:column-width="1.2in"/></style:style>'
    '<style:style style:name="ta_shown" style:family="table" style:master-page-name="Default">'
    '<style:table-properties table:display="true"/></style:style>'
    '<style:style style:name="ta_hidden" style:family="table" style:master-page-name="Default">'
    '<style:table-properties table:display="false"/></style:style>'
    "</office:automatic-styles>"
)
#: Empty rows after the data that keep the Text format and the dropdowns (rows a user adds).
SPARE_ROWS = 1000
_SPACES = re.compile(r" {2,}")
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def write(pulled: Pulled, path: Path, sheet: str, base_sheet: str) -> None:
    validations, names = _validations(pulled, sheet)
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_NS}>{_STYLES}'
        f"<office:body><office:spreadsheet>{validations}"
        f"{_table(pulled, sheet, names)}{_base_table(pulled, base_sheet)}"
        "</office:spreadsheet></office:body></office:document-content>"
    )
    _package(path, body, sheet)


def write_text_table(rows: list[list[str]], path: Path, sheet: str) -> None:
    """``rows`` (row 1 first) as one sheet of string cells in the Text format, row 1 bold and frozen."""
    width = max((len(r) for r in rows), default=1) or 1
    columns = f'<table:table-column table:style-name="co_text" table:number-columns-repeated="{width}" table:default-cell-style-name="ce_text"/>'
    lines = [
        f"<table:table-row>{''.join(_cell(v, 'ce_head' if i == 0 else 'ce_text') for v in row) or _cell('')}</table:table-row>"
        for i, row in enumerate(rows)
    ]
    table = f'<table:table table:name={quoteattr(sheet)} table:style-name="ta_shown">{columns}{"".join(lines)}</table:table>'
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_NS}>{_STYLES}'
        f"<office:body><office:spreadsheet>{table}</office:spreadsheet></office:body></office:document-content>"
    )
    _package(path, body, sheet)


def _package(path: Path, body: str, sheet: str) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), _MIME, compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/manifest.xml", _manifest(), compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", body, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("settings.xml", _settings(sheet), compress_type=zipfile.ZIP_DEFLATED)


def _paragraphs(value: str) -> str:
    """Text as ``<text:p>`` lines with runs of spaces and tabs kept (ODF collapses them otherwise)."""
    lines = []
    for line in _XML_ILLEGAL.sub("", value).replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        text = escape(line).replace("\t", "<text:tab/>")
        text = _SPACES.sub(lambda m: f' <text:s text:c="{len(m.group(0)) - 1}"/>', text)
        if text.startswith(" "):
            text = "<text:s/>" + text[1:]
        lines.append(f"<text:p>{text}</text:p>")
    return "".join(lines)


def _cell(value: str, style: str = "ce_text", extra: str = "", note: str = "") -> str:
    if value == "" and not note:
        return f'<table:table-cell table:style-name="{style}"{extra}/>'
    annotation = f"<office:annotation>{_paragraphs(note)}</office:annotation>" if note else ""
    return (
        f'<table:table-cell table:style-name="{style}" office:value-type="string"{extra}>'
        f"{annotation}{_paragraphs(value)}</table:table-cell>"
    )


def _validations(pulled: Pulled, sheet: str) -> tuple[str, dict[str, str]]:
    """The list validations (dropdowns) and the validation name of each column that has one."""
    items, names = [], {}
    for j, name in enumerate(pulled.columns):
        choices = dropdown_values(pulled.spec.field(name))
        if not choices:
            continue
        names[name] = f"val{j + 1}"
        listed = ";".join(f"&quot;{escape(c)}&quot;" for c in choices)
        items.append(
            f'<table:content-validation table:name="{names[name]}" '
            f'table:condition="of:cell-content-is-in-list({listed})" table:allow-empty-cell="true" '
            f'table:display-list="unsorted" table:base-cell-address={quoteattr(f"{sheet}.A2")}/>'
        )
    return (
        f"<table:content-validations>{''.join(items)}</table:content-validations>" if items else ""
    ), names


def _table(pulled: Pulled, sheet: str, validations: dict[str, str]) -> str:
    spec = pulled.spec
    columns = f'<table:table-column table:style-name="co_text" table:number-columns-repeated="{len(pulled.columns)}" table:default-cell-style-name="ce_text"/>'
    head = "".join(_cell(n, "ce_head", note=header_note(spec.field(n), spec)) for n in pulled.columns)
    extras = [
        f' table:content-validation-name="{validations[n]}"' if n in validations else ""
        for n in pulled.columns
    ]
    rows = [f"<table:table-row>{head}</table:table-row>"]
    for row in pulled.rows:
        cells = "".join(_cell(v, extra=e) for v, e in zip(row, extras, strict=True))
        rows.append(f"<table:table-row>{cells}</table:table-row>")
    spare = "".join(_cell("", extra=e) for e in extras)
    rows.append(f'<table:table-row table:number-rows-repeated="{SPARE_ROWS}">{spare}</table:table-row>')
    return f'<table:table table:name={quoteattr(sheet)} table:style-name="ta_shown">{columns}{"".join(rows)}</table:table>'


def _base_table(pulled: Pulled, base_sheet: str) -> str:
    rows = "".join(
        f"<table:table-row>{''.join(_cell(v) for v in row) or _cell('')}</table:table-row>"
        for row in pulled.base_rows()
    )
    return (
        f'<table:table table:name={quoteattr(base_sheet)} table:style-name="ta_hidden">{rows}</table:table>'
    )


def _manifest() -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{_MIME}"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        '<manifest:file-entry manifest:full-path="settings.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )


def _settings(sheet: str) -> str:
    """Freeze the header row of ``sheet`` (what LibreOffice's View > Freeze Rows writes)."""
    item = '<config:config-item config:name="{}" config:type="{}">{}</config:config-item>'
    frozen = "".join(
        item.format(name, kind, value)
        for name, kind, value in (
            ("VerticalSplitMode", "short", "2"),
            ("VerticalSplitPosition", "int", "1"),
            ("ActiveSplitRange", "short", "2"),
            ("PositionTop", "int", "0"),
            ("PositionBottom", "int", "1"),
        )
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-settings {_NS}><office:settings>'
        '<config:config-item-set config:name="ooo:view-settings"><config:config-item-map-indexed config:name="Views">'
        '<config:config-item-map-entry><config:config-item config:name="ViewId" config:type="string">view1</config:config-item>'
        f'<config:config-item-map-named config:name="Tables"><config:config-item-map-entry config:name={quoteattr(sheet)}>'
        f"{frozen}</config:config-item-map-entry></config:config-item-map-named>"
        f'<config:config-item config:name="ActiveTable" config:type="string">{escape(sheet)}</config:config-item>'
        "</config:config-item-map-entry></config:config-item-map-indexed></config:config-item-set>"
        "</office:settings></office:document-settings>"
    )
