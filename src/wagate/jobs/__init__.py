"""The job queue (procrastinate on the same PostgreSQL) and its tasks."""
