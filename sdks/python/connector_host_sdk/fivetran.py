"""What ``import fivetran_connector_sdk`` gives a connector: the Fivetran
Connector SDK 3.0 names on top of connector_host_sdk.

    from fivetran_connector_sdk import Connector, Operations as op, Logging as log
    from fivetran_connector_sdk import ByteStream, FileUpload, ConfigurationForm, Test, form_field

The name ``fivetran_connector_sdk`` belongs to Fivetran's own distribution, so
this package does not install a top-level package of that name. Instead:
under ``connector-host run`` (and ``python -m connector_host_sdk.debug``) the
SDK binds the name to this module before the connector is imported, whatever
else is installed; elsewhere (``python connector.py``) the name resolves to
Fivetran's package when it is installed, else to this module through the
folder ``connector_host_sdk/fivetran_import_path``, which the installed
package appends to ``sys.path`` (after site-packages). See README.md.
"""

import sys

from . import files as file_upload
from . import form_field
from . import forms as configuration_form
from . import forms as test
from . import core as operations
from .core import Connector, Logging, Operations
from .errors import Cancelled, CheckpointError, ConfigurationError, ConnectorError
from .files import ByteStream, FileUpload
from .forms import ConfigurationForm, Test

__version__ = "3.0.0+connector-host"

NAME = "fivetran_connector_sdk"

#: The submodules a connector may import by name (``import fivetran_connector_sdk.form_field``).
SUBMODULES = {
    "configuration_form": configuration_form,
    "file_upload": file_upload,
    "form_field": form_field,
    "operations": operations,
    "test": test,
}

__all__ = ["ByteStream", "FileUpload", "Logging", "Operations", "ConfigurationForm", "Test",
           "form_field"]


def bind():
    """Make ``fivetran_connector_sdk`` (and its submodules) this module, in
    this process, whatever else is installed. Returns the module."""
    module = sys.modules[__name__]
    sys.modules[NAME] = module
    for sub, mod in SUBMODULES.items():
        sys.modules[NAME + "." + sub] = mod
    return module
