"""``schema/mcpbundle.schema.json``: generated from validate's table of keys, checked by a
real JSON Schema validator (check-jsonschema) against the example and the bad-input corpus.

The corpus test pins the exact set of cases the schema rejects: a schema that stops
catching a type, key or shape error fails it, and so does a schema stricter than
``validate`` (it would reject a case that only the file system makes wrong, or a
positive control).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from mcpbundle.base.errors import ConfigError
from mcpbundle.config.json_schema import SCHEMA_ID, schema_text
from mcpbundle.config.schema import Table
from mcpbundle.config.settings import ROOT
from mcpbundle.config.validate import load_config
from support.mcpbcases import BAD_FIELDS, EVERY_FIELD, SERVER

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO / "schema" / "mcpbundle.schema.json"
EXAMPLE = REPO / "mcpbundle.toml.example"
CORPUS = REPO / "tests" / "corpus" / "bad_inputs"

# Every case whose mcpbundle.toml is wrong in a way a type, a key list or a pattern says.
SCHEMA_REJECTS = {
    "config_ci_python_invalid", "empty_server_name", "empty_server_path", "empty_shared_name",
    "entrypoint_not_py", "entrypoint_nul_byte", "invalid_server_name",
    "max_file_size_not_a_size", "no_servers", "output_absolute", "output_nul_byte",
    "path_nul_byte", "server_missing_entrypoint", "server_name_too_long",
    "server_path_absolute", "shared_missing_path", "shared_name_too_long",
    "type_bundle_hashes_is_string", "type_bundle_python_format", "type_env_value_is_integer",
    "type_expect_tools_empty_entry", "type_server_path_is_integer",
    "type_server_shared_is_string", "type_servers_is_array", "unknown_bundle_deploy_key",
    "unknown_bundle_key", "unknown_check_key", "unknown_server_key", "unknown_shared_key",
    "unknown_top_level_table", "value_bundle_branch_invalid", "value_bundle_resolver_unknown",
    "value_shim_name_not_module",
    "type_mcpb_keywords_is_string", "type_mcpb_author_is_string",
    "type_bundle_mcpb_author_is_string", "type_mcpb_display_name_is_integer",
    "value_mcpb_author_without_name", "value_mcpb_homepage_not_url",
}  # fmt: skip


def check_jsonschema(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--schemafile", str(SCHEMA), *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_committed_schema_is_the_generated_one(tmp_path: Path) -> None:
    assert SCHEMA.read_text(encoding="utf-8") == schema_text(), "run `make schema`"
    out = tmp_path / "schema.json"
    done = subprocess.run(
        [sys.executable, "-m", "mcpbundle.config.json_schema", str(out)],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == SCHEMA.read_bytes()


def test_schema_is_a_valid_draft_07_schema() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--check-metaschema", str(SCHEMA)],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(SCHEMA.read_text())["$schema"].startswith("http://json-schema.org/draft-07")


def test_example_names_the_schema_first_and_passes_it() -> None:
    first = EXAMPLE.read_text(encoding="utf-8").splitlines()[0]
    assert first == f"#:schema {SCHEMA_ID}"
    done = check_jsonschema("--default-filetype", "toml", str(EXAMPLE))
    assert done.returncode == 0, done.stdout + done.stderr


def _keys(table: Table, prefix: str = "") -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for key in table.keys:
        nested = key.table or key.each
        if nested is None:
            out.append((prefix + key.name, key.default))
        else:
            out.extend(_keys(nested, f"{prefix}{key.name}."))
    return out


def test_every_key_of_the_table_has_its_description_and_default_in_the_schema() -> None:
    document = json.loads(SCHEMA.read_text())
    for dotted, default in _keys(ROOT):
        node = document
        for depth, part in enumerate(dotted.split(".")):
            node = node["properties"][part]
            if depth == 0 and part in ("shared", "servers"):  # tables of tables, by name
                node = node["additionalProperties"]
        assert node["description"], dotted
        if default is not None:
            expected = list(default) if isinstance(default, tuple) else default
            assert node["default"] == expected, dotted


def test_a_wrong_type_fails_validate_and_the_schema_alike(tmp_path: Path) -> None:
    (tmp_path / "srv").mkdir()
    (tmp_path / "srv" / "server.py").write_text("mcp = None\n")
    config = tmp_path / "mcpbundle.toml"
    config.write_text('[servers.a]\npath = "srv"\nentrypoint = "server.py"\nshim = "sometimes"\n')
    schema = check_jsonschema(str(config))
    assert schema.returncode == 1 and "'sometimes' is not one of" in schema.stdout
    done = subprocess.run(
        [sys.executable, "-m", "mcpbundle", "validate"],
        cwd=tmp_path,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "servers.a.shim" in done.stderr


def _corpus_configs(tmp_path: Path) -> dict[str, Path]:
    """Each case's mcpbundle.toml that TOML can read, copied without a BOM (which
    check-jsonschema's TOML reader refuses and mcpbundle accepts)."""
    configs: dict[str, Path] = {}
    for case in sorted(CORPUS.iterdir()):
        source = case / "repo" / "mcpbundle.toml"
        if not source.is_file():
            continue
        try:
            text = source.read_bytes().decode("utf-8-sig")
            tomllib.loads(text)
        except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
            continue  # a TOML syntax case: no editor schema can speak of it
        copy = tmp_path / case.name / "mcpbundle.toml"
        copy.parent.mkdir()
        copy.write_text(text, encoding="utf-8")
        configs[case.name] = copy
    return configs


def test_the_schema_rejects_exactly_the_corpus_cases_of_type_key_and_shape(
    tmp_path: Path,
) -> None:
    configs = _corpus_configs(tmp_path)
    assert len(configs) > 80  # the corpus is read
    done = check_jsonschema("-o", "json", *map(str, configs.values()))
    report = json.loads(done.stdout)
    assert not report.get("parse_errors"), report["parse_errors"]
    rejected = {Path(error["filename"]).parent.name for error in report["errors"]}
    assert rejected == SCHEMA_REJECTS
    for name in configs:  # never stricter than validate: every rejected case fails there too
        expect = tomllib.loads((CORPUS / name / "expect.toml").read_text())
        assert expect["exit"] != 0 or name not in rejected, name


def test_the_schema_and_validate_agree_on_every_manifest_field(tmp_path: Path) -> None:
    """The mcpb tables' fields: each valid value passes both, each wrong shape fails both
    (issue 20: the schema named the fields only, validate checked a few of them)."""
    cases = {"every-field": SERVER + EVERY_FIELD, **{case.id: case.toml for case in BAD_FIELDS}}
    configs = []
    for name, toml in cases.items():
        (tmp_path / name / "srv").mkdir(parents=True)
        (tmp_path / name / "srv" / "server.py").write_text("mcp = None\n")
        (tmp_path / name / "mcpbundle.toml").write_text(toml)
        configs.append(str(tmp_path / name / "mcpbundle.toml"))
    done = check_jsonschema("-o", "json", *configs)
    report = json.loads(done.stdout)
    assert not report.get("parse_errors"), report["parse_errors"]
    rejected = {Path(error["filename"]).parent.name for error in report["errors"]}
    assert rejected == {case.id for case in BAD_FIELDS}
    load_config(tmp_path / "every-field")
    for case in BAD_FIELDS:
        with pytest.raises(ConfigError, match=re.escape(case.fragment)):
            load_config(tmp_path / case.id)
