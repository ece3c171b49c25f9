"""Documents the app writes and reads: printable PDFs rendered from the same HTML templates as the
pages (:mod:`.pdf`), and spreadsheets — bounded reading of uploads, inert writing of exports
(:mod:`.spreadsheets`)."""
