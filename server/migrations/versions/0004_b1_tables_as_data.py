"""B1 point tables as uploaded, versioned data; per-commune table per standard and area type

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 14:31:48.017839

``communes.b1_table`` (one shipped table code per commune) becomes rows of
``commune_b1_tables`` keyed by (commune, standard, area type).  The standard and area type of a
code come from the shipped YAML files as they are when this migration runs; the only table ever
shipped before this revision is the demo table (2022_2025, rural).
"""

from pathlib import Path

from alembic import op
import sqlalchemy as sa
import yaml


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

_KNOWN = {"demo_2022_2025_rural": ("2022_2025", "rural")}
_SHIPPED = Path(__file__).resolve().parents[3] / "forms" / "b1_tables"

_communes = sa.table(
    "communes",
    sa.column("id", sa.Integer),
    sa.column("area_type", sa.String),
    sa.column("b1_table", sa.String),
)
_assignments = sa.table(
    "commune_b1_tables",
    sa.column("commune_id", sa.Integer),
    sa.column("standard", sa.String),
    sa.column("area_type", sa.String),
    sa.column("table_code", sa.String),
)


def _standard_and_area(code: str) -> tuple[str, str] | None:
    if code in _KNOWN:
        return _KNOWN[code]
    for path in sorted(_SHIPPED.glob("*.yaml")):
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            continue
        if isinstance(raw, dict) and raw.get("code") == code:
            return str(raw.get("standard")), str(raw.get("area_type"))
    return None


def upgrade() -> None:
    op.create_table('b1_tables',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=100), nullable=False),
    sa.Column('version', sa.String(length=50), nullable=False),
    sa.Column('standard', sa.String(length=20), nullable=False),
    sa.Column('region', sa.String(length=50), nullable=False),
    sa.Column('area_type', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('label_vi', sa.Text(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('origin', sa.String(length=10), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_b1_tables_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_b1_tables')),
    sa.UniqueConstraint('code', 'version', name=op.f('uq_b1_tables_code_version'))
    )
    op.create_table('commune_b1_tables',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=False),
    sa.Column('standard', sa.String(length=20), nullable=False),
    sa.Column('area_type', sa.String(length=10), nullable=False),
    sa.Column('table_code', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['commune_id'], ['communes.id'], name=op.f('fk_commune_b1_tables_commune_id_communes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commune_b1_tables')),
    sa.UniqueConstraint('commune_id', 'standard', 'area_type', name=op.f('uq_commune_b1_tables_commune_id_standard_area_type'))
    )
    with op.batch_alter_table('commune_b1_tables', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_commune_b1_tables_table_code'), ['table_code'], unique=False)

    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_communes.c.id, _communes.c.b1_table).where(_communes.c.b1_table.isnot(None))
    ).all()
    moved = []
    for commune_id, code in rows:
        key = _standard_and_area(code)
        if key is None:  # never usable: scoring ignored codes that were not shipped
            print(f"0004: commune {commune_id}: unknown B1 table {code!r} dropped")
            continue
        moved.append(
            {"commune_id": commune_id, "standard": key[0], "area_type": key[1], "table_code": code}
        )
    if moved:
        op.bulk_insert(_assignments, moved)

    # SQLite ≥ 3.35 drops a plain column in place; rebuilding ``communes`` (batch "recreate")
    # would fail on the rows of other tables that reference it while foreign keys are on.
    with op.batch_alter_table('communes', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('b1_table')


def downgrade() -> None:
    with op.batch_alter_table('communes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('b1_table', sa.String(length=100), nullable=True))

    # One table per commune again: prefer the 2022–2025 standard and the commune's own area.
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            _assignments.c.commune_id,
            _assignments.c.standard,
            _assignments.c.area_type,
            _assignments.c.table_code,
            _communes.c.area_type,
        )
        .join(_communes, _communes.c.id == _assignments.c.commune_id)
        .order_by(_assignments.c.commune_id)
    ).all()
    chosen: dict[int, tuple] = {}
    for commune_id, standard, area, code, commune_area in rows:
        rank = (standard != "2022_2025", area != commune_area, standard, area)
        if commune_id not in chosen or rank < chosen[commune_id][0]:
            chosen[commune_id] = (rank, code)
    for commune_id, (_rank, code) in chosen.items():
        connection.execute(
            _communes.update().where(_communes.c.id == commune_id).values(b1_table=code)
        )

    with op.batch_alter_table('commune_b1_tables', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_commune_b1_tables_table_code'))

    op.drop_table('commune_b1_tables')
    op.drop_table('b1_tables')
