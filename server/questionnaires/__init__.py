"""Questionnaires: XLSForm sources compiled to XForms, their versions, media and lifecycle."""
