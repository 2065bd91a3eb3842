"""Properties (hypothesis) of requirement classification, merging, config paths and emit."""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.requirements import Requirement

from mcpbundle.base.errors import ConfigError, MCPBundleError
from mcpbundle.config.validate import validate
from mcpbundle.emit import directory as emit
from mcpbundle.emit.manifest import parse_manifest, render_manifest, sha256_file
from mcpbundle.plan.requirement_lists import merge_requirements
from mcpbundle.plan.requirements import ReqLine, parse_requirement_text

BASE = Path(tempfile.gettempdir()) / "mcpbundle-properties-base-does-not-exist"
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NAMES = st.sampled_from(["alpha", "Beta", "gamma_x", "delta.y", "py-kappa", "fastmcp", "mcp"])
SPECS = st.sampled_from(["", ">=1.0", "==2.0", "<3,>=1", "~=1.4", "!=1.1", "===1.0"])
EXTRAS = st.sampled_from(["", "[fast]", "[a,b]"])
MARKERS = st.sampled_from(["", '; python_version >= "3.8"', "; sys_platform == 'linux'"])
REQUIREMENT_TEXT = st.builds(lambda n, e, s, m: f"{n}{e}{s}{m}", NAMES, EXTRAS, SPECS, MARKERS)
NOT_PYPI = st.sampled_from(
    [
        "../shared",
        "./lib",
        "file:../lib",
        "name @ file:///abs/x",
        "git+https://example.com/r.git#egg=r",
        "pkg @ git+https://example.com/r.git@v1",
        "https://example.com/p-1.0.tar.gz",
        "pkg @ https://example.com/p-1.0.whl",
        "-e ../lib",
        "--index-url https://example.com/simple",
        "lib.whl",
    ]
)
ANY_LINE = st.one_of(REQUIREMENT_TEXT, NOT_PYPI, st.text(max_size=40))


def classify(text: str) -> ReqLine | None:
    try:
        return parse_requirement_text(text, origin="r.txt:1", base=BASE)
    except MCPBundleError:
        return None


@FAST
@given(st.text(max_size=80))
def test_classification_never_crashes_except_with_mcpbundle_error(text: str) -> None:
    line = classify(text)
    if line is not None:
        assert line.kind in ("pypi", "path", "git", "url", "option")
        assert line.text == text


@FAST
@given(ANY_LINE)
def test_pypi_lines_are_plain_pep508(text: str) -> None:
    line = classify(text)
    if line is not None and line.kind == "pypi":
        assert line.requirement is not None
        assert Requirement(line.requirement).url is None


def _parsed(texts: list[str]) -> list[ReqLine]:
    return [line for line in map(classify, texts) if line is not None]


@FAST
@given(st.lists(st.lists(ANY_LINE, max_size=6), max_size=4))
def test_merge_emits_only_pypi_lines(groups: list[list[str]]) -> None:
    merged = merge_requirements([_parsed(g) for g in groups])
    for text in merged:
        requirement = Requirement(text)
        assert requirement.url is None
        assert not text.startswith(("-", ".", "/", "git+", "file:", "http:", "https:"))
    assert list(merged) == sorted(set(merged), key=merged.index)  # no duplicates


@FAST
@given(st.lists(st.lists(REQUIREMENT_TEXT, max_size=6), max_size=4))
def test_rewriting_is_idempotent(groups: list[list[str]]) -> None:
    once = merge_requirements([_parsed(g) for g in groups])
    twice = merge_requirements([_parsed(list(once))])
    assert twice == once


@FAST
@given(st.lists(ANY_LINE, max_size=8), st.lists(ANY_LINE, max_size=8), st.randoms())
def test_merge_is_order_independent(a: list[str], b: list[str], rnd: object) -> None:
    first, second = _parsed(a), _parsed(b)
    shuffled = [*second, *first]
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert merge_requirements([first, second]) == merge_requirements([second, first])
    assert merge_requirements([first, second]) == merge_requirements([shuffled])


# -------------------------------------------------------------------- config paths

SEGMENTS = st.sampled_from(["..", ".", "a", "b", "a/b", "link", "outlink", "missing", ""])
PATH_TEXT = st.builds(
    lambda parts, lead: lead + "/".join(parts),
    st.lists(SEGMENTS, min_size=1, max_size=5),
    st.sampled_from(["", "./", "/", "~/"]),
)


def _repo(base: Path) -> Path:
    root = base / "repo"
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "server.py").write_text("mcp = 1\n")
    (root / "a" / "server.py").write_text("mcp = 1\n")
    (root / "b").mkdir()
    (root / "b" / "server.py").write_text("mcp = 1\n")
    (base / "outside").mkdir()
    (base / "outside" / "server.py").write_text("mcp = 1\n")
    os.symlink(root / "a", root / "link")
    os.symlink(base / "outside", root / "outlink")
    (root / "mcpbundle.toml").write_text("")
    return root


@settings(max_examples=300, deadline=None)
@given(PATH_TEXT)
def test_config_paths_never_leave_the_repo(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = _repo(Path(tmp)).resolve()
        data = {"servers": {"s": {"path": text, "entrypoint": "server.py"}}}
        try:
            config = validate(data, root / "mcpbundle.toml")
        except ConfigError:
            return
        server = config.servers["s"]
        assert not Path(server.path).is_absolute()
        assert (root / server.path).resolve().is_relative_to(root)
        assert ".." not in Path(server.path).parts
        assert (root / server.path / server.entrypoint).resolve().is_relative_to(root)


# ------------------------------------------------------------------ emit, manifest


@FAST
@given(st.binary(max_size=4096), st.booleans(), st.sampled_from([0o600, 0o640, 0o664, 0o444]))
def test_copy_file_preserves_bytes_and_executable_bit(
    data: bytes, executable: bool, base_mode: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "src" / "f.bin"
        source.parent.mkdir()
        source.write_bytes(data)
        source.chmod(base_mode | (0o100 if executable else 0))
        dest = Path(tmp) / "out" / "deep" / "f.bin"
        emit.copy_file(source, dest)
        assert dest.read_bytes() == data
        mode = stat.S_IMODE(dest.stat().st_mode)
        assert mode == (0o755 if executable else 0o644)


@FAST
@given(st.dictionaries(st.from_regex(r"[a-z]{1,8}(/[a-z]{1,8}){0,2}\.py", fullmatch=True),
                       st.binary(max_size=512), max_size=6))  # fmt: skip
def test_manifest_hashes_match_files(files: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        hashes = {}
        for rel, data in files.items():
            try:
                emit.write_bytes(root / rel, data)
            except (NotADirectoryError, IsADirectoryError, FileExistsError):
                continue  # a file and a directory of the same name
            hashes[rel] = sha256_file(root / rel)
        entry = {"path": ".", "entrypoint": "x.py:mcp", "files": hashes}
        rendered = render_manifest({"s": entry})
        document = parse_manifest(rendered, "m")
        for rel, digest in document["servers"]["s"]["files"].items():
            assert digest == "sha256:" + hashlib.sha256((root / rel).read_bytes()).hexdigest()
        assert rendered == render_manifest({"s": entry})
