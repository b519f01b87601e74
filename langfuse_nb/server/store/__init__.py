"""SQLite storage: the database handle, numbered migrations, and one module per entity."""
