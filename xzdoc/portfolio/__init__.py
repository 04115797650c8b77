"""Views over many projects: the system and resource catalogs, the review diff of a change,
the status table, the dashboard and CODEOWNERS.

Portfolio views read projects, history and rendering helpers; nothing below imports them.
Public surface: ``catalog``, ``diff``, ``status``, ``site``, ``codeowners``.
"""
