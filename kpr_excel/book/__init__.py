"""Workbook adapters: sheets in, plain rows with their locations out (and results back in).

Two adapters share this interface: `reader` and `writer` for a file (CLI) and `xlwings_io` for the
book open in Excel (ribbon buttons). Everything above them sees only `layout.SheetRows`.
"""
