"""The content scanner in-process: placeholders, real shapes, documentation files, pragmas.

Every fake secret is made at test time (:mod:`support.fakesecrets`), so no file in
the repository holds one.
"""

from __future__ import annotations

import base64

import pytest

from mcpbundle.emit.secret_scan import SecretHit, is_doc_file, mask, scan_bytes
from support.fakesecrets import Fakes

F = Fakes(seed=11)
GH = F.github()
GH_FINE = F.github_fine_grained()
AWS_ID = F.aws_key_id()
AWS_SECRET = F.aws_secret()
SLACK_BOT = F.slack_bot()
SLACK_USER = F.slack_user()
WEBHOOK = F.slack_webhook()
JWT = F.jwt()
PASSWORD = F.password()
TOKEN = F.chars(24)


def scan(text: str, path: str) -> list[SecretHit]:
    return scan_bytes(text.encode(), path)


def kinds(hits: list[SecretHit]) -> list[tuple[int, str, str]]:
    return [(h.line, h.kind, h.severity) for h in hits]


def assert_masked(hits: list[SecretHit], *secrets: str) -> None:
    for hit in hits:
        for secret in secrets:
            assert secret not in hit.masked
            assert secret not in repr(hit)


# ------------------------------------------------------------------ placeholders

PLACEHOLDERS = [
    '"SLACK_USER_TOKEN": "xoxp-your-token-here"',  # the real README line of issue 12
    '"SLACK_BOT_TOKEN": "xoxb-your-bot-token"',
    "export GITHUB_TOKEN=ghp_your_token_here",
    "GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "GITHUB_TOKEN=ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
    "GITHUB_TOKEN=ghp_000000000000000000000000000000000000",
    "GITHUB_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789",  # sequential
    "GITHUB_TOKEN=ghp_...",
    "token: <token>",
    'api_key = "<your-api-key>"',
    "API_KEY=${API_KEY}",
    'password = "changeme"',
    'PASSWORD = "your-password"',
    'PASSWORD = "example-password"',
    'password = "********"',
    'PASSWORD = "${DB_PASSWORD}"',
    'PASSWORD_ENV = "DB_PASSWORD"',
    'password = os.environ["DB_PASSWORD"]',
    'SECRET_HEADER = "X-Api-Secret"',
    "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",  # AWS's documented example
    "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "SLACK_BOT_TOKEN=xoxb-0000000000-0000000000000-aaaaaaaaaaaaaaaaaaaaaaaa",
    "SLACK_BOT_TOKEN=xoxb-1234567890-1234567890123-abcdefghijklmnopqrstuvwx",
    "SLACK_BOT_TOKEN=xoxb-123-456",  # shorter than the format's real length
    "SLACK_WEBHOOK=https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
    "DATABASE_URL=postgres://user:password@localhost:5432/db",
    "DATABASE_URL=postgres://user:pass@localhost/db",
    "DATABASE_URL=postgres://${DB_USER}:${DB_PASSWORD}@db/app",
    "DATABASE_URL=postgres://user:<password>@db.internal/app",
    # the image's default user and password, on a compose service or this machine
    'os.getenv("DATABASE_URL", "postgresql://postgres:postgres@postgres:5432/omni")',
    "REDIS_URL=redis://guest:guest@localhost:6379/0",
    "PIP_INDEX_URL=https://__token__:${PYPI_TOKEN}@pypi.internal/simple",
    "url = https://user:xxxxxxxx@example.org/simple",
    "-----BEGIN PRIVATE KEY-----",
    "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----",
    "-----BEGIN OPENSSH PRIVATE KEY-----\n<your key>\n-----END OPENSSH PRIVATE KEY-----",
    "Authorization: Bearer <jwt>",
    "SHA = 'da39a3ee5e6b4b0d3255bfef95601890afd80709'",  # a git-style hex digest
    "id = 'f47ac10b-58cc-4372-a567-0e02b2c3d479'",  # a UUID
]


@pytest.mark.parametrize("text", PLACEHOLDERS)
@pytest.mark.parametrize("path", ["svc/README.md", "svc/settings.py", "svc/config.yaml"])
def test_placeholders_are_not_secrets(text: str, path: str) -> None:
    assert kinds(scan(text + "\n", path)) == []


