"""Rendering: project -> Markdown (Jinja) -> pandoc -> DOCX and Typst -> PDF, then the bundle.

Each external tool has one owner here: pandoc.py runs pandoc, pdf.py runs
typst, xlsx.py uses openpyxl. Heavy imports stay inside functions.
Rendering reads projects and the ledger; it never judges them (that is rules/) and never prints.
Public surface: ``bundle`` (render, bundle, bundle_one), ``plan`` (the annual plan),
``templates`` (the Jinja loader chain and the draft sandbox).
"""
