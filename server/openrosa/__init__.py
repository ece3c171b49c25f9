"""Everything ODK Collect talks to: form list, form and media download, submission.

No business rules live here: routes authenticate, translate HTTP to service calls and write
OpenRosa XML.  See ``../shared/openrosa/protocol.md`` for what Collect really does.
"""
