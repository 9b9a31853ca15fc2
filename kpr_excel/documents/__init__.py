"""Documents: the kinds (template, file name, mail text, recipients), their contexts, rendering, PDF.

Uses autoescape and a strict undefined. Nothing the office edited is ever overwritten
silently (`output.place`). Import the modules themselves (`documents.produce`, ...): this
package file stays empty so that `documents.kinds` can be read without loading Word libraries.
"""
