"""The setup form and its tests: ``ConfigurationForm`` (returned by the
connector's ``configuration_form()`` function), ``Test.success()`` and
``Test.failure(message)``.

The host asks for the form with the ``configurationForm`` request and runs
the tests with ``test`` (capability ``test: true`` when the form has tests).
"""

import traceback
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

from .form_field import FormField

__all__ = ["ConfigurationForm", "Test", "TestResponse", "run_setup_tests"]


@dataclass(frozen=True)
class TestResponse:
    """What a setup test returns: ``failure`` is None when it passed."""

    __test__ = False  # not a unittest/pytest test class

    success: Optional[bool] = None
    failure: Optional[str] = None


class Test(object):
    """Results of a setup test function: ``return Test.success()`` or
    ``return Test.failure("why")``."""

    __test__ = False

    @staticmethod
    def success() -> TestResponse:
        return TestResponse(success=True)

    @staticmethod
    def failure(message: str) -> TestResponse:
        # As in the Fivetran SDK, failure(None) carries no failure: it counts as passed.
        if message is None:
            return TestResponse()
        return TestResponse(failure=str(message))


class ConfigurationForm(object):
    """The setup form: fields (``add_field``) and setup tests (``add_test``),
    both in the order they were added. Methods return the form, so calls chain."""

    def __init__(self) -> None:
        self._fields: List[FormField] = []
        self._tests: List[Tuple[str, Callable[[Dict[str, str]], Any]]] = []

    def add_field(self, field: FormField) -> "ConfigurationForm":
        if not isinstance(field, FormField):
            raise TypeError("add_field takes a form_field.TextField, DropdownField or ToggleField, "
                            "got %s" % type(field).__name__)
        if any(f.name == field.name for f in self._fields):
            raise ValueError("the form already has a field named %r; field names must be unique"
                             % field.name)
        self._fields.append(field)
        return self

    def add_test(self, label: str, func: Callable[[Dict[str, str]], Any]) -> "ConfigurationForm":
        """Registers ``func(configuration)`` as a setup test shown as ``label``.
        It returns ``Test.success()`` or ``Test.failure(message)``."""
        if not isinstance(label, str) or not label.strip():
            raise ValueError("add_test needs a non-empty label")
        if not callable(func):
            raise TypeError("add_test(label=%r, func=...): func must be a function" % label)
        name = getattr(func, "__name__", None)
        if not name or name == "<lambda>":
            raise ValueError("add_test(label=%r, ...): use a named function, not a lambda "
                             "(tests are identified by their function name)" % label)
        if any(getattr(f, "__name__", None) == name for _, f in self._tests):
            raise ValueError("add_test(label=%r, ...): a test function named %r is already "
                             "registered; give each test its own function" % (label, name))
        self._tests.append((label, func))
        return self

    @property
    def fields(self) -> List[FormField]:
        return list(self._fields)

    @property
    def tests(self) -> List[Tuple[str, Callable[[Dict[str, str]], Any]]]:
        """(label, function) pairs, in order."""
        return list(self._tests)

    def to_wire(self) -> Dict[str, Any]:
        """The ``configurationForm`` result."""
        return {"fields": [f.to_wire() for f in self._fields],
                "tests": [label for label, _ in self._tests]}


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def run_setup_tests(form: ConfigurationForm, configuration: Dict[str, str],
                    report: Callable[[str], None]) -> Dict[str, Any]:
    """Runs the form's tests in order, stopping at the first failure (later
    tests are listed as not run), and returns the ``test`` result
    ``{"ok", "message", "tests": [{"label", "ok", "message"}]}``. An exception in
    a test fails that test; its traceback goes to ``report``."""
    results = []
    failed = None
    for label, func in form.tests:
        if failed is not None:
            results.append({"label": label, "ok": False,
                            "message": "not run: an earlier setup test failed"})
            continue
        try:
            response = func(configuration)
        except Exception as e:
            report("setup test %r raised:\n%s" % (label, traceback.format_exc()))
            text = str(e)
            message = "%s: %s" % (type(e).__name__, text) if text else type(e).__name__
            ok = False
        else:
            if isinstance(response, TestResponse):
                ok = response.failure is None
                message = "passed" if ok else response.failure
            else:
                ok = False
                message = ("%s must return Test.success() or Test.failure(message), got %s"
                           % (getattr(func, "__name__", "the test"), type(response).__name__))
        message = _one_line(message)
        results.append({"label": label, "ok": ok, "message": message})
        if not ok:
            failed = (label, message)
    if failed is None:
        n = len(results)
        summary = "%d setup test%s passed" % (n, "" if n == 1 else "s")
    else:
        summary = "setup test %s failed: %s" % (_quote(failed[0]), failed[1])
    return {"ok": failed is None, "message": summary, "tests": results}


def _quote(text: str) -> str:
    return '"%s"' % text.replace('"', '\\"')
