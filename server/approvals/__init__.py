"""The approval chain above the commune, configurable per province.

Decision 24/2021 (``regulations.md`` §4.2, step 5) had the commune chair consult the district
chair before deciding; since 1 July 2025 there is no district, and the rule that replaces it
(TT 13/2025/TT-BNNMT) is not public.  So each province chooses: by default the commune decides
on its own; a province may require its opinion first — the commune sends its results, the
province agrees or asks for a revision with a comment, and the commune's decision is refused
until the province has agreed.
"""