# --------------------------------------------------------------- shapes in code

PEM = f"-----BEGIN RSA PRIVATE KEY-----\n{F.pem_body()}\n-----END RSA PRIVATE KEY-----\n"
SHAPES = [
    ("GitHub token", f'TOKEN = "{GH}"\n', "svc/gh.py", 1),
    ("GitHub token", f'client = Github("{GH}")\n', "svc/gh.py", 1),  # detect-secrets skips this
    ("GitHub token", f"github:\n  token: {GH_FINE}\n", "svc/ci.yaml", 2),
    ("AWS access key id", f'boto3.client("s3", aws_access_key_id="{AWS_ID}")\n', "svc/s3.py", 1),
    ("AWS secret access key", f'AWS_SECRET_ACCESS_KEY = "{AWS_SECRET}"\n', "svc/aws.py", 1),
    ("AWS secret access key", f"[default]\naws_secret_access_key = {AWS_SECRET}\n", "svc/a.ini", 2),
    ("AWS secret access key", f"AWS_SECRET_ACCESS_KEY={AWS_SECRET}\n", "svc/deploy.sh", 1),
    ("Slack token", f'SLACK = "{SLACK_BOT}"\n', "svc/notify.py", 1),
    ("Slack webhook URL", f'HOOK = "{WEBHOOK}"\n', "svc/notify.py", 1),
    ("JSON web token", f'SESSION = "{JWT}"\n', "svc/session.py", 1),
    (
        "database URL with a password",
        f'DATABASE_URL = "postgres://app:{PASSWORD}@db.internal:5432/app"\n',
        "svc/db.py",
        1,
    ),
    (
        "database URL with a password",
        "DATABASE_URL = 'postgresql://app:pw@db.internal/app'\n",  # any real password
        "svc/db.py",
        1,
    ),
    (
        "database URL with a password",  # a password like the user's, on a real host
        "DATABASE_URL = 'postgresql://postgres:postgres@db.example.com/app'\n",
        "svc/db.py",
        1,
    ),
    ("hard-coded password", f'PASSWORD = "{PASSWORD}"\n', "svc/settings.py", 1),
    ("hard-coded password", f"db:\n  password: {PASSWORD}\n", "svc/config.yaml", 2),
    ("hard-coded secret", f'API_KEY = "{TOKEN}"\n', "svc/settings.py", 1),
    (
        "URL with credentials",
        f"--index-url https://deploy:{TOKEN}@pypi.internal/simple\nalpha\n",
        "svc/requirements.txt",
        1,
    ),
    (
        "URL with credentials",
        f"alpha\ngit+https://deploy:{TOKEN}@git.internal/org/pkg.git@v1#egg=pkg\n",
        "svc/requirements-dev.txt",
        2,
    ),
    ("URL with credentials", "--extra-index-url https://user:tok@host/simple\n", "svc/r.in", 1),
    ("URL with credentials", f'REMOTE = "https://bot:{TOKEN}@github.com/o/r.git"\n', "s/g.py", 1),
    (
        "private key",
        f"-----BEGIN RSA PRIVATE KEY-----\n{F.pem_body()}\n-----END RSA PRIVATE KEY-----\n",
        "svc/key_material.txt",
        1,
    ),
    ("high-entropy value in .env.example", f"A=1\nSERVICE_TOKEN={TOKEN}\n", "svc/.env.example", 2),
    (
        "private key",  # a kubeconfig's client key: a PEM key, base64-encoded
        "apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    client-key-data: "
        + base64.b64encode(PEM.encode()).decode()
        + "\n",
        "svc/kube/config",
        6,
    ),
]


@pytest.mark.parametrize(("kind", "text", "path", "line"), SHAPES, ids=lambda v: str(v)[:30])
def test_each_shape_is_an_error_with_its_line(kind: str, text: str, path: str, line: int) -> None:
    hits = scan(text, path)
    assert [(h.line, h.kind, h.severity) for h in hits][:1] == [(line, kind, "error")], hits
    assert_masked(hits, GH, GH_FINE, AWS_ID, AWS_SECRET, SLACK_BOT, WEBHOOK, JWT, PASSWORD, TOKEN)


