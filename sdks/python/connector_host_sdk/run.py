"""Entry point used by connector-host:

    python3 -m connector_host_sdk.run /abs/path/connector.py

Kept thin on purpose: under ``-m`` this module runs as ``__main__``, so all
state lives in connector_host_sdk.loader / .session.
"""

import sys

from connector_host_sdk.loader import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
