"""The domain: values, findings, errors, the workbook schema, the model, deadlines, naming, audiences.

Imports nothing of kpr_excel outside this package.
"""
