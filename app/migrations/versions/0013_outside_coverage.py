"""A pool customer's address can be marked outside the branch's coverage (with a reason), which
takes it out of the unmatched-address queue into a list of its own until it is put back or a
grid is found for it: coverage_mark keeps each mark, by whom, when and why, and how it ended;
see app/services/intake/coverage.py.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 10:00:00

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = "0013"
down_revision: Union[str, Sequence[str], None] = "0012"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "coverage_mark",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("marked_by", sa.String(length=50), nullable=False),
        sa.Column("marked_at", sa.DateTime(), nullable=False),
        sa.Column("cleared_by", sa.String(length=50), nullable=True),
        sa.Column("cleared_at", sa.DateTime(), nullable=True),
        sa.Column("cleared_how", sa.String(length=10), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_coverage_mark_branch_id_branch")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_coverage_mark_customer_id_customer")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coverage_mark")),
    )
    with op.batch_alter_table("coverage_mark") as batch:
        batch.create_index(batch.f("ix_coverage_mark_branch_id"), ["branch_id"], unique=False)
        batch.create_index(batch.f("ix_coverage_mark_customer_id"), ["customer_id"], unique=False)
        # At most one open mark per customer.
        batch.create_index(
            "ux_coverage_mark_open",
            ["customer_id"],
            unique=True,
            sqlite_where=sa.text("cleared_at IS NULL"),
            postgresql_where=sa.text("cleared_at IS NULL"),
        )


def downgrade() -> None:
    op.drop_table("coverage_mark")
