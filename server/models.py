"""Imports every capability's models so the metadata is complete (Alembic, tests)."""

from server.access import models as access  # noqa: F401
from server.accounts import models as accounts  # noqa: F401
from server.approvals import models as approvals  # noqa: F401
from server.audit import models as audit  # noqa: F401
from server.decisions import models as decisions  # noqa: F401
from server.exports import models as exports  # noqa: F401
from server.geography import models as geography  # noqa: F401
from server.households import models as households  # noqa: F401
from server.meetings import models as meetings  # noqa: F401
from server.privacy import models as privacy  # noqa: F401
from server.publication import models as publication  # noqa: F401
from server.questionnaires import models as questionnaires  # noqa: F401
from server.ratelimit import models as ratelimit  # noqa: F401
from server.retention import models as retention  # noqa: F401
from server.review import models as review  # noqa: F401
from server.scoring import evidence as scoring_evidence  # noqa: F401
from server.scoring import models as scoring  # noqa: F401
from server.submissions import models as submissions  # noqa: F401
