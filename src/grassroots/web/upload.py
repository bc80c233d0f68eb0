"""The upload page: a unit sends a form's file, sees the check's findings at once."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
