"""Exceptions and JSON-RPC error codes of the connector-host protocol v1."""

# JSON-RPC 2.0 codes
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
# connector-host codes
NOT_INITIALIZED = -32002
SCHEMA_INVALID = -32010
OPERATION_INVALID = -32011
CONFIGURATION_ERROR = -32012
SOURCE_ERROR = -32013
CANCELLED = -32014
UNSUPPORTED_PROTOCOL_VERSION = -32015


class ConnectorHostError(Exception):
    """Base class of the SDK's own exceptions. ``code`` is the JSON-RPC error
    code the SDK answers the running request with when this escapes user code."""

    code = SOURCE_ERROR

    def __init__(self, message="", data=None):
        super().__init__(message)
        #: extra members for the JSON-RPC ``error.data`` object
        self.data = data


class Cancelled(ConnectorHostError):
    """The host cancelled the sync (``cancel`` notification, stdin closed, or
    Ctrl-C). Raised by every operation call once cancellation was seen."""

    code = CANCELLED

    def __init__(self, message="the host cancelled the sync", data=None):
        super().__init__(message, data)


class ConfigurationError(ConnectorHostError):
    """Invalid configuration. Connectors may raise it themselves; the request
    is then answered with -32012 (configuration error)."""

    code = CONFIGURATION_ERROR


class SchemaError(ConnectorHostError):
    """The schema function returned something that is not a valid table list."""

    code = SCHEMA_INVALID


class CheckpointError(ConnectorHostError):
    """The host answered a checkpoint request with an error. The connector
    must stop; the host rolls back to the last acknowledged checkpoint."""

    code = SOURCE_ERROR

    def __init__(self, host_code, host_message, host_data=None):
        self.host_code = host_code
        self.host_message = host_message
        self.host_data = host_data
        super().__init__(
            "host rejected checkpoint (%s): %s" % (host_code, host_message),
            {"hostError": {"code": host_code, "message": host_message}},
        )


class ProtocolError(ConnectorHostError):
    """The SDK was used outside a running sync, or the protocol stream broke."""

    code = INTERNAL_ERROR


class ConnectorError(BaseException):
    """Raised by ``op.error(message, trace)``: the connector reports an error
    that fails the sync. The running request is answered with -32013,
    ``message`` = the message and ``data = {"type": "ConnectorError",
    "traceback": trace}``.

    A BaseException (not an Exception), as in the Fivetran SDK, so that a
    connector's own ``except Exception`` cannot swallow it and carry on."""

    def __init__(self, message, trace=None):
        super().__init__(message)
        self.message = message
        self.trace = trace
