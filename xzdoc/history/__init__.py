"""Everything that reads git history or the calendar: the single git owner, the approval ledger,
working days and statutory deadlines.

It may use ``source``, ``config`` and ``model``; it never imports rules, rendering or portfolio views.
Public surface: ``gitlog`` (the only module that starts git), ``ledger`` (approval records),
``calendar`` (工作日), ``deadlines`` (gates, deadlines, funding eligibility).
"""
