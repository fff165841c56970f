"""``import fivetran_connector_sdk`` found on a path that connector-host's
Python SDK provides (this source folder on PYTHONPATH, or the installed
package's ``connector_host_sdk/fivetran_import_path``): it becomes
connector_host_sdk.fivetran, the Fivetran-compatible surface."""

from connector_host_sdk import fivetran as _fivetran

_fivetran.bind()  # replaces this module in sys.modules; the import returns the bound one
