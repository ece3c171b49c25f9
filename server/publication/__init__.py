"""Public posting of the review results (niêm yết) and complaints with their re-check (phúc tra)
— QĐ 24/2021/QĐ-TTg Điều 4 step 4.  Posting and complaint periods are configurable per round:
the 3 working days often cited are inferred, not verified (regulations.md §4.2)."""
