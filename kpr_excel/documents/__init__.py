"""Word documents from the workbook: invitations, minutes and the yearly report.

Templates are docxtpl .docx files built by `build_templates` and editable in Word; the
office's own edited copies in `Vorlagen/` beside the workbook take precedence. Rendering
uses autoescape and a strict undefined. Nothing the office edited is ever overwritten
silently (`output.place`).
"""

from kpr_excel.documents.checks import check_templates
from kpr_excel.documents.output import output_dir
from kpr_excel.documents.produce import (
    Output,
    Written,
    copy_templates,
    find_session,
    load_workbook,
    template_path,
    write_demo_documents,
    write_invitation,
    write_minutes,
    write_yearly_report,
)

__all__ = [
    "Output", "Written", "check_templates", "copy_templates", "find_session", "load_workbook",
    "output_dir", "template_path",
    "write_demo_documents", "write_invitation", "write_minutes", "write_yearly_report",
]
