"""Build, check and install the ribbon add-in kpr_excel/addin/files/KPR.xlam.

The add-in is built, never edited by hand. Its sources are ``files/KPR.bas`` (the VBA module
with one callback per button) and ``files/customUI.xml`` (the ribbon). All three ship as
package data, so an installed wheel can check and install the add-in; building writes into
the source tree and so needs a checkout (or an explicit target).
The build starts from the ribbon add-in template that ships inside the pinned xlwings
package (``quickstart_addin_ribbon.xlam``, BSD-licensed), because its VBA project already
carries the ``xlwings`` module whose ``RunPython`` the buttons call, written for exactly the
installed xlwings version. With pyOpenVBA it renames the template's module ``RibbonMyAddin``
to ours and replaces its source with KPR.bas, sets ``PROJECT_NAME`` to ``kpr`` (so xlwings
reads its settings from ``kpr.conf``), and then rewrites the package: our ribbon part, the
settings sheet renamed to ``_kpr.conf``, a title for Excel's add-in dialog, every part
stored uncompressed with a fixed timestamp in a fixed order. Stored rather than deflated,
so that the bytes do not depend on the zlib of the machine: two builds from the same
sources, xlwings and pyOpenVBA give the same file, byte for byte.

The check reads the built file back as Excel will see it: the ribbon XML, and the VBA
source through oletools' olevba (an independent reader, not the writer that made it). It
reports findings (never raises for a defect in the add-in), so ``kpr addin pruefen`` and
the tests can list every problem at once. What cannot be checked without Excel (that the
VBA compiles, that each button runs) is the manual smoke test in docs/windows.md.

pyOpenVBA and oletools are needed only here and are imported when a build or a check runs
(``pip install kpr-excel[addin]``).
"""


from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from kpr_excel.addin.build import build_addin_bytes
from kpr_excel.addin.check import _check_package, check_addin, check_python_command
from kpr_excel.addin.install import InstallResult, install_addin, user_addins_dir
from kpr_excel.addin.sources import (
    ADDIN_FILE,
    SOURCES_DIR,
    AddinError,
    AddinSources,
    _write_atomically,
    build_target,
    checkout_root,
)
from kpr_excel.domain.findings import Finding

__all__ = [
    "ADDIN_FILE", "SOURCES_DIR", "AddinError", "AddinSources", "BuildResult", "InstallResult", "build_addin",
    "build_addin_bytes", "build_target", "check_addin", "check_python_command", "checkout_root", "install_addin",
    "user_addins_dir",
]


@dataclass(frozen=True)
class BuildResult:
    path: Path
    size: int
    sha256: str
    changed: bool  # False: the file on disk already had exactly these bytes
    findings: tuple[Finding, ...]  # the static check of what was built


def build_addin(
    sources_dir: Path = SOURCES_DIR, out: Path | None = None, template: Path | None = None
) -> BuildResult:
    """Build the add-in from ``sources_dir`` into ``out`` and check what was built.

    Without ``out`` the add-in in the checkout's source tree is rebuilt; an installed package
    has no source tree to write to and raises AddinError saying so (see ``build_target``).

    The file is written even when the check finds a defect, so it can be inspected; the
    findings say what is wrong. A rebuild from unchanged inputs leaves the file untouched.
    """
    out = out if out is not None else build_target()
    sources = AddinSources.read(sources_dir)
    data = build_addin_bytes(sources, template)
    changed = not out.is_file() or out.read_bytes() != data
    if changed:
        out.parent.mkdir(parents=True, exist_ok=True)
        _write_atomically(out, data)
    findings = _check_package(data, out.name, sources=sources, rebuilt=data)
    return BuildResult(out, len(data), hashlib.sha256(data).hexdigest(), changed, findings)
