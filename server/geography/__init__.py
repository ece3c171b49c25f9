"""Administrative geography since 1 July 2025: province → commune → village (no district).

The income region (vùng, used by the B1 point table) and the area type (rural/urban, which sets
the income line and the B1 cut-off) are attributes of the commune, optionally overridden per
village, because merged provinces mix regions.
"""
