"""lc-archive's built-in component serializers: what the OLX of a component says, without a runtime.

Ids and rules:

``*`` (:class:`AnyComponent`)
    Components of a namespace no serializer knows (``openedx.v1:upload``...). No OLX is required;
    when a ``block.xml`` exists, ``display_name`` is its root's attribute and its ``/static/``
    references are checked.

``xblock.v1:*`` (:class:`XBlockComponent`)
    Any XBlock type without its own serializer. The OLX root element must be the block type
    (``<drag-and-drop-v2>`` for ``xblock.v1:drag-and-drop-v2``): an error otherwise. Scoring is
    left unknown (``is_scorable``/``max_score`` None): whether a block has a score is a property of
    its Python class (``has_score``), which the OLX does not carry, and attributes such as ``weight``
    mean different things to different blocks, so no rule from the OLX alone would be sound.

``xblock.v1:problem`` (:class:`ProblemComponent`)
    Root ``<problem>``; ``is_scorable`` True (capa's ``ProblemBlock`` always has a score).
    ``max_score`` follows capa and the LMS grading code:

    * the *raw* maximum is one point per answer input of each response (capa's ``get_max_score``
      sums ``points`` over each response's input fields, 1 unless an input says ``points="n"``); a
      response with no recognised input counts 1 (custom inputs this module does not know);
    * a numeric, finite, non-negative ``weight`` on the root replaces a positive raw maximum
      (``weighted_score``: the weight is the possible score); the LMS ignores the weight when the raw
      maximum is 0, and so does this rule;
    * a problem without a response has ``max_score`` 0 (capa's "not graded"), still scorable.

    ``imports`` are the top-level modules (``numpy`` for ``import numpy.linalg as la``, ``mitxgraders``
    for ``from mitxgraders import *``) that the problem's Python imports: ``<script>`` elements whose
    ``type`` is ``loncapa/python``, ``text/python`` or ``python`` or that have no type (capa runs an
    untyped script as Python too), and ``<answer>`` elements of those types (customresponse code).
    Each is dedented and parsed with :func:`ast.parse`; relative imports are ignored, and a script that
    does not parse (many are Python 2) contributes nothing, silently. The tuple is sorted and unique.
    This is how a problem depends on a code library.

``xblock.v1:html`` (:class:`HtmlComponent`), ``xblock.v1:video`` (:class:`VideoComponent`)
    Root ``<html>`` / ``<video>``; not scorable (``is_scorable`` False, ``max_score`` None).

For every serializer: a blank ``block.xml`` is accepted and gives only the type's own facts (the
problem is scorable, html and video are not); ``display_name`` is None when the root has no such
attribute (never derived from anything else); every ``/static/<path>`` reference must name a media file
``static/<path>`` of the same version, or a *warning* is reported on the ``block.xml`` (openedx-core
accepts dangling references, and real libraries have them). OLX that does not parse is an error issue,
never an exception (:func:`~.olx_facts.parse_olx`).
"""

from __future__ import annotations

import ast
import functools
import math
import textwrap
import warnings
from typing import Any, ClassVar, Final

from ..contract import ComponentFacts, ComponentSerializer, ComponentVersionView, Issue, VersionCheck
from .olx_facts import display_name, parse_olx, root_tag_issue, static_ref_issues

__all__ = [
    "INPUT_TAGS",
    "PYTHON_SCRIPT_TYPES",
    "RESPONSE_TAGS",
    "AnyComponent",
    "HtmlComponent",
    "OlxComponentSerializer",
    "ProblemComponent",
    "VideoComponent",
    "XBlockComponent",
    "python_imports",
]

RESPONSE_TAGS: Final = frozenset({
    "multiplechoiceresponse", "choiceresponse", "optionresponse", "stringresponse", "numericalresponse",
    "formularesponse", "customresponse", "schematicresponse", "imageresponse", "symbolicresponse",
    "coderesponse", "jsmeresponse", "annotationresponse", "choicetextresponse", "externalresponse",
})
"""capa's response types: each is one graded question of a problem."""

INPUT_TAGS: Final = frozenset({
    "textline", "choicegroup", "checkboxgroup", "optioninput", "formulaequationinput", "schematic",
    "imageinput", "crystallography", "vsepr_input", "chemicalequationinput", "jsinput", "editageneinput",
    "editamoleculeinput", "drag_and_drop_input", "annotationinput", "choicetextgroup", "radiotextgroup",
    "checkboxtextgroup", "textbox", "matlabinput", "codeinput", "filesubmission",
})
"""capa's answer inputs: each is worth ``points`` (default 1) of its response."""

PYTHON_SCRIPT_TYPES: Final = frozenset({"loncapa/python", "text/python", "python"})

_MAX_SCRIPT_CHARS: Final = 1_000_000


