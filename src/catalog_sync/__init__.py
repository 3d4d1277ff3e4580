"""catalog-sync: keep spreadsheet product catalogs in step with providers' product APIs."""

__version__ = "0.1.0"
