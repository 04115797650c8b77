"""Rendering: project -> Markdown (Jinja) -> pandoc -> DOCX and Typst -> PDF, then the bundle.

Each external tool has one owner here: pandoc.py runs pandoc, pdf.py runs
typst, xlsx.py uses openpyxl. Heavy imports stay inside functions.
"""