class OlxComponentSerializer(ComponentSerializer):
    """Shared behaviour: parse the OLX once, check the root tag and ``/static/`` references, read facts.

    Subclasses set :attr:`root_tag` (None: the component type, or no requirement for :attr:`any_root`)
    and override :meth:`facts_from_root` / :meth:`blank_facts`.
    """

    root_tag: ClassVar[str | None] = None
    """The required OLX root element; None means the component's type (``xblock.v1:<type>``)."""
    any_root: ClassVar[bool] = False
    """No root requirement at all (components of unknown namespaces)."""

    def blank_facts(self) -> ComponentFacts:
        """Facts of a version with no or blank OLX, or OLX that does not parse: only what the type says."""
        return ComponentFacts()

    def facts_from_root(self, root: Any) -> ComponentFacts:
        """Facts of a parsed OLX document."""
        return ComponentFacts(display_name=display_name(root))

    def facts(self, olx: bytes) -> ComponentFacts:
        root, _ = parse_olx(olx)
        return self.blank_facts() if root is None else self.facts_from_root(root)

    def check_version(self, version: ComponentVersionView) -> VersionCheck:
        if version.olx is None:
            return VersionCheck(facts=self.blank_facts())
        root, error = (version.olx_root, None) if version.olx_root is not None else parse_olx(version.olx)
        if error is not None:
            return VersionCheck(facts=self.blank_facts(), issues=(
                Issue("$", f"version {version.number}: the OLX cannot be read: {error}", member=version.olx_member),
            ))
        if root is None:  # blank block.xml: accepted, nothing to check
            return VersionCheck(facts=self.blank_facts())
        issues: list[Issue] = []
        if not self.any_root:
            expected = self.root_tag or version.type
            problem = root_tag_issue(root, expected, f"{version.namespace}:{version.type}", version.olx_member)
            if problem is not None:
                issues.append(problem)
        if b"/static/" in version.olx or b"&#" in version.olx:  # cheap pre-check (char refs may spell it)
            issues.extend(static_ref_issues(root, version.media, version.number, version.olx_member))
        return VersionCheck(facts=self.facts_from_root(root), issues=tuple(issues))


class AnyComponent(OlxComponentSerializer):
    """Last resort for components of namespaces without a serializer: no OLX requirements."""

    id: ClassVar[str] = "*"
    description: ClassVar[str] = "any component: display name from block.xml if any, /static/ references"
    any_root: ClassVar[bool] = True


class XBlockComponent(OlxComponentSerializer):
    """Any XBlock type: the OLX root must be the block type."""

    id: ClassVar[str] = "xblock.v1:*"
    description: ClassVar[str] = "any XBlock: root element is the block type, display name, /static/ references"


class ProblemComponent(OlxComponentSerializer):
    """capa problems: scoring and Python imports."""

    id: ClassVar[str] = "xblock.v1:problem"
    description: ClassVar[str] = "capa problem: max score from responses and weight, Python imports"
    root_tag: ClassVar[str | None] = "problem"

    def blank_facts(self) -> ComponentFacts:
        return ComponentFacts(is_scorable=True)

    def facts_from_root(self, root: Any) -> ComponentFacts:
        return ComponentFacts(display_name=display_name(root), is_scorable=True, max_score=problem_max_score(root),
                              imports=problem_imports(root))


class HtmlComponent(OlxComponentSerializer):
    """HTML blocks: not scorable."""

    id: ClassVar[str] = "xblock.v1:html"
    description: ClassVar[str] = "HTML block: root <html>, not scorable, /static/ references in its markup"
    root_tag: ClassVar[str | None] = "html"

    def blank_facts(self) -> ComponentFacts:
        return ComponentFacts(is_scorable=False)

    def facts_from_root(self, root: Any) -> ComponentFacts:
        return ComponentFacts(display_name=display_name(root), is_scorable=False)


class VideoComponent(OlxComponentSerializer):
    """Video blocks: not scorable."""

    id: ClassVar[str] = "xblock.v1:video"
    description: ClassVar[str] = "video block: root <video>, not scorable, /static/ references"
    root_tag: ClassVar[str | None] = "video"

    def blank_facts(self) -> ComponentFacts:
        return ComponentFacts(is_scorable=False)

    def facts_from_root(self, root: Any) -> ComponentFacts:
        return ComponentFacts(display_name=display_name(root), is_scorable=False)


def _points(value: str | None) -> int:
    if value is None:
        return 1
    try:
        points = int(value.strip())
    except ValueError:
        return 1
    return points if points >= 0 else 1


def problem_max_score(root: Any) -> float:
    """The problem's maximum score (see the module docstring for the rule)."""
    raw = 0
    for response in root.iter(*RESPONSE_TAGS):
        inputs = [_points(el.get("points")) for el in response.iter(*INPUT_TAGS)]
        raw += sum(inputs) if inputs else 1
    weight = _weight(root.get("weight"))
    if weight is not None and raw > 0:
        return weight
    return float(raw)


def _weight(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        weight = float(value.strip())
    except ValueError:
        return None
    return weight if math.isfinite(weight) and weight >= 0 else None


def problem_imports(root: Any) -> tuple[str, ...]:
    """Top-level modules imported by the problem's Python scripts and answers."""
    modules: set[str] = set()
    for el in root.iter("script", "answer"):
        kind = (el.get("type") or "").strip().lower()
        if kind not in PYTHON_SCRIPT_TYPES and not (el.tag == "script" and not kind):
            continue
        code = "".join(el.itertext())
        if code.strip():
            modules.update(python_imports(code))
    return tuple(sorted(modules))


def python_imports(code: str) -> frozenset[str]:
    """Top-level module names that ``code`` imports (absolute imports only); empty if it does not parse.

    Remembered by the code's text for scripts up to :data:`_REMEMBERED_CHARS` (versions of a problem
    share their scripts: a package's full history parses each once)."""
    if len(code) > _REMEMBERED_CHARS:
        return _python_imports(code)
    return _remembered_imports(code)


_REMEMBERED_CHARS = 8192
"""Scripts up to this length are parsed once per process (at most 512 kept: 4 MiB of text)."""


def _python_imports(code: str) -> frozenset[str]:
    if len(code) > _MAX_SCRIPT_CHARS:
        return frozenset()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning for Python 2 escapes and the like
            tree = ast.parse(textwrap.dedent(code).strip("\n"))
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return frozenset()
    found: set[str] = set()
    for node in ast.walk(tree):  # iterative: no recursion limit to hit
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".", 1)[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".", 1)[0])
    return frozenset(name for name in found if name)


_remembered_imports = functools.lru_cache(maxsize=512)(_python_imports)
