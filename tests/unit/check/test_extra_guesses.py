"""An uninstalled requirement's extras name what they bring: ``qrcode-unseen[pil]`` makes
``PIL`` importable as far as check can tell, while the requirement without the extra does
not."""

from __future__ import annotations

import pytest
from checkcases import TargetFactory

from mcpbundle.check.engine import run_checks
from mcpbundle.check.imports import provision
from mcpbundle.check.model import Finding

SERVER = 'from fastmcp import FastMCP\n\nmcp = FastMCP(name="x")\n'


def _mcb004(make_target: TargetFactory, imports: str, requirements: str) -> list[Finding]:
    target = make_target(
        {"src/server.py": f"{imports}\n{SERVER}"},
        requirements={"requirements.txt": f"fastmcp\n{requirements}"},
    )
    return run_checks([target], select=frozenset({"MCB004"}))


def test_an_extra_of_an_unseen_requirement_provides_its_name(make_target: TargetFactory) -> None:
    assert _mcb004(make_target, "import PIL", "qrcode-unseen[pil]\n") == []
    assert _mcb004(make_target, "import socks", "httpx-unseen[socks]\n") == []


def test_without_the_extra_the_import_is_still_reported(make_target: TargetFactory) -> None:
    (finding,) = _mcb004(make_target, "import PIL", "qrcode-unseen\n")
    assert finding.severity == "warning"
    assert "`qrcode-unseen`" in finding.message
    assert "[" not in finding.message.split("modules of", 1)[-1]


def test_an_unrelated_import_is_not_taken_for_the_extra(make_target: TargetFactory) -> None:
    (finding,) = _mcb004(make_target, "import numpy", "qrcode-unseen[pil]\n")
    assert "numpy" in finding.message


def test_the_guess_is_kept_by_requirement_and_extra() -> None:
    provided = provision({"qrcode-unseen": frozenset({"pil"})})
    assert provided.provider("PIL") == "qrcode-unseen[pil]"
    assert provided.provider("pil") == "qrcode-unseen[pil]"
    assert provided.provider("qrcode_unseen") == "qrcode-unseen"
    assert provided.provider("numpy") is None


@pytest.mark.parametrize(
    ("requirement", "module"),
    [
        ("pymongo", "bson"),
        ("python-telegram-bot", "telegram"),
        ("google-cloud-aiplatform", "vertexai"),
        ("opensearch-py", "opensearchpy"),
        ("SpeechRecognition", "speech_recognition"),
    ],
)
def test_a_distribution_named_unlike_its_import(requirement: str, module: str) -> None:
    """Neither installed here nor guessable from the name: the table says what it brings."""
    assert provision({requirement: frozenset()}).provider(module) is not None


def test_the_fix_names_the_distribution_the_table_knows(make_target: TargetFactory) -> None:
    (unseen,) = _mcb004(make_target, "import PIL", "qrcode-unseen\n")
    assert unseen.fix.startswith("add `pillow` (the distribution that provides `PIL`)")
    (missing,) = _mcb004(make_target, "import bs4", "")
    assert missing.fix.startswith("add `beautifulsoup4` (the distribution that provides `bs4`)")
    (unknown,) = _mcb004(make_target, "import numpy_unknown_here", "")
    assert unknown.fix.startswith("add the distribution that provides `numpy_unknown_here`")


def test_a_version_number_at_the_end_of_a_name_is_dropped_for_the_guess(
    make_target: TargetFactory,
) -> None:
    """Forks and successors carry a number the import leaves out (``phue2`` brings
    ``phue``); the number stays a guess of its own (``jinja2`` brings ``jinja2``)."""
    assert _mcb004(make_target, "from phue import Bridge", "phue2\n") == []
    assert _mcb004(make_target, "import unseenlib", "unseenlib3\n") == []
    assert _mcb004(make_target, "import unseenlib3", "unseenlib3\n") == []
    (finding,) = _mcb004(make_target, "import xunseen", "unseenlib3\n")
    assert "`xunseen`" in finding.message
