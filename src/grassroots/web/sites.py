"""The static sites behind the Airflow login: reports, GX Data Docs, dbt docs."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