def test_aws_secret_key_next_to_its_key_id() -> None:
    text = f'CREDS = (\n    "{AWS_ID}",\n    "{AWS_SECRET}",\n)\n'
    assert kinds(scan(text, "svc/creds.py")) == [
        (2, "AWS access key id", "error"),
        (3, "AWS secret access key", "error"),
    ]


def test_a_40_character_token_alone_is_not_an_aws_secret() -> None:
    assert scan(f'VALUE = "{AWS_SECRET}"\n', "svc/values.py") == []


def test_mask_keeps_the_prefix_only() -> None:
    assert mask(GH) == f"ghp_…({len(GH)} chars)"
    assert mask("pw") == "…(2 chars)"  # short: nothing of it
    assert mask(PASSWORD, prefix=False) == f"…({len(PASSWORD)} chars)"
    assert mask(AWS_ID) == "AKIA…(20 chars)"


def test_passwords_and_url_credentials_are_masked_whole() -> None:
    hits = scan(f'PASSWORD = "{PASSWORD}"\nURL = "https://u:{TOKEN}@h/x"\n', "svc/s.py")
    assert [h.masked for h in hits] == [f"…({len(PASSWORD)} chars)", f"…({len(TOKEN)} chars)"]


# --------------------------------------------------------------- documentation files


@pytest.mark.parametrize(
    "path", ["svc/README.md", "svc/docs/setup.rst", "svc/NOTES.txt", "svc/Guide.MD"]
)
def test_documentation_files(path: str) -> None:
    assert is_doc_file(path)


@pytest.mark.parametrize(
    "path",
    ["svc/requirements.txt", "svc/requirements-dev.txt", "svc/dev-requirements.txt",
     "svc/constraints.txt", "svc/server.py", "svc/.env.example", "svc/README"],
)  # fmt: skip
def test_not_documentation_files(path: str) -> None:
    assert not is_doc_file(path)


def test_fixed_structure_formats_in_a_readme_are_errors() -> None:
    body = F.pem_body()
    text = (
        f"# svc\n\nexport GITHUB_TOKEN={GH}\n\nAWS_ACCESS_KEY_ID={AWS_ID}\n\n"
        f"```\n-----BEGIN OPENSSH PRIVATE KEY-----\n{body}\n"
        "-----END OPENSSH PRIVATE KEY-----\n```\n"
    )
    assert kinds(scan(text, "svc/README.md")) == [
        (3, "GitHub token", "error"),
        (5, "AWS access key id", "error"),
        (8, "private key", "error"),
    ]


def test_other_findings_in_a_readme_are_warnings() -> None:
    text = (
        f'# svc\n\n```json\n"SLACK_USER_TOKEN": "{SLACK_USER}"\n```\n\n'
        f"Webhook: {WEBHOOK}\n\nDATABASE_URL=postgres://app:{PASSWORD}@db.internal/app\n"
        f"Bearer {JWT}\n"
    )
    hits = scan(text, "svc/README.md")
    assert kinds(hits) == [
        (4, "Slack token", "warning"),
        (7, "Slack webhook URL", "warning"),
        (9, "database URL with a password", "warning"),
        (10, "JSON web token", "warning"),
    ]
    assert_masked(hits, SLACK_USER, WEBHOOK, PASSWORD, JWT)


def test_the_same_slack_token_in_code_is_an_error() -> None:
    assert kinds(scan(f'TOKEN = "{SLACK_USER}"\n', "svc/server.py")) == [
        (1, "Slack token", "error")
    ]


def test_credentials_in_a_requirements_txt_are_errors_not_doc_warnings() -> None:
    text = f"--index-url https://user:{TOKEN}@pypi.internal/simple\nalpha\n"
    assert kinds(scan(text, "svc/requirements.txt")) == [(1, "URL with credentials", "error")]


# ------------------------------------------------------------------------- pragmas


@pytest.mark.parametrize(
    "text",
    [
        f'TOKEN = "{GH}"  # pragma: allowlist secret\n',
        f'# pragma: allowlist nextline secret\nTOKEN = "{GH}"\n',
        f'TOKEN = "{GH}"  # mcpbundle: allow-secret\n',
        f"const token = '{GH}'; // pragma: allowlist secret\n",
    ],
)
def test_inline_pragmas_allow_a_line(text: str) -> None:
    assert scan(text, "svc/settings.py") == []


