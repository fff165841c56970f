import Foundation

/// The interpreter a Python connector runs with, and the per-connector virtual environment
/// (`DIR/files/venv`) when it needs one.
///
/// Fivetran's runtime pre-installs `requests` (Fivetran's docs, "Pre-installed packages", ask
/// connectors not to list it) besides its SDK, which this SDK replaces; Fivetran's SDK itself treats
/// exactly these two as provided. Many public connectors import `requests` without listing it, so:
/// - a connector with requirements gets a virtual environment with them **and** `requests`;
/// - a connector without requirements runs with `python3` as it is (nothing to install, no delay),
///   unless its code imports `requests` and `python3` has no `requests`: then it gets a virtual
///   environment with `requests` (created once).
enum PythonEnvironment {
    /// Packages Fivetran's runtime provides, which a connector may import without listing them.
    static let providedPackages = ["requests"]

    /// The interpreter and the setup step of the connector in `directory`.
    static func plan(for directory: String, environment: [String: String]) -> (interpreter: String, setup: [String]?) {
        let python = environment["CONNECTOR_HOST_PYTHON"] ?? "python3"
        let venvPython = directory + "/files/venv/bin/python"
        if hasRequirements(directory) { return (venvPython, setupCommand(python: python)) }
        let imported = providedPackages.filter { importsModule($0, in: directory) }
        guard !imported.isEmpty, !interpreter(python, has: imported) else { return (python, nil) }
        return (venvPython, setupCommand(python: python))
    }

    /// A command that creates the virtual environment and installs the requirements and the provided
    /// packages, again only when requirements.txt or the provided list change. `fivetran_connector_sdk`
    /// lines are dropped: this SDK provides that package, and the real one would pull in its
    /// dependencies for nothing. A provided package that cannot be installed (offline) is a warning,
    /// not a failure: only connectors that import it need it.
    static func setupCommand(python: String) -> [String] {
        let provided = providedPackages.joined(separator: " ")
        let script = """
            set -e
            if [ ! -x files/venv/bin/python ]; then mkdir -p files && \(python) -m venv files/venv; fi
            { cat requirements.txt 2>/dev/null || true; echo "# connector-host provides: \(provided)"; } > files/venv/.requirements.wanted
            if [ ! -f files/venv/.requirements.installed ] || ! cmp -s files/venv/.requirements.wanted files/venv/.requirements.installed; then
              if [ -f requirements.txt ]; then
                grep -v -i -E '^[[:space:]]*fivetran[-_]connector[-_]sdk' requirements.txt > files/venv/.requirements.filtered || true
                if grep -q -v -E '^[[:space:]]*(#|$)' files/venv/.requirements.filtered; then
                  files/venv/bin/python -m pip install --disable-pip-version-check -q -r files/venv/.requirements.filtered
                fi
              fi
              for package in \(provided); do
                if ! files/venv/bin/python -c "import $package" 2>/dev/null; then
                  files/venv/bin/python -m pip install --disable-pip-version-check -q "$package" \\
                    || echo "warning: could not install $package (Fivetran's runtime provides it); a connector that imports it fails. Delete files/venv to try again" >&2
                fi
              done
              cp files/venv/.requirements.wanted files/venv/.requirements.installed
            fi
            """
        return ["/bin/sh", "-c", script]
    }

    /// Whether requirements.txt lists anything besides the SDK.
    static func hasRequirements(_ directory: String) -> Bool {
        // Never blocks on a named pipe nor reads a link to a device (a folder may come from anywhere).
        guard let data = try? SafeFile.read(directory + "/requirements.txt", limit: SafeFile.configurationLimit) else { return false }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").contains {
            let line = $0.trimmingCharacters(in: .whitespaces)
            return !line.isEmpty && !line.hasPrefix("#") && !line.lowercased().hasPrefix("fivetran_connector_sdk")
                && !line.lowercased().hasPrefix("fivetran-connector-sdk")
        }
    }

    /// Whether a `.py` file of the connector (its folder and the folders in it, not `files/` nor
    /// virtual environments) has `import module` or `from module ...` at the start of a line.
    static func importsModule(_ module: String, in directory: String) -> Bool {
        let manager = FileManager.default
        func isFolder(_ path: String) -> Bool {
            var isDirectory: ObjCBool = false
            return manager.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
        }
        let subfolders = ((try? manager.contentsOfDirectory(atPath: directory)) ?? []).sorted()
            .filter { $0 != "files" && $0 != "__pycache__" && !$0.hasPrefix(".") }
            .map { directory + "/" + $0 }
            .filter { isFolder($0) && !manager.fileExists(atPath: $0 + "/pyvenv.cfg") }
        var files: [String] = []
        for folder in [directory] + subfolders {
            for entry in ((try? manager.contentsOfDirectory(atPath: folder)) ?? []).sorted() where entry.hasSuffix(".py") {
                files.append(folder + "/" + entry)
            }
        }
        for path in files.prefix(500) {
            guard let data = try? SafeFile.read(path, limit: 4 << 20) else { continue }
            for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where importedNames(line).contains(Substring(module)) {
                return true
            }
        }
        return false
    }

    /// The top-level modules a line imports: `import a, b.c as d` -> a, b; `from a.b import c` -> a.
    static func importedNames(_ line: Substring) -> [Substring] {
        let text = line.drop { $0 == " " || $0 == "\t" }
        func topLevel(_ name: Substring) -> Substring {
            name.drop { $0 == " " }.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        }
        if text.hasPrefix("import ") {
            return text.dropFirst(7).split(separator: ",").map(topLevel)
        }
        if text.hasPrefix("from ") {
            return [topLevel(text.dropFirst(5))]
        }
        return []
    }

    /// Whether `python` can import every one of `modules` (asked with `importlib.util.find_spec`,
    /// which finds a module without importing it).
    static func interpreter(_ python: String, has modules: [String]) -> Bool {
        let check = "import importlib.util, sys; sys.exit(0 if all(importlib.util.find_spec(m) for m in sys.argv[1:]) else 1)"
        guard
            let process = try? ChildProcess(
                arguments: [python, "-c", check] + modules, directory: nil, environment: HostEnvironment.forChild(extra: [:]))
        else { return false }
        process.closeInput()
        let status = process.wait()
        return status == .exited(0)
    }
}
