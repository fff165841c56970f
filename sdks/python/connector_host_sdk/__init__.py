"""connector_host_sdk: the Python SDK of connector-host (stdlib only).

Connectors are normally written against the Fivetran-compatible surface
(``from fivetran_connector_sdk import Connector, Operations as op, Logging as
log``, see connector_host_sdk.fivetran); this package is the native
implementation underneath it and exports the same names.

The host starts a connector with::

    python3 -m connector_host_sdk.run /abs/path/connector.py
"""

from . import form_field
from .core import Connector, Logging, Operations, find_host_binary
from .encoder import Encoder, to_json_value, type_hint
from .errors import (
    Cancelled,
    CheckpointError,
    ConfigurationError,
    ConnectorError,
    ConnectorHostError,
    ProtocolError,
    SchemaError,
)
from .files import ByteStream, FileUpload
from .forms import ConfigurationForm, Test, TestResponse

__version__ = "0.2.0"

__all__ = [
    "Connector",
    "Operations",
    "Logging",
    "ByteStream",
    "FileUpload",
    "ConfigurationForm",
    "Test",
    "TestResponse",
    "form_field",
    "Cancelled",
    "CheckpointError",
    "ConfigurationError",
    "ConnectorError",
    "ConnectorHostError",
    "ProtocolError",
    "SchemaError",
    "Encoder",
    "to_json_value",
    "type_hint",
    "find_host_binary",
]
