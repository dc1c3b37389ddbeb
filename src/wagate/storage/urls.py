"""One database URL, three dialects: libpq (psycopg, procrastinate) and SQLAlchemy."""

from __future__ import annotations

_SCHEMES = ("postgresql+psycopg://", "postgresql+psycopg2://", "postgresql://", "postgres://")


def libpq_url(url: str) -> str:
    for scheme in _SCHEMES:
        if url.startswith(scheme):
            return "postgresql://" + url[len(scheme) :]
    raise ValueError("DATABASE_URL must start with postgresql:// (PostgreSQL is the only database)")


def sqlalchemy_url(url: str) -> str:
    return "postgresql+psycopg://" + libpq_url(url)[len("postgresql://") :]
