"""The bytes of a form's media file as one particular phone should get them.

Most files are served as uploaded.  ``households.csv`` and ``villages.csv`` are generated from
the household registry for the account asking (its commune, or its villages), so a reviewer's
phone holds only its own list and gets a new one — a new MD5 in the manifest — whenever the
list changes; ``privacy_notice.csv`` is the notice of the account's province
(:mod:`server.privacy.notice`).  A draft being tested by an administrator (who belongs to no
commune) is served the sample file uploaded with it.
"""

from __future__ import annotations

from server.access.services import record_access
from server.accounts.models import User
from server.blobs import blob_store
from server.households.services import households_csv, villages_csv
from server.privacy.notice import notice_csv
from server.questionnaires.models import FormAttachment

_GENERATORS = {
    "households": households_csv,
    "villages": villages_csv,
    "privacy_notice": notice_csv,
}


def media_bytes(
    attachment: FormAttachment, user: User | None, *, draft: bool = False
) -> bytes | None:
    """The file's content for ``user``, or None when it has not been uploaded yet."""
    generator = _GENERATORS.get(attachment.dynamic or "")
    if generator is not None and not (draft and attachment.blob_sha256):
        content = generator(user)
        if attachment.dynamic == "households" and user is not None:
            # The reviewer's phone gets the heads' names of its commune (or villages).
            record_access(
                "list",
                ref="phone:households.csv",
                count=max(0, content.count(b"\n") - 1),
                commune_id=user.commune_id,
                actor=user,
            )
        return content
    if attachment.blob_sha256 is None:
        return None
    return blob_store().read(attachment.blob_sha256)
