"""Validation: compile a provider spec into pandera checks and report located problems.

from catalog_sync.validation import validate_sheet, validate_catalog, ValidationReport
report = validate_sheet(sheet, load_spec("royalti"))
report.valid, report.problems, report.to_dict()
"""

from catalog_sync.validation.core import validate_catalog, validate_sheet
from catalog_sync.validation.result import ValidationReport
from catalog_sync.validation.schema import build_pandera_schema

__all__ = ["ValidationReport", "build_pandera_schema", "validate_catalog", "validate_sheet"]
