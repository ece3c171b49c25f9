"""Access records: who looked at which household's personal data, when, and how."""
