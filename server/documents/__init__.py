"""Printable documents (PDF) rendered from the same HTML templates as the pages."""
