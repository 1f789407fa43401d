"""Routes of this area."""

from fastapi import APIRouter

router = APIRouter()
