"""Edit a workbook with LibreOffice itself: a Basic macro, run by headless ``soffice``, opens the file,
types text into cells (as a person would) and saves it as xlsx under another name."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path
from xml.sax.saxutils import escape

_MODULE = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE script:module PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "module.dtd">
<script:module xmlns:script="http://openoffice.org/2000/script" script:name="Module1" script:language="StarBasic">
{body}
</script:module>
"""


def _basic(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _macro(src: Path, dst: Path, cells: dict[tuple[str, str], str]) -> str:
    lines = [
        "Sub Edit",
        "  Dim args(0) As New com.sun.star.beans.PropertyValue",
        '  args(0).Name = "Hidden"',
        "  args(0).Value = True",
        f'  doc = StarDesktop.loadComponentFromURL(ConvertToURL({_basic(str(src))}), "_blank", 0, args())',
        *(
            f"  doc.Sheets.getByName({_basic(sheet)}).getCellRangeByName({_basic(ref)}).setString({_basic(value)})"
            for (sheet, ref), value in cells.items()
        ),
        "  Dim out(0) As New com.sun.star.beans.PropertyValue",
        '  out(0).Name = "FilterName"',
        '  out(0).Value = "Calc MS Excel 2007 XML"',
        f"  doc.storeToURL(ConvertToURL({_basic(str(dst))}), out())",
        "  doc.close(True)",
        "  StarDesktop.terminate()",
        "End Sub",
    ]
    return _MODULE.format(body=escape("\n".join(lines)))


def edit_with_libreoffice(src: Path, dst: Path, cells: dict[tuple[str, str], str]) -> Path:
    """Type ``cells`` ({(sheet, "B3"): text}) into ``src`` with LibreOffice and save it as ``dst`` (xlsx)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice, "LibreOffice (soffice) is required: `make libreoffice` installs it"
    profile = Path("/tmp") / f"lo-profile-{uuid.uuid4().hex}"
    base = [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore"]
    try:
        subprocess.run([*base, "--terminate_after_init"], capture_output=True, timeout=120, check=False)
        module = profile / "user" / "basic" / "Standard" / "Module1.xba"
        assert module.parent.is_dir(), f"LibreOffice made no profile at {profile}"
        module.write_text(_macro(src, dst, cells), encoding="utf-8")
        done = subprocess.run(
            [*base, "macro:///Standard.Module1.Edit"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert dst.exists(), f"LibreOffice did not save {dst.name}: {done.stdout} {done.stderr}"
    return dst
