"""Manifest-field tables (``[servers.x.mcpb]``, ``[bundle.mcpb]``) for the tests of
``validate``, of the JSON Schema and of the official ``mcpb validate``.

:data:`EVERY_FIELD` sets every manifest field a user may override, each to a valid
value; :data:`BAD_FIELDS` are tables ``validate`` rejects in one line (the fragment) and
the JSON Schema rejects too. ``mcpb`` is True when the official CLI rejects the manifest
the table's values end up in (merged over what mcpbundle derives); False where
mcpbundle asks for more than a merge would need (an author's name, a repository's url:
the derived value a merge would complete may not exist).
"""

from __future__ import annotations

import tomllib
from typing import Any, NamedTuple

SERVER = '[servers.a]\npath = "srv"\nentrypoint = "server.py"\n'

EVERY_FIELD = r"""
[servers.a.mcpb]
manifest_version = "0.4"
name = "a"
display_name = "A server"
version = "1.2.3"
description = "Does A."
long_description = "Does A, at length."
author = { name = "Team", email = "team@example.com", url = "https://example.com/team" }
repository = { type = "git", url = "https://github.com/acme/a" }
homepage = "https://example.com"
documentation = "https://docs.example.com:8443/a?x=1#top"
support = "mailto:help@example.com"
icon = "icon.png"
icons = [{ src = "icon.png", size = "16x16", theme = "dark" }, { src = "icon.png", size = "32x32" }]
screenshots = ["icon.png"]
localization = { resources = "locales/${locale}.json", default_locale = "en-US" }
tools = [{ name = "health", description = "Report health." }, { name = "ping" }]
tools_generated = false
prompts = [{ name = "summary", text = "Summarize ${arguments.service}.", arguments = ["service"] }]
prompts_generated = true
keywords = ["sre", "on-call"]
license = "MIT"
privacy_policies = ["https://example.com/privacy"]
[servers.a.mcpb.compatibility]
claude_desktop = ">=0.10"
platforms = ["linux", "darwin"]
runtimes = { python = ">=3.12" }
[servers.a.mcpb.server]
type = "uv"
[servers.a.mcpb.server.mcp_config]
env = { LOG_LEVEL = "info", EMPTY = "" }
[servers.a.mcpb.server.mcp_config.platform_overrides.win32]
command = "uv.exe"
args = ["run"]
[servers.a.mcpb.user_config.REGION]
type = "string"
title = "Region"
description = "Where it runs."
default = "eu"
required = false
sensitive = false
[servers.a.mcpb.user_config.WORKERS]
type = "number"
title = "Workers"
description = "How many."
default = 4
min = 1
max = 64.5
[servers.a.mcpb.user_config.HOSTS]
type = "string"
title = "Hosts"
description = "Which."
multiple = true
default = ["a", "b"]
[servers.a.mcpb._meta."com.example.client"]
flag = true
nested = { depth = 2 }
"""


class Bad(NamedTuple):
    id: str
    toml: str  # the whole mcpbundle.toml
    fragment: str  # in validate's one error line
    mcpb: bool = True  # the official CLI rejects the merged manifest too


def _server(table: str) -> str:
    return SERVER + "[servers.a.mcpb]\n" + table + "\n"


