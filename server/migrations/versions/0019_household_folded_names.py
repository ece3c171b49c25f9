"""households.head_name_folded: the head's name without case or accents, for searching

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 16:00:00.000000
"""

import unicodedata

from alembic import op
import sqlalchemy as sa


revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

BATCH = 1000


def _fold(name: str) -> str:
    # A copy of server.households.names.fold_name as it was when this migration was written
    # (a migration must not change when the application's code does).
    decomposed = unicodedata.normalize("NFD", name.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return " ".join(bare.lower().split())


def upgrade() -> None:
    with op.batch_alter_table("households") as batch:
        batch.add_column(
            sa.Column("head_name_folded", sa.String(length=200), server_default="", nullable=False)
        )
    connection = op.get_bind()
    households = sa.table(
        "households",
        sa.column("id", sa.Integer),
        sa.column("head_name", sa.String),
        sa.column("head_name_folded", sa.String),
    )
    last = 0
    while True:  # every existing household, a batch at a time
        rows = connection.execute(
            sa.select(households.c.id, households.c.head_name)
            .where(households.c.id > last)
            .order_by(households.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        connection.execute(
            households.update()
            .where(households.c.id == sa.bindparam("row_id"))
            .values(head_name_folded=sa.bindparam("folded")),
            [{"row_id": row_id, "folded": _fold(name or "")} for row_id, name in rows],
        )
        last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("households") as batch:
        batch.drop_column("head_name_folded")
