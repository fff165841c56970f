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
///    installed `<prefix>/bin/connector-host` (found by ``HostResources``, which decides it for every SDK).
///
/// 2 and 3 are one mechanism: the connector starts as `python -c BOOTSTRAP connector.py`, where the
/// bootstrap appends the fallback folder to the *end* of `sys.path` before importing the SDK, so an
/// installed SDK (site-packages come earlier) is preferred without starting Python twice to ask. When
/// neither exists, the launch is refused before anything starts (``missing(python:directory:resources:)``),
/// and the bootstrap too exits with status 1 and says how to install the SDK.
package enum PythonSDK {
    /// The variable that names an SDK folder to use first.
    package static let variable = "CONNECTOR_HOST_PYTHON_SDK"

    /// How to start `connector.py` in `directory` with `python`: the arguments and extra environment.
    static func launch(
        python: String, connectorFile: String, directory: String, environment: [String: String],
        resources: HostResources = .current
    ) -> (arguments: [String], environment: [String: String]) {
        var extra = ["PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"]
        let location = resources.locate(.python, near: directory)
        if let location, location.origin == .given {
            let path = location.path
            extra["PYTHONPATH"] = environment["PYTHONPATH"].flatMap { $0.isEmpty ? nil : path + ":" + $0 } ?? path
            return ([python, "-m", "connector_host_sdk.run", connectorFile], extra)
        }
        return ([python, "-c", bootstrap(fallback: location?.path), connectorFile], extra)
    }

    /// Why the connector in `directory` cannot get the SDK, when there is no SDK folder to fall back
    /// on and `python` cannot import an installed one; `nil` when it can run. Asks the interpreter
    /// (one short Python start) only when no folder was found, which an installed or checked-out host
    /// always has. A virtual environment still to be created can only get the SDK from requirements.txt.
    static func missing(python: String, directory: String, resources: HostResources = .current) -> LaunchError? {
        guard resources.locate(.python, near: directory) == nil else { return nil }
        if python.hasPrefix("/"), !FileManager.default.fileExists(atPath: python) {
            let requirements = (try? SafeFile.read(directory + "/requirements.txt", limit: SafeFile.configurationLimit)) ?? nil
            let text = requirements.map { String(decoding: $0, as: UTF8.self).lowercased() } ?? ""
            if text.contains("connector-host-sdk") || text.contains("connector_host_sdk") { return nil }
        } else if HostResources.invoked(python, path: resources.environment["PATH"], currentDirectory: directory) == nil
            || PythonEnvironment.interpreter(python, has: ["connector_host_sdk"])
        {
            // python itself is missing (which starting it reports precisely), or the SDK is installed for it.
            return nil
        }
        return LaunchError(
            "\(directory)/connector.py needs connector-host's Python SDK (connector_host_sdk), which \(python) cannot import, and there is \(resources.missingAdvice(.python, near: directory)); or pip install /path/to/connector-host/sdks/python into that interpreter, or set \(variable) to a folder holding connector_host_sdk"
        )
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