def test_markdown_pragma_allows_a_line() -> None:
    text = f"Example: `{GH}` <!-- pragma: allowlist secret -->\n"
    assert scan(text, "svc/README.md") == []


def test_pragma_allows_only_its_line() -> None:
    text = f'A = "{GH}"  # pragma: allowlist secret\nB = "{F.github()}"\n'
    assert kinds(scan(text, "svc/settings.py")) == [(2, "GitHub token", "error")]


def test_binary_files_are_scanned_for_fixed_formats() -> None:
    data = b"\x00\x01\x02" + GH.encode() + b"\x00" + b"PASSWORD = 'Qz8!vK2pLm9x'\x00"
    hits = scan_bytes(data, "svc/blob.bin")
    assert [(h.kind, h.severity) for h in hits] == [("GitHub token", "error")]


# ------------------------------------------------------- every plugin through its gate

HEX = "0123456789abcdef"
PLUGIN_SAMPLES = [
    ("ArtifactoryDetector", f'artifactory = "AKC{F.chars(70)}"'),
    ("AzureStorageKeyDetector", f"AccountKey={F.chars(86)}=="),
    ("CloudantDetector", f'cloudant_password = "{F.chars(64, HEX)}"'),
    ("CloudantDetector", f"https://user:{F.chars(64, HEX)}@acct.cloudant.com"),
    ("DiscordBotTokenDetector", f'"M{F.chars(23)}.{F.chars(6)}.{F.chars(27)}"'),
    ("GitLabTokenDetector", f'"glpat-{F.chars(20)}"'),
    ("IbmCloudIamDetector", f'ibm_cloud_iam_api_key = "{F.chars(44)}"'),
    ("IbmCosHmacDetector", f'secret_access_key = "{F.chars(48, HEX)}"'),
    ("MailchimpDetector", f'"{F.chars(32, HEX)}-us12"'),
    ("NpmDetector", f"//registry.npmjs.org/:_authToken=npm_{F.chars(36)}"),
    ("SendGridDetector", f'"SG.{F.chars(22)}.{F.chars(43)}"'),
    ("SoftlayerDetector", f'softlayer_api_key = "{F.chars(64, HEX)}"'),
    ("SquareOAuthDetector", f'"sq0csp-{F.chars(43)}"'),
    ("TelegramBotTokenDetector", f'"{F.digits(10)}:{F.chars(35)}"'),
    ("TwilioKeyDetector", f'"SK{F.chars(32, HEX)}"'),
]


@pytest.mark.parametrize(("plugin", "line"), PLUGIN_SAMPLES, ids=[p for p, _ in PLUGIN_SAMPLES])
def test_each_detect_secrets_plugin_is_reached(plugin: str, line: str) -> None:
    """The whole-file gates in front of the plugins never hide a line they would match."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    cls = next(c for c in get_mapping_from_secret_type_to_class().values() if c.__name__ == plugin)
    assert cls().analyze_line(filename="svc/x.py", line=line)  # the plugin's own verdict
    text = f"import os\n\n{line}\n"
    assert [(h.line, h.severity) for h in scan(text, "svc/x.py")][:1] == [(3, "error")]


@pytest.mark.parametrize(
    "line",
    [
        'WIKIPEDIA_USER_AGENT="MCPWikipediaServer/1.0"',
        "USER_AGENT=MyCompanyWeatherBot/2.3 (ops@example.org)",
        "DATA_PATH=resources/StationIdentifiers/2024",
    ],
)
def test_words_and_versions_between_slashes_in_an_env_example_are_not_secrets(line: str) -> None:
    """A product token or a path is words, digits and slashes: not random."""
    assert kinds(scan(line + "\n", "svc/.env.example")) == []


def test_a_random_value_with_slashes_in_an_env_example_is_still_found() -> None:
    value = "q8Zr2LmX7v/Tn4KpB9sWd3HfY/Jc6Ua"
    found = kinds(scan(f"SERVICE_TOKEN={value}\n", "svc/.env.example"))
    assert found == [(1, "high-entropy value in .env.example", "error")]
