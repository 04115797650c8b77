"""Tools that write sources for people: the project scaffold (``xzdoc new``).

They sit on top of the pipeline, using the standard and the templates; no pipeline stage imports them.
Public surface: ``scaffold``.
"""
