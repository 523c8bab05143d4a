"""Storage: the database connection and unit of work (db), the tables, and the schema with its Alembic
migrations. Everything else reads and writes through these; this package imports nothing of the engine but
settings."""
