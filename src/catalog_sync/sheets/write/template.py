"""An empty catalog workbook for a provider, built from its spec.

The template is the friendliest way to keep a sheet valid from the start:

* the spec's columns, in order, with a bold, frozen header row;
* every column formatted as Text (``@``), so Excel keeps UPC leading zeros, long ids and
  ISO dates exactly as typed;
* dropdowns (data validation lists) for enumerations and booleans;
* a note on each header with the field's description, whether it is required, its rules
  and an example;
* column widths that fit the header and the example.
"""

from __future__ import annotations

from pathlib import Path

from catalog_sync.spec import FieldSpec, ProviderSpec

#: Rows the text format and dropdowns cover (a whole column would bloat the file).
TEMPLATE_ROWS = 5000


def dropdown_values(field: FieldSpec) -> tuple[str, ...]:
    """The dropdown choices of a field (enumerations and booleans), else ``()``."""
    if field.type == "enum":
        return field.values
    if field.type == "boolean":
        return ("1", "0") if field.style == "one_zero" else ("true", "false")
    return ()


def header_note(field: FieldSpec, spec: ProviderSpec) -> str:
    """The note shown on a header cell."""
    lines = [field.description or field.name]
    rules = []
    if field.required:
        rules.append("required")
    if field.name in spec.keys:
        rules.append(f"match key #{spec.keys.index(field.name) + 1}")
    if field.type not in ("string", "enum"):
        rules.append(f"type {field.type}")
    if field.length:
        rules.append(f"{field.length} {'digits' if field.type == 'gtin' else 'characters'}")
    if field.max_length:
        rules.append(f"at most {field.max_length} characters")
    if field.min is not None or field.max is not None:
        rules.append(
            f"range {'' if field.min is None else field.min}..{'' if field.max is None else field.max}"
        )
    if field.values:
        rules.append("one of " + ", ".join(field.values))
    if rules:
        lines.append("Rules: " + "; ".join(rules) + ".")
    if field.example:
        lines.append(f"Example: {field.example}")
    return "\n".join(lines)


def write_template(spec: ProviderSpec, path: str | Path) -> Path:
    """Write the provider's empty catalog template as an xlsx workbook."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    ws = wb.active
    ws.title = spec.provider
    header_font = Font(bold=True)
    required_fill = PatternFill("solid", start_color="FFF2CC", end_color="FFF2CC")
    for j, field in enumerate(spec.fields, 1):
        cell = ws.cell(row=1, column=j, value=field.name)
        cell.data_type = "s"
        cell.font = header_font
        cell.alignment = Alignment(vertical="top")
        if field.required:
            cell.fill = required_fill
        note = header_note(field, spec)
        comment = Comment(note, "catalog-sync")
        comment.width = 320
        comment.height = 40 + 18 * note.count("\n") + len(note) // 2
        cell.comment = comment
        letter = cell.column_letter
        # Column style = Text: what a user types stays text (leading zeros, long ids, dates).
        ws.column_dimensions[letter].number_format = "@"
        ws.column_dimensions[letter].width = min(max(len(field.name), len(field.example), 10) + 4, 60)
        choices = dropdown_values(field)
        if choices:
            listed = ",".join(choices)
            dv = DataValidation(type="list", formula1=f'"{listed}"', allow_blank=True, showDropDown=False)
            dv.error = f"Use one of: {', '.join(choices)}"
            dv.errorTitle = f"{field.name}"
            dv.prompt = f"One of: {', '.join(choices)}"
            dv.promptTitle = field.name
            # Case-insensitive enums accept other spellings: warn instead of refusing them.
            dv.errorStyle = "warning" if field.case_insensitive else "stop"
            dv.add(f"{letter}2:{letter}{TEMPLATE_ROWS}")
            ws.add_data_validation(dv)
    ws.freeze_panes = "A2"
    wb.save(path)
    return path
