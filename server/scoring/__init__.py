"""Scoring households by the official method (Circular 07/2021 and its successors).

The engine (``facts``, ``rules``, ``b1``, ``engine``) is pure: no Flask, no database.  The
standards — income lines, cut-offs, indicators and their rules — are versioned data in
``forms/standards/*.yaml`` (``standards``), never constants in code.

Glossary: score A = B1 (household characteristics, an income proxy; *điểm A*); score B = B2
(10 points per deprivation of basic social services; *điểm B*); hộ nghèo = poor; hộ cận nghèo
= near-poor; hộ có mức sống trung bình = average living standard.
"""
