"""The server's front door: a short Vietnamese landing page and a health check."""
