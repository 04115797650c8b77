"""Reading a project: strict YAML, the schema walker, project and draft loading, atomic file IO.

Nothing here knows about rules, git, rendering or the command line; everything else builds on it.
Public surface: ``yamlio`` (load_file, loads, YMap, YList), ``structure`` (the schema walker),
``loader`` (discover, load_project, load_projects), ``drafts`` (headings, outlines), ``fsio`` (write_atomic).
"""
