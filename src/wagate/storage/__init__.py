"""PostgreSQL storage: the embedded server, connections, tables, repositories, migrations."""
