"""Valid form data for every source and variant, shared by the tests."""

from __future__ import annotations

from typing import Any

from app.sources import SOURCES

# duplicate_ok: these tests create "Orders warehouse" again and again; test_manage checks the namesake warning.
COMMON = {"name": "Orders warehouse", "description": "Nightly orders", "sandbox": "prod", "duplicate_ok": "1"}

VARIANTS = {
    "greenplum-fields": (
        "greenplum",
        {
            "method": "fields",
            "server": "gp.example.com",
            "port": "5432",
            "database": "orders",
            "username": "etl",
            "password": "s3cret;{x}",
        },
    ),
    "greenplum-string": (
        "greenplum",
        {
            "method": "connectionString",
            "connectionString": "HOST=gp.example.com;PORT=5432;DB=orders;UID=etl;PWD=s3cret",
        },
    ),
    "postgresql-fields": (
        "postgresql",
        {
            "method": "fields",
            "server": "pg.example.com",
            "port": "5432",
            "database": "orders",
            "username": "etl",
            "password": "s3cret",
            "encryptionMethod": "1",
            "validateServerCertificate": "1",
        },
    ),
    "postgresql-string": (
        "postgresql",
        {
            "method": "connectionString",
            "connectionString": "Server=pg.example.com;Database=orders;Port=5432;UID=etl;Password=s3cret",
        },
    ),
    "postgresql-basic": (
        "postgresql",
        {
            "method": "basic",
            "server": "pg.example.com",
            "port": "5432",
            "database": "orders",
            "username": "etl",
            "password": "s3cret",
            "sslMode": "Verify Full",
        },
    ),
    "redshift": (
        "redshift",
        {"server": "rs.example.com", "port": "5439", "database": "dev", "username": "etl", "password": "s3cret"},
    ),
    "phoenix": (
        "phoenix",
        {
            "host": "hb.example.com",
            "port": "443",
            "httpPath": "/hbasephoenix0",
            "enableSsl": "y",
            "username": "admin",
            "password": "s3cret",
        },
    ),
}


def form_data(variant: str, **changes: str) -> tuple[str, dict[str, str]]:
    """The source key and a valid form for `variant` (a key of VARIANTS), each change applied over it."""
    key, data = VARIANTS[variant]
    return key, {**COMMON, **data, **changes}


def connection_body(name: str, spec: str = "postgresql", password: str = "first-pw-1") -> dict[str, Any]:
    """A POST /connections body for PostgreSQL (basic) or GreenPlum, to create connections directly."""
    params = {
        "server": "pg.example.com",
        "port": "5432",
        "database": "orders",
        "username": "etl",
        "password": password,
        "sslMode": "Verify Full",
    }
    if spec == "greenplum":
        return {
            "name": name,
            "auth": {
                "specName": "Basic Authentication",
                "params": {"connectionString": f"HOST=gp.example.com;PORT=5432;DB=orders;UID=etl;PWD={password}"},
            },
            "connectionSpec": {"id": SOURCES["greenplum"].connection_spec_id, "version": "1.0"},
        }
    return {
        "name": name,
        "auth": {"specName": "Basic Authentication", "params": params},
        "connectionSpec": {"id": SOURCES["postgresql"].connection_spec_id, "version": "1.0"},
    }
