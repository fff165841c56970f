import ConnectorProtocol
import Foundation
import Testing

@testable import ConnectorHost

/// Runs `python3 args` in `directory` (real processes: Python, then the built connector-host as its child)
/// and returns the exit status with stdout and stderr. `CONNECTOR_HOST_PYTHON_SDK` is removed unless given.
private func runPython(_ arguments: [String], in directory: String, environment: [String: String], python: String = pythonExecutable)
    throws -> (status: Int32, stdout: String, stderr: String)
{
    var merged = environment
    if merged["CONNECTOR_HOST_PYTHON_SDK"] == nil, ProcessInfo.processInfo.environment["CONNECTOR_HOST_PYTHON_SDK"] != nil {
        merged["CONNECTOR_HOST_PYTHON_SDK"] = ""
    }
    let result = try RunningCLI(arguments, environment: merged, executable: python, directory: directory).finish()
    return (result.status, result.stdout, result.stderr)
}

@Suite("Python connectors: connector.debug() with run --attach, the SDK lookup, what Fivetran's runtime provides")
struct PythonLaunchTests {
    static let debugConnector = """
        import os
        from fivetran_connector_sdk import Connector, Logging as log, Operations as op

        def schema(configuration):
            return [{"table": "runs", "primary_key": ["pid"], "columns": {"pid": "LONG", "title": "STRING"}}]

        def update(configuration, state):
            log.info("update runs in the Python process")
            op.upsert("runs", {"pid": os.getpid(), "title": configuration["title"], "start": state.get("n", 0)})
            op.checkpoint({"n": state.get("n", 0) + 1})

        connector = Connector(update=update, schema=schema)

        if __name__ == "__main__":
            print("PID", os.getpid(), flush=True)
            connector.debug(configuration={"title": "in-process"}, state={"n": 41})
            print("DEBUG RETURNED", flush=True)
        """

