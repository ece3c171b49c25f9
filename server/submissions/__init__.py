"""Submissions from ODK Collect: parsing, lossless storage, versions (edits) and attachments."""
