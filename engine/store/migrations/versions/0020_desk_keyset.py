"""The desk's list at 100,000 open tasks (issue 18, item 3): indexes that end in the task id, so every order
the list offers (and the keyset pages that continue it) is read from an index without a sort, and an index for
parts of the applicant's name.

Name parts: Chinese names are two to four characters and a clerk types one or two of them, which a trigram
index cannot look up (a two-character part has no trigram). So each case keeps its applicant's name as single
characters and character pairs (`cases.applicant_grams`: 王小明 → 王 小 明 王小 小明), written once when the case
opens. On SQLite an FTS5 table over that column (kept by triggers) finds a part by its pairs (one character: by
itself); on PostgreSQL a GIN index on the array does, and a pg_trgm index on the name serves parts of three
characters or more. The index is the case's, not each task row's, so a step that opens or closes tasks writes
nothing to it. The list rechecks every candidate with LIKE, so the index only narrows.

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
# Single-column indexes the ones above now cover (each index is one more write at every step).
COVERED = {"ix_task_index_assignee": ["assignee"], "ix_task_index_candidate_group": ["candidate_group"]}


GRAMS_TYPE = sa.Text().with_variant(postgresql.ARRAY(sa.String(8)), "postgresql")

# SQLite: an external-content FTS5 table over `cases.applicant_grams` (space-separated), kept in step by
# triggers, so whatever writes a case keeps the name index right.
FTS_TRIGGERS = {
    "case_names_ai": "AFTER INSERT ON cases BEGIN "
    "INSERT INTO case_names (rowid, applicant_grams) VALUES (new.id, new.applicant_grams); END",
    "case_names_ad": "AFTER DELETE ON cases BEGIN "
    "INSERT INTO case_names (case_names, rowid, applicant_grams) VALUES ('delete', old.id, old.applicant_grams); END",
    "case_names_au": "AFTER UPDATE OF applicant_grams ON cases BEGIN "
    "INSERT INTO case_names (case_names, rowid, applicant_grams) VALUES ('delete', old.id, old.applicant_grams); "
    "INSERT INTO case_names (rowid, applicant_grams) VALUES (new.id, new.applicant_grams); END",
}


def grams(name: str | None) -> list[str]:
    """The migration's own copy of `engine.runtime.indexes.name_grams` (frozen here)."""
    text = (name or "").lower()
    return sorted(set(text) | {text[i:i + 2] for i in range(len(text) - 1)})


def upgrade() -> None:
    conn = op.get_bind()
    sqlite = conn.dialect.name == "sqlite"
    with op.batch_alter_table("task_index") as batch:
        for name in [*OLD, *COVERED]:
            batch.drop_index(name)
        for name, columns in NEW.items():
            batch.create_index(name, columns)
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("applicant_grams", GRAMS_TYPE, nullable=True))
    rows = conn.execute(sa.text("SELECT id, applicant_name FROM cases WHERE applicant_name IS NOT NULL")).all()
    if rows:
        conn.execute(sa.text("UPDATE cases SET applicant_grams = :g WHERE id = :i"),
                     [{"i": r.id, "g": " ".join(grams(r.applicant_name)) if sqlite else grams(r.applicant_name)}
                      for r in rows])
    if sqlite:
        op.execute("CREATE VIRTUAL TABLE case_names USING fts5(applicant_grams, content='cases', "
                   "content_rowid='id', tokenize='ascii')")
        op.execute("INSERT INTO case_names (case_names) VALUES ('rebuild')")
        for name, body in FTS_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
    else:
        # In `public`, not the first schema of the search path: a schema dropped with CASCADE would take the
        # extension, and every other schema's index on it, along.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
        where = conn.execute(sa.text("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
                                     "ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'")).scalar_one()
        op.execute(f'CREATE INDEX ix_cases_applicant_trgm ON cases USING gin (applicant_name "{where}".gin_trgm_ops)')
        op.execute("CREATE INDEX ix_cases_applicant_grams ON cases USING gin (applicant_grams)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in FTS_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
        op.execute("DROP TABLE case_names")
    else:
        op.execute("DROP INDEX ix_cases_applicant_grams")
        op.execute("DROP INDEX ix_cases_applicant_trgm")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("applicant_grams")
    with op.batch_alter_table("task_index") as batch:
        for name in NEW:
            batch.drop_index(name)
        for name, columns in {**OLD, **COVERED}.items():
            batch.create_index(name, columns)
