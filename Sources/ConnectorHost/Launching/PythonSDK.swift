import Foundation

/// Where a Python connector gets connector-host's Python SDK (`connector_host_sdk`): the one place
/// that decides it.
///
/// In order:
/// 1. `$CONNECTOR_HOST_PYTHON_SDK` (a folder holding `connector_host_sdk/`): put first on
///    `PYTHONPATH`, so it wins over anything installed. For working on the SDK itself.
/// 2. A `connector_host_sdk` installed for the connector's interpreter (`pip install ./sdks/python`
///    into it, or into `files/venv` through requirements.txt).
/// 3. A fallback folder: `sdks/python` of a connector-host checkout above the connector, the host
///    executable or the current folder; else `<prefix>/share/connector-host/sdks/python` beside an
///    installed `<prefix>/bin/connector-host`.
///
/// 2 and 3 are one mechanism: the connector starts as `python -c BOOTSTRAP connector.py`, where the
/// bootstrap appends the fallback folder to the *end* of `sys.path` before importing the SDK, so an
/// installed SDK (site-packages come earlier) is preferred without starting Python twice to ask. When
/// neither exists, the bootstrap exits with status 1 and says how to install the SDK.
enum PythonSDK {
    /// The variable that names an SDK folder to use first.
    static let variable = "CONNECTOR_HOST_PYTHON_SDK"

    /// How to start `connector.py` in `directory` with `python`: the arguments and extra environment.
    static func launch(python: String, connectorFile: String, directory: String, environment: [String: String])
        -> (arguments: [String], environment: [String: String])
    {
        var extra = ["PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"]
        if let explicit = environment[variable], !explicit.isEmpty {
            let path = FilePaths.absolute(explicit)
            extra["PYTHONPATH"] = environment["PYTHONPATH"].flatMap { $0.isEmpty ? nil : path + ":" + $0 } ?? path
            return ([python, "-m", "connector_host_sdk.run", connectorFile], extra)
        }
        return ([python, "-c", bootstrap(fallback: fallbackFolder(near: directory)), connectorFile], extra)
    }

    /// The SDK folder of a checkout or of an installed tree, if there is one.
    static func fallbackFolder(near directory: String) -> String? {
        if let checkout = SourceCheckout.folder(
            containing: "sdks/python/connector_host_sdk", startingAt: SourceCheckout.starts(from: directory))
        {
            return checkout + "/sdks/python"
        }
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath()
        let shared = executable.deletingLastPathComponent().deletingLastPathComponent().path + "/share/connector-host/sdks/python"
        return FileManager.default.fileExists(atPath: shared + "/connector_host_sdk/__init__.py") ? shared : nil
    }

    /// The Python program given to `-c`: prefers an installed SDK, else `fallback`, else a clear exit.
    static func bootstrap(fallback: String?) -> String {
        let folder = fallback.map(pythonString) ?? "None"
        return """
            import sys
            fallback = \(folder)
            if fallback: sys.path.append(fallback)
            try:
                from connector_host_sdk.loader import main
            except ImportError as e:
                sys.exit("connector-host: cannot import the Python SDK (connector_host_sdk) with " + sys.executable + ": " + str(e)
                         + "; install it into that interpreter (pip install /path/to/connector-host/sdks/python) or set \(variable) to the sdks/python folder of connector-host")
            sys.exit(main(sys.argv[1:]))
            """
    }

    /// `text` as a Python string literal.
    private static func pythonString(_ text: String) -> String {
        var out = "'"
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "'": out += "\\'"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "'"
    }
}
