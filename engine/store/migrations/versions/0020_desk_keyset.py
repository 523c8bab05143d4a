"""The desk's list at 100,000 open tasks (issue 18, item 3): indexes that end in the task id, so every order
the list offers (and the keyset pages that continue it) is read from an index without a sort, and an index for
parts of the applicant's name.

Name parts: Chinese names are two to four characters and a clerk types one or two of them, which a trigram
index cannot look up (a two-character part has no trigram). So on SQLite an FTS5 table holds each open
task's name as its single characters and character pairs (王小明 → "王 小 明 王小 小明"), and a part is found
by its pairs (one character: by itself); on PostgreSQL a pg_trgm GIN index serves parts of three characters
or more, and the same pairs, as an array with a GIN index, serve the shorter ones. Both are maintained with the
task index (`engine.runtime.indexes`); the list rechecks every candidate with LIKE, so the index only narrows.

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

OLD = {"ix_task_index_group_created": ["candidate_group", "created_at"],
       "ix_task_index_group_deadline": ["candidate_group", "case_deadline"],
       **{f"ix_task_index_group_{c}": ["candidate_group", c, "created_at"]
          for c in ("warning_level", "case_status", "item_code")}}
NEW = {name: [*columns, "task_id"] for name, columns in OLD.items()}
NEW["ix_task_index_created"] = ["created_at", "task_id"]  # an administrator's list: every group at once
NEW["ix_task_index_assignee_created"] = ["assignee", "created_at", "task_id"]  # one's own claims, in order


GRAMS_TYPE = sa.Text().with_variant(postgresql.ARRAY(sa.String(8)), "postgresql")

# SQLite: an external-content FTS5 table over task_index's `applicant_grams` (space-separated), kept in step by
# triggers, so whatever writes the task index keeps the name index right.
FTS_TRIGGERS = {
    "task_index_names_ai": "AFTER INSERT ON task_index BEGIN "
    "INSERT INTO task_index_names (rowid, applicant_grams) VALUES (new.rowid, new.applicant_grams); END",
    "task_index_names_ad": "AFTER DELETE ON task_index BEGIN "
    "INSERT INTO task_index_names (task_index_names, rowid, applicant_grams) "
    "VALUES ('delete', old.rowid, old.applicant_grams); END",
    "task_index_names_au": "AFTER UPDATE OF applicant_grams ON task_index BEGIN "
    "INSERT INTO task_index_names (task_index_names, rowid, applicant_grams) "
    "VALUES ('delete', old.rowid, old.applicant_grams); "
    "INSERT INTO task_index_names (rowid, applicant_grams) VALUES (new.rowid, new.applicant_grams); END",
}


def grams(name: str | None) -> list[str]:
    """The migration's own copy of `engine.runtime.indexes.name_grams` (frozen here)."""
    text = (name or "").lower()
    return sorted(set(text) | {text[i:i + 2] for i in range(len(text) - 1)})


def upgrade() -> None:
    conn = op.get_bind()
    sqlite = conn.dialect.name == "sqlite"
    with op.batch_alter_table("task_index") as batch:
        for name in OLD:
            batch.drop_index(name)
        for name, columns in NEW.items():
            batch.create_index(name, columns)
        batch.add_column(sa.Column("applicant_grams", GRAMS_TYPE, nullable=True))
    rows = conn.execute(sa.text("SELECT task_id, applicant_name FROM task_index")).all()
    if rows:
        conn.execute(sa.text("UPDATE task_index SET applicant_grams = :g WHERE task_id = :t"),
                     [{"t": r.task_id, "g": " ".join(grams(r.applicant_name)) if sqlite else grams(r.applicant_name)}
                      for r in rows])
    if sqlite:
        op.execute("CREATE VIRTUAL TABLE task_index_names USING fts5(applicant_grams, content='task_index', "
                   "content_rowid='rowid', tokenize='ascii')")
        op.execute("INSERT INTO task_index_names (task_index_names) VALUES ('rebuild')")
        for name, body in FTS_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
    else:
        # In `public`, not the first schema of the search path: a schema dropped with CASCADE would take the
        # extension, and every other schema's index on it, along.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
        where = conn.execute(sa.text("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
                                     "ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'")).scalar_one()
        op.execute(f'CREATE INDEX ix_task_index_applicant_trgm ON task_index '
                   f'USING gin (applicant_name "{where}".gin_trgm_ops)')
        op.execute("CREATE INDEX ix_task_index_applicant_grams ON task_index USING gin (applicant_grams)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in FTS_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
        op.execute("DROP TABLE task_index_names")
    else:
        op.execute("DROP INDEX ix_task_index_applicant_grams")
        op.execute("DROP INDEX ix_task_index_applicant_trgm")
    with op.batch_alter_table("task_index") as batch:
        batch.drop_column("applicant_grams")
        for name in NEW:
            batch.drop_index(name)
        for name, columns in OLD.items():
            batch.create_index(name, columns)
