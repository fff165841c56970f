"""Run a connector file as ``__main__`` with connector-host's
``fivetran_connector_sdk``, even where Fivetran's package is installed too:

    python3 -m connector_host_sdk.debug connector.py [ARGS...]

The file's ``if __name__ == "__main__": connector.debug()`` then syncs through
connector-host with the connector's code in this process (IDE run
configurations can use this module as the entry point).
"""

import os
import runpy
import sys

from . import fivetran


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        sys.stderr.write("usage: python3 -m connector_host_sdk.debug /path/to/connector.py [ARGS...]\n")
        return 2
    path = os.path.abspath(argv[0])
    if not os.path.isfile(path):
        sys.stderr.write("connector-host SDK: no such file: %s\n" % path)
        return 2
    fivetran.bind()
    sys.argv = [path] + list(argv[1:])
    sys.path.insert(0, os.path.dirname(path))
    runpy.run_path(path, run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
