"""From scored households to the village meeting (họp dân): review rounds, each household's
case through the procedure, the lists the meeting confirms, the meeting record with its votes
(≥ 50 % of attendees), and the minutes (QĐ 24/2021/QĐ-TTg Điều 4, steps 1–3)."""
