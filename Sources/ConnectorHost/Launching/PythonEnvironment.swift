import Foundation

/// Per-connector Python virtual environments for connectors with a `requirements.txt`.
enum PythonEnvironment {
    /// The interpreter: the connector's virtual environment when it has requirements, else `python3`.
    static func interpreter(for directory: String, environment: [String: String]) -> String {
        if needsVirtualEnvironment(directory) { return directory + "/files/venv/bin/python" }
        return environment["CONNECTOR_HOST_PYTHON"] ?? "python3"
    }

    /// A command that creates the virtual environment and installs the requirements, when needed
    /// (again only when requirements.txt changes). `fivetran_connector_sdk` lines are dropped: this
    /// SDK provides that package, and the real one would pull in gRPC for nothing.
    static func setupCommand(for directory: String, environment: [String: String]) -> [String]? {
        guard needsVirtualEnvironment(directory) else { return nil }
        let python = environment["CONNECTOR_HOST_PYTHON"] ?? "python3"
        let script = """
            set -e
            if [ ! -x files/venv/bin/python ]; then mkdir -p files && \(python) -m venv files/venv; fi
            if [ ! -f files/venv/.requirements.installed ] || ! cmp -s requirements.txt files/venv/.requirements.installed; then
              grep -v -i -E '^[[:space:]]*fivetran[-_]connector[-_]sdk' requirements.txt > files/venv/.requirements.filtered || true
              files/venv/bin/python -m pip install --disable-pip-version-check -q -r files/venv/.requirements.filtered
              cp requirements.txt files/venv/.requirements.installed
            fi
            """
        return ["/bin/sh", "-c", script]
    }

    private static func needsVirtualEnvironment(_ directory: String) -> Bool {
        // Never blocks on a named pipe nor reads a link to a device (a folder may come from anywhere).
        guard let data = try? SafeFile.read(directory + "/requirements.txt", limit: SafeFile.configurationLimit) else { return false }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").contains {
            let line = $0.trimmingCharacters(in: .whitespaces)
            return !line.isEmpty && !line.hasPrefix("#") && !line.hasPrefix("fivetran_connector_sdk")
                && !line.hasPrefix("fivetran-connector-sdk")
        }
    }
}