    @Test("connector.debug() keeps update() in the Python process: the host runs as its child with --attach")
    func debugAttaches() throws {
        let folder = try ConnectorFixture(files: ["connector.py": Self.debugConnector])
        let result = try runPython(
            ["connector.py"], in: folder.path,
            environment: [
                "PYTHONPATH": packageRoot.appendingPathComponent("sdks/python").path,
                "CONNECTOR_HOST_BIN": productsDirectory.appendingPathComponent("connector-host").path,
            ])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let pid = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("PID ") }).dropFirst(4)
        #expect(result.stdout.contains("outcome: succeeded"), "the host's report goes to the same terminal: \(result.stdout)")
        #expect(result.stdout.hasSuffix("DEBUG RETURNED\n"), "debug() returns after the host's report")
        #expect(try folder.rows(#"SELECT "pid", "title", "start" FROM "runs""#) == [[String(pid), "in-process", "41"]])
        #expect(try folder.rows(#"SELECT "state" FROM "_connector_state""#).first?.first == #"{"n":42}"#)
        #expect(!result.stderr.contains("has no `run --attach`"))
    }

    @Test("pip install ./sdks/python into a venv, then python connector.py syncs through connector-host on PATH")
    func installedPackageDebugs() throws {
        let folder = try ConnectorFixture(files: ["connector.py": Self.debugConnector])
        let venv = folder.directory.appendingPathComponent("venv").path
        let sdk = packageRoot.appendingPathComponent("sdks/python").path
        // A venv without pip of its own (ensurepip is slow); the outer pip installs into its site-packages.
        #expect(try runPython(["-m", "venv", "--without-pip", venv], in: folder.path, environment: [:]).status == 0)
        let python = venv + "/bin/python"
        let site = try runPython(
            [
                "-c", "import sys, sysconfig; print(sysconfig.get_paths(vars={'base': sys.argv[1], 'platbase': sys.argv[1]})['purelib'])",
                venv,
            ],
            in: folder.path, environment: [:]
        ).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let install = try runPython(
            ["-m", "pip", "install", "-q", "--no-index", "--target", site, sdk], in: folder.path,
            environment: ["PIP_ROOT_USER_ACTION": "ignore", "PIP_DISABLE_PIP_VERSION_CHECK": "1"])
        guard install.status == 0 else {
            print("skipped: pip is not available to install the SDK: \(install.stderr.suffix(300))")
            return
        }
        var environment = ["PATH": productsDirectory.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")]
        for key in ["PYTHONPATH", "CONNECTOR_HOST_BIN", "CONNECTOR_HOST_PYTHON_SDK"] where ProcessInfo.processInfo.environment[key] != nil {
            environment[key] = ""
        }
        let run = try runPython(["connector.py"], in: folder.path, environment: environment, python: python)
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        #expect(try folder.rows(#"SELECT "title", "start" FROM "runs""#) == [["in-process", "41"]])
    }

    @Test("--attach refuses descriptors that are not open, and malformed pairs, with messages that say what to pass")
    func attachRefusesBadDescriptors() throws {
        let folder = try ConnectorFixture(files: ["connector.py": Self.debugConnector])
        let closed = try runCLI(["run", folder.path, "--attach", "97,98"])
        #expect(closed.status == 1)
        #expect(
            closed.stderr.contains(
                "error: --attach: descriptor 97 is not open; it is the pipe to read the connector's messages from, which the process that starts `connector-host run --attach` (the Python SDK's connector.debug()) must pass"
            ), "\(closed.stderr)")
        for bad in ["5", "5,5", "1,7", "a,b", "5,8,9"] {
            let result = try runCLI(["run", folder.path, "--attach", bad])
            #expect(result.status == 2, "\(bad): \(result.stderr)")
            #expect(
                result.stderr.contains(
                    "--attach takes two different file descriptors of at least 3, FD_IN,FD_OUT (e.g. --attach 5,8), not \"\(bad)\""),
                "\(result.stderr)")
        }
    }

    @Test("the SDK folder is appended after site-packages: an installed connector_host_sdk wins, CONNECTOR_HOST_PYTHON_SDK wins over both")
    func sdkLookupOrder() throws {
        let folder = try ConnectorFixture(files: ["connector.py": "from fivetran_connector_sdk import Connector\n"])
        let sdk = packageRoot.appendingPathComponent("sdks/python").path
        let plan = try ConnectorLauncher.plan(directory: folder.path, environment: ["PATH": "/usr/bin:/bin"])
        #expect(plan.arguments.count == 4)
        #expect(Array(plan.arguments.prefix(2)) == ["python3", "-c"])
        #expect(plan.arguments[2].contains("fallback = '\(sdk)'\nif fallback: sys.path.append(fallback)"))
        #expect(plan.arguments[3] == folder.path + "/connector.py")
        #expect(plan.environment["PYTHONPATH"] == nil)
        let explicit = try ConnectorLauncher.plan(
            directory: folder.path, environment: ["CONNECTOR_HOST_PYTHON_SDK": "/opt/sdk", "PYTHONPATH": "/x"])
        #expect(explicit.arguments == ["python3", "-m", "connector_host_sdk.run", folder.path + "/connector.py"])
        #expect(explicit.environment["PYTHONPATH"] == "/opt/sdk:/x")

        // An installed SDK (here: a stand-in on PYTHONPATH, which also comes before the appended folder) wins.
        let installed = try ConnectorFixture(files: [
            "connector_host_sdk/__init__.py": "",
            "connector_host_sdk/loader.py":
                "import sys\ndef main(argv):\n    sys.stderr.write('INSTALLED SDK ' + argv[0] + '\\n')\n    return 3\n",
        ])
        let process = try ChildProcess(
            arguments: [pythonExecutable] + plan.arguments.dropFirst(), directory: folder.path,
            environment: HostEnvironment.forChild(extra: ["PYTHONPATH": installed.path]))
        process.closeInput()
        let stderr = StderrCollector(fileDescriptor: process.errorOutput, sink: { _ in })
        stderr.waitUntilFinished(timeout: 30)
        #expect(process.wait() == .exited(3))
        #expect(stderr.lastLines == ["INSTALLED SDK \(folder.path)/connector.py"])

        // Neither installed nor found: the bootstrap says how to get it.
        let none = try ChildProcess(
            arguments: [pythonExecutable, "-c", PythonSDK.bootstrap(fallback: nil), "x.py"], directory: folder.path,
            environment: HostEnvironment.forChild(extra: [:]).filter { !$0.hasPrefix("PYTHONPATH=") })
        none.closeInput()
        let noneErrors = StderrCollector(fileDescriptor: none.errorOutput, sink: { _ in })
        noneErrors.waitUntilFinished(timeout: 30)
        #expect(none.wait() == .exited(1))
        #expect(
            noneErrors.lastLines.last?.hasSuffix(
                "; install it into that interpreter (pip install /path/to/connector-host/sdks/python) or set CONNECTOR_HOST_PYTHON_SDK to the sdks/python folder of connector-host"
            ) == true, "\(noneErrors.lastLines)")
    }

    @Test("imports of a provided package are found in the connector's files: import a, b / from a.b import c; not in files/")
    func providedImportsAreFound() throws {
        #expect(PythonEnvironment.importedNames("import os, requests as r") == ["os", "requests"])
        #expect(PythonEnvironment.importedNames("    from requests.adapters import HTTPAdapter") == ["requests"])
        #expect(PythonEnvironment.importedNames("x = 'import requests'") == [])
        #expect(PythonEnvironment.importedNames("import requests_oauthlib") == ["requests_oauthlib"])
        let nested = try ConnectorFixture(files: ["connector.py": "import helpers.client\n", "helpers/client.py": "import requests\n"])
        #expect(PythonEnvironment.importsModule("requests", in: nested.path))
        let inFiles = try ConnectorFixture(files: ["connector.py": "import json\n", "files/venv/lib/x.py": "import requests\n"])
        #expect(!PythonEnvironment.importsModule("requests", in: inFiles.path))
        // Nothing to install for a connector that needs nothing: python3 as it is, no setup step.
        let plain = try ConnectorLauncher.plan(directory: inFiles.path)
        #expect(plain.arguments.first == (ProcessInfo.processInfo.environment["CONNECTOR_HOST_PYTHON"] ?? "python3"))
        #expect(plain.buildCommand == nil)
    }

    @Test("a connector with requirements gets requests, as on Fivetran, without listing it (real PyPI; skipped offline)")
    func requestsIsProvided() throws {
        let folder = try ConnectorFixture(files: [
            "requirements.txt": "./tinylib-1.0-py3-none-any.whl\n",
            "connector.py": """
            import requests, tinylib
            from fivetran_connector_sdk import Connector, Operations as op

            def update(configuration, state):
                op.upsert("t", {"id": 1, "requests": requests.__name__, "lib": tinylib.VALUE})

            connector = Connector(update=update)
            """,
        ])
        try FivetranCompatibilityTests.writeWheel(into: folder.directory, module: "tinylib", version: "1.0", source: #"VALUE = "wheel""#)
        let result = try runCLI(["run", folder.path])
        if result.stderr.contains("warning: could not install requests") {
            print("skipped: pip could not download requests (no network?): \(result.stderr.suffix(400))")
            return
        }
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(try folder.rows(#"SELECT "requests", "lib" FROM "t""#) == [["requests", "wheel"]])
        let stamp = try String(contentsOf: folder.directory.appendingPathComponent("files/venv/.requirements.installed"), encoding: .utf8)
        #expect(stamp == "./tinylib-1.0-py3-none-any.whl\n# connector-host provides: requests\n")
    }
}
