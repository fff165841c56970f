"""connector_host_sdk: the Python SDK of connector-host (stdlib only).

Connectors are normally written against the Fivetran-compatible surface
(``from fivetran_connector_sdk import Connector, Operations as op, Logging as
log``); this package is the native implementation underneath it.

The host starts a connector with::

    python3 -m connector_host_sdk.run /abs/path/connector.py
"""

from .core import Connector, Logging, Operations, find_host_binary
from .encoder import Encoder, to_json_value
from .errors import (
    Cancelled,
    CheckpointError,
    ConfigurationError,
    ConnectorHostError,
    ProtocolError,
    SchemaError,
)

__version__ = "0.1.0"

__all__ = [
    "Connector",
    "Operations",
    "Logging",
    "Cancelled",
    "CheckpointError",
    "ConfigurationError",
    "ConnectorHostError",
    "ProtocolError",
    "SchemaError",
    "Encoder",
    "to_json_value",
    "find_host_binary",
]
