"""Reports and dashboard (``/bao-cao``): what the official results count, per commune and for
the province, compared with the previous year — as tables, inline SVG charts and XLSX.

* :mod:`server.reports.traits` — the household traits the reports count that no questionnaire
  asks directly (ethnic-minority household, household without labour capacity);
* :mod:`server.reports.services` — the report, computed with aggregate SQL and streaming;
* :mod:`server.reports.charts` — bar charts as accessible SVG, drawn on the server;
* :mod:`server.reports.exports` — the XLSX workbook (write-only, streamed);
* :mod:`server.reports.pages` — the staff pages.
"""
