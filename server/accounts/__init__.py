"""Users, roles, their geographic scope, and device tokens for ODK Collect."""
