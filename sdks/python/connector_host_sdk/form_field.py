"""The fields of a connector's setup form (Fivetran's ``form_field`` module):
``TextField``, ``DropdownField`` with ``DropdownFieldParam`` options, and
``ToggleField``. Each call returns a ``FormField``, which
``ConfigurationForm.add_field`` takes.

On the wire (the ``configurationForm`` result) a field is
``{"name", "label", "type": "text"|"password"|"dropdown"|"toggle",
"required", "description"?, "placeholder"?, "options"?}``.
"""

from dataclasses import dataclass, field as _field
from typing import Any, Dict, List, Optional

__all__ = ["FormField", "TextField", "DropdownField", "DropdownFieldParam", "DropdownOption",
           "ToggleField"]

PLAIN_TEXT = 0
PASSWORD = 1
_TEXT_TYPES = {PLAIN_TEXT: "text", PASSWORD: "password", "PlainText": "text", "Password": "password"}


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError("%s must be a string, got %s" % (what, type(value).__name__))
    return value


def _flag(value: Any, what: str) -> bool:
    if not isinstance(value, (bool, int)):
        raise TypeError("%s must be True or False, got %s" % (what, type(value).__name__))
    return bool(value)


@dataclass(frozen=True)
class DropdownOption:
    """One option of a dropdown, as sent: value, label, description."""

    value: str
    label: str
    description: str = ""


@dataclass
class FormField:
    """One field of the setup form. ``type`` is "text", "password", "dropdown" or "toggle"."""

    name: str
    label: str
    type: str
    required: bool = False
    description: Optional[str] = None
    placeholder: Optional[str] = None
    options: List[DropdownOption] = _field(default_factory=list)

    def to_wire(self) -> Dict[str, Any]:
        """The field as a member of the ``configurationForm`` result."""
        out: Dict[str, Any] = {"name": self.name, "label": self.label, "type": self.type,
                               "required": self.required}
        if self.description is not None:
            out["description"] = self.description
        if self.placeholder is not None:
            out["placeholder"] = self.placeholder
        if self.type == "dropdown":
            options = []
            for o in self.options:
                option = {"value": o.value, "label": o.label}
                if o.description:
                    option["description"] = o.description
                options.append(option)
            out["options"] = options
        return out


def _base(name: Any, label: Any, kind: str, required: Any, description: Any,
          placeholder: Any = None) -> FormField:
    result = FormField(name=_text(name, "form field name"), label=_text(label, "form field label"),
                       type=kind, required=_flag(required, "required"))
    if not result.name:
        raise ValueError("form field name must not be empty")
    if description is not None:
        result.description = _text(description, "description")
    if placeholder is not None:
        result.placeholder = _text(placeholder, "placeholder")
    return result


class TextField(object):
    """A text input. ``field_type`` is ``TextField.plain_text`` (default) or
    ``TextField.password`` (masked; its value is a secret)."""

    plain_text = PLAIN_TEXT
    password = PASSWORD

    def __new__(cls, name: str, label: str, field_type: int = PLAIN_TEXT, *,
                description: Optional[str] = None, required: bool = False,
                placeholder: Optional[str] = None) -> FormField:  # type: ignore[misc]
        kind = _TEXT_TYPES.get(field_type) if not isinstance(field_type, bool) else None
        if kind is None:
            raise ValueError("TextField %r: field_type must be TextField.plain_text or "
                             "TextField.password, got %r" % (name, field_type))
        return _base(name, label, kind, required, description, placeholder)


@dataclass
class DropdownFieldParam:
    """One option of a ``DropdownField``: ``value`` is what the configuration
    gets (as a string); ``label`` (default: the value) and ``description`` are
    only shown."""

    value: Any
    label: Optional[str] = None
    description: Optional[str] = None


class DropdownField(object):
    """A choice among ``fields`` (a list of ``DropdownFieldParam``)."""

    def __new__(cls, name: str, label: str, *, fields: List[DropdownFieldParam],
                description: Optional[str] = None, required: bool = False,
                placeholder: Optional[str] = None) -> FormField:  # type: ignore[misc]
        if not fields:
            raise ValueError("DropdownField %r needs at least one option in fields=[...]" % (name,))
        options = []
        for item in fields:
            if not isinstance(item, DropdownFieldParam):
                raise TypeError("DropdownField %r: each option must be a DropdownFieldParam, got %s"
                                % (name, type(item).__name__))
            options.append(DropdownOption(
                value=str(item.value),
                label=str(item.label if item.label is not None else item.value),
                description="" if item.description is None else str(item.description)))
        result = _base(name, label, "dropdown", required, description, placeholder)
        result.options = options
        return result


class ToggleField(object):
    """An on/off switch."""

    def __new__(cls, name: str, label: str, *, description: Optional[str] = None,
                required: bool = False) -> FormField:  # type: ignore[misc]
        return _base(name, label, "toggle", required, description)
