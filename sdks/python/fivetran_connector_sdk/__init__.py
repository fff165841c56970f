"""Fivetran Connector SDK compatible surface on top of connector_host_sdk.

Existing Fivetran-style connector.py files run unchanged::

    from fivetran_connector_sdk import Connector
    from fivetran_connector_sdk import Operations as op
    from fivetran_connector_sdk import Logging as log
"""

from connector_host_sdk.core import Connector, Logging, Operations
from connector_host_sdk.errors import (
    Cancelled,
    CheckpointError,
    ConfigurationError,
)

__version__ = "0.1.0+connector-host"

__all__ = [
    "Connector",
    "Operations",
    "Logging",
    "Cancelled",
    "CheckpointError",
    "ConfigurationError",
]
