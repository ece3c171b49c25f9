"""Imports every capability's models so the metadata is complete (Alembic, tests)."""

from server.accounts import models as accounts  # noqa: F401
from server.geography import models as geography  # noqa: F401
from server.households import models as households  # noqa: F401
from server.questionnaires import models as questionnaires  # noqa: F401
from server.scoring import models as scoring  # noqa: F401
from server.submissions import models as submissions  # noqa: F401
