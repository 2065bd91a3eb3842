"""Fake secrets of a real shape, made at test time.

No file in the repository holds one (no push-protection alert, no scanner noise):
each value is built here from a seeded generator, so it is random-looking (no
placeholder word, not sequential, real length) yet the same on every run.
"""

from __future__ import annotations

import base64
import json
import random
import string

ALNUM = string.ascii_letters + string.digits
UPPER_DIGITS = string.ascii_uppercase + string.digits


class Fakes:
    def __init__(self, seed: int = 7) -> None:
        self._random = random.Random(seed)

    def chars(self, n: int, alphabet: str = ALNUM) -> str:
        """``n`` characters of ``alphabet``, with a digit and both cases when it has them."""
        while True:
            value = "".join(self._random.choice(alphabet) for _ in range(n))
            wanted = [set(string.digits), set(string.ascii_lowercase), set(string.ascii_uppercase)]
            if all(not (s & set(alphabet)) or (s & set(value)) for s in wanted):
                return value

    def digits(self, n: int) -> str:
        return str(self._random.randint(1, 9)) + self.chars(n - 1, string.digits)

    def github(self) -> str:
        return "ghp_" + self.chars(36)

    def github_fine_grained(self) -> str:
        return "github_pat_" + self.chars(22) + "_" + self.chars(59)

    def aws_key_id(self) -> str:
        return "AKIA" + self.chars(16, UPPER_DIGITS)

    def aws_secret(self) -> str:
        return self.chars(40, ALNUM + "/+")

    def slack_bot(self) -> str:
        return f"xoxb-{self.digits(11)}-{self.digits(13)}-{self.chars(24)}"

    def slack_user(self) -> str:
        hexa = self.chars(32, "0123456789abcdef")
        return f"xoxp-{self.digits(11)}-{self.digits(11)}-{self.digits(13)}-{hexa}"

    def slack_webhook(self) -> str:
        team, bot = self.chars(10, UPPER_DIGITS), self.chars(11, UPPER_DIGITS)
        return f"https://hooks.slack.com/services/T{team}/B{bot}/{self.chars(24)}"

    def jwt(self) -> str:
        def part(data: bytes) -> str:
            return base64.urlsafe_b64encode(data).decode().rstrip("=")

        header = json.dumps({"alg": "HS256", "typ": "JWT"}).encode()
        payload = json.dumps({"sub": self.digits(10), "iat": 1_700_000_000}).encode()
        signature = bytes(self._random.randrange(256) for _ in range(32))
        return f"{part(header)}.{part(payload)}.{part(signature)}"

    def password(self) -> str:
        return self.chars(12) + "!" + self.chars(3)

    def pem_body(self) -> str:
        return self.chars(64, ALNUM + "+/")
