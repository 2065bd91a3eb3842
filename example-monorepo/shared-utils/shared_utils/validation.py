"""Pydantic models shared by the servers."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field, field_validator

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")


class ContactInfo(BaseModel):
    """A person's name and e-mail address, normalized."""

    name: str = Field(min_length=1, max_length=200)
    email: str

    @field_validator("name")
    @classmethod
    def _collapse_spaces(cls, value: str) -> str:
        return " ".join(value.split())

    @field_validator("email")
    @classmethod
    def _check_email(cls, value: str) -> str:
        email = value.strip().lower()
        if not _EMAIL.match(email):
            raise ValueError(f"not an e-mail address: {value!r}")
        return email