BAD_FIELDS = [
    # issue 21: a string for a list built with exit 0, then failed `mcpb validate`
    Bad("keywords-string", _server('keywords = "ops"'),
        "servers.a.mcpb.keywords: must be a list of strings, got a string"),
    Bad("keywords-item", _server('keywords = ["ops", 1]'),
        "servers.a.mcpb.keywords[1]: must be a string, got an integer"),
    # issue 20: the schema accepted these, validate rejected them
    Bad("author-string", _server('author = "me"'),
        "servers.a.mcpb.author: must be a table, got a string"),
    Bad("bundle-author-string", '[bundle.mcpb]\nauthor = "x"\n' + SERVER,
        "bundle.mcpb.author: must be a table, got a string"),
    Bad("display-name-integer", _server("display_name = 1"),
        "servers.a.mcpb.display_name: must be a string, got an integer"),
    Bad("author-without-name", _server('author = { email = "a@b.co" }'),
        "servers.a.mcpb.author.name: is required", mcpb=False),
    Bad("author-email", _server('author = { name = "x", email = "nobody" }'),
        "servers.a.mcpb.author.email: 'nobody' is not an email address"),
    Bad("author-url", _server('author = { name = "x", url = "example.com" }'),
        "servers.a.mcpb.author.url: 'example.com' is not a URL"),
    Bad("author-key", _server('author = { name = "x", mail = "a@b.co" }'),
        "servers.a.mcpb.author.mail: unknown key; did you mean 'email'?"),
    Bad("homepage", _server('homepage = "example.com"'),
        "servers.a.mcpb.homepage: 'example.com' is not a URL"),
    Bad("documentation-list", _server('documentation = ["https://example.com"]'),
        "servers.a.mcpb.documentation: must be a string, got a list"),
    Bad("support-port", _server('support = "https://example.com:99999"'),
        "servers.a.mcpb.support: 'https://example.com:99999' is not a URL"),
    Bad("repository-string", _server('repository = "https://github.com/acme/a"'),
        "servers.a.mcpb.repository: must be a table, got a string"),
    Bad("repository-without-url", _server('repository = { type = "git" }'),
        "servers.a.mcpb.repository.url: is required", mcpb=False),
    Bad("long-description", _server('long_description = ["a"]'),
        "servers.a.mcpb.long_description: must be a string, got a list"),
    Bad("license", _server("license = 1"), "servers.a.mcpb.license: must be a string"),
    Bad("name", _server("name = true"), "servers.a.mcpb.name: must be a string, got a boolean"),
    Bad("icon", _server("icon = 1"), "servers.a.mcpb.icon: must be a string, got an integer"),
    Bad("icons-table", _server('icons = { src = "i.png", size = "16x16" }'),
        "servers.a.mcpb.icons: must be a list of tables, got a table"),
    Bad("icons-size", _server('icons = [{ src = "i.png", size = "big" }]'),
        "servers.a.mcpb.icons[0].size: 'big' is not"),
    Bad("icons-src", _server('icons = [{ size = "16x16" }]'),
        "servers.a.mcpb.icons[0].src: is required"),
    Bad("screenshots", _server('screenshots = "a.png"'),
        "servers.a.mcpb.screenshots: must be a list of strings, got a string"),
    Bad("localization-resources", _server(
        'localization = { resources = "locales/", default_locale = "en" }'),
        "servers.a.mcpb.localization.resources: 'locales/' has no ${locale}"),
    Bad("localization-locale", _server(
        'localization = { resources = "l/${locale}.json", default_locale = "en_US" }'),
        "servers.a.mcpb.localization.default_locale: 'en_US' is not a BCP 47 locale"),
    Bad("tools-string", _server('tools = ["health"]'),
        "servers.a.mcpb.tools[0]: must be a table, got a string"),
    Bad("tools-name", _server('tools = [{ description = "x" }]'),
        "servers.a.mcpb.tools[0].name: is required"),
    Bad("tools-generated", _server('tools_generated = "yes"'),
        "servers.a.mcpb.tools_generated: must be true or false, got a string"),
    Bad("prompts-text", _server('prompts = [{ name = "p" }]'),
        "servers.a.mcpb.prompts[0].text: is required"),
    Bad("prompts-arguments", _server('prompts = [{ name = "p", text = "t", arguments = "a" }]'),
        "servers.a.mcpb.prompts[0].arguments: must be a list of strings, got a string"),
    Bad("privacy-policies", _server('privacy_policies = ["privacy.html"]'),
        "servers.a.mcpb.privacy_policies[0]: 'privacy.html' is not a URL"),
    Bad("compatibility-key", _server('compatibility = { python = ">=3.12" }'),
        "servers.a.mcpb.compatibility.python: unknown key"),
    Bad("compatibility-platform", _server('compatibility = { platforms = ["macos"] }'),
        "servers.a.mcpb.compatibility.platforms[0]: must be one of 'darwin', 'win32', 'linux'"),
    Bad("compatibility-runtime", _server("compatibility = { runtimes = { python = 3.12 } }"),
        "servers.a.mcpb.compatibility.runtimes.python: must be a string, got a number"),
    Bad("server-type", _server('server = { type = "docker" }'),
        "servers.a.mcpb.server.type: must be one of 'python', 'node', 'binary', 'uv'"),
    Bad("server-args", _server('server = { mcp_config = { args = "x" } }'),
        "servers.a.mcpb.server.mcp_config.args: must be a list of strings, got a string"),
    Bad("server-env", _server("server = { mcp_config = { env = { A = 1 } } }"),
        "servers.a.mcpb.server.mcp_config.env.A: must be a string, got an integer"),
    Bad("user-config-entry", _server('user_config = { A = "x" }'),
        "servers.a.mcpb.user_config.A: must be a table, got a string"),
    Bad("user-config-type", _server('user_config = { A = { type = "int" } }'),
        "servers.a.mcpb.user_config.A.type: must be one of 'string', 'number'"),
    Bad("user-config-default", _server("user_config = { A = { default = { x = 1 } } }"),
        "servers.a.mcpb.user_config.A.default: must be a string, a number, true or false, "
        "or a list of strings, got a table"),
    Bad("user-config-min", _server('user_config = { A = { min = "1" } }'),
        "servers.a.mcpb.user_config.A.min: must be a number, got a string"),
    Bad("user-config-key", _server("user_config = { A = { sensitve = true } }"),
        "servers.a.mcpb.user_config.A.sensitve: unknown key; did you mean 'sensitive'?"),
    Bad("meta", _server('_meta = { "com.example" = 1 }'),
        "servers.a.mcpb._meta.'com.example': must be a table, got an integer"),
    Bad("manifest-version", _server('manifest_version = "1.0"'),
        "servers.a.mcpb.manifest_version: must be one of '0.3', '0.4'"),
    Bad("version", _server("version = 1"),
        "servers.a.mcpb.version: must be a string, got an integer"),
]  # fmt: skip


def mcpb_table(toml: str) -> dict[str, Any]:
    """The manifest fields a case's config sets: ``[bundle.mcpb]`` then ``[servers.a.mcpb]``."""
    data = tomllib.loads(toml)
    out: dict[str, Any] = dict(data.get("bundle", {}).get("mcpb", {}))
    out.update(data["servers"]["a"].get("mcpb", {}))
    return out
