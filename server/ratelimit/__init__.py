"""Request rate limits per client address, counted in the database so that every app server
(gunicorn worker or node) shares them."""
