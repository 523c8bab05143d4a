"""The one `MetaData` every table of the platform belongs to (Alembic compares the migrations with it)."""

from sqlalchemy import MetaData

metadata = MetaData()
