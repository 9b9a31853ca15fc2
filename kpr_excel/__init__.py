"""kpr-excel: the paperwork of the Kommunaler Präventionsrat Dresden, driven by one Excel workbook."""

__version__ = "0.1.0"
