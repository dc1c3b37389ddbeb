"""The app role's connection URL: the owner's, with only the user and password replaced."""

from __future__ import annotations

import pytest

from wagate.storage.database import checked_tenant
from wagate.storage.roles import AppRoleError, app_url_for, role_of


def test_user_and_password_are_replaced_and_the_rest_kept() -> None:
    owner = "postgresql+psycopg://owner:secret@db.example:6432/wagate?sslmode=require"
    assert (
        app_url_for(owner, "wagate_app", "s3cret")
        == "postgresql://wagate_app:s3cret@db.example:6432/wagate?sslmode=require"
    )


def test_a_url_without_credentials_gains_them() -> None:
    assert app_url_for("postgresql://localhost/db", "app", None) == "postgresql://app@localhost/db"
    assert (
        app_url_for("postgres:///db?host=/run/postgresql", "app", "pw")
        == "postgresql://app:pw@/db?host=/run/postgresql"
    )


def test_special_characters_are_escaped_and_read_back() -> None:
    url = app_url_for("postgresql://o:p@h/db", "app role", "p@ss:w/rd%")
    assert url == "postgresql://app%20role:p%40ss%3Aw%2Frd%25@h/db"
    assert role_of(url) == "app role"


def test_a_url_naming_no_user_is_refused() -> None:
    with pytest.raises(AppRoleError, match="no user"):
        role_of("postgresql://localhost/db")
    with pytest.raises(ValueError, match="postgresql://"):
        app_url_for("mysql://u@h/db", "app", None)


@pytest.mark.parametrize("tenant", ["", "   "])
def test_an_empty_tenant_is_refused_where_the_mistake_is_made(tenant: str) -> None:
    with pytest.raises(ValueError, match="tenant"):
        checked_tenant(tenant)
