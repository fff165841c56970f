/// The text of the files `connector-host init` writes. All three languages do the same thing
/// (see ``ConnectorScaffold``), so their rows are identical: ids continue from the cursor, and
/// `created_at` is 2024-01-01T00:00:00Z plus one minute per id, reproducible from run to run.
struct ScaffoldTemplates {
    let name: String
    let typeName: String
    let packageReference: (path: String, identity: String)
    /// Whether the Swift package depends on the SDK installed with connector-host (else on a checkout).
    let sdkIsInstalled: Bool

    var configuration: String {
        """
        {
          "greeting": "hello"
        }

        """
    }

    var requirements: String {
        """
        # PyPI packages this connector needs, one per line (pip requirement syntax).
        # connector-host installs them into files/venv before a run when this file lists any.

        """
    }

    var python: String {
        """
        # \(name): a connector for connector-host, in the style of the Fivetran Connector SDK.
        #
        #   connector-host run .            sync into files/warehouse.db (state in files/state.json)
        #   connector-host conformance .    check it against the protocol
        #
        # Replace the body of update() with reads from your source; keep the checkpoint.

        from datetime import datetime, timedelta, timezone

        from fivetran_connector_sdk import Connector
        from fivetran_connector_sdk import Logging as log
        from fivetran_connector_sdk import Operations as op

        ROWS_PER_RUN = 3
        START = datetime(2024, 1, 1, tzinfo=timezone.utc)


        def schema(configuration: dict):
            \"\"\"The tables this connector writes; columns not declared here are inferred from the values.\"\"\"
            return [
                {
                    "table": "greeting",
                    "primary_key": ["id"],
                    "columns": {"id": "LONG", "message": "STRING", "created_at": "UTC_DATETIME"},
                }
            ]


        def update(configuration: dict, state: dict):
            \"\"\"One sync: the rows after the cursor, then a checkpoint that commits them with the new cursor.\"\"\"
            greeting = configuration.get("greeting", "hello")
            cursor = int(state.get("cursor", 0))
            log.info(f"starting after id {cursor}")
            for row_id in range(cursor + 1, cursor + ROWS_PER_RUN + 1):
                op.upsert(
                    table="greeting",
                    data={"id": row_id, "message": f"{greeting} #{row_id}", "created_at": START + timedelta(minutes=row_id - 1)},
                )
            # Returns once the rows and the new cursor are committed together: the next run continues here.
            op.checkpoint(state={"cursor": cursor + ROWS_PER_RUN})


        connector = Connector(update=update, schema=schema)

        if __name__ == "__main__":
            connector.debug()

        """
    }

    var nodeManifest: String {
        """
        {"name": "\(name)", "command": ["node", "connector.js"]}

        """
    }

    var node: String {
        """
        'use strict';
        // \(name): a connector for connector-host in Node.js (no npm packages).
        //
        //   connector-host run .            sync into files/warehouse.db (state in files/state.json)
        //   connector-host conformance .    check it against the protocol
        //
        // protocol.js speaks the protocol (a copy of connector-host's Node helper, sdks/node/protocol.js);
        // this file only says what to sync. Replace the body of update() with reads from your source.

        const { run } = require('./protocol');

        const ROWS_PER_RUN = 3;
        const START = Date.UTC(2024, 0, 1);

        run({
          name: '\(name)',
          version: '0.1.0',

          schema(configuration) {
            return [
              {
                table: 'greeting',
                primaryKey: ['id'],
                columns: { id: 'LONG', message: 'STRING', created_at: 'UTC_DATETIME' },
              },
            ];
          },

          async update({ configuration, state, upsert, checkpoint, log }) {
            const greeting = configuration.greeting || 'hello';
            const cursor = state.cursor || 0;
            log('info', `starting after id ${cursor}`);
            for (let id = cursor + 1; id <= cursor + ROWS_PER_RUN; id++) {
              const createdAt = new Date(START + (id - 1) * 60000).toISOString().replace('.000Z', 'Z');
              await upsert('greeting', { id, message: `${greeting} #${id}`, created_at: createdAt });
            }
            // Resolves once the rows and the new cursor are committed together: the next run continues here.
            await checkpoint({ cursor: cursor + ROWS_PER_RUN });
          },
        });

        """
    }

    var swiftManifest: String {
        """
        {"name": "\(name)", "command": [".build/debug/\(name)"], "build": ["swift", "build", "--product", "\(name)"]}

        """
    }

    var swiftPackage: String {
        let origin = sdkIsInstalled ? "the Swift SDK installed with connector-host (scripts/install.sh)" : "a connector-host checkout"
        return """
            // swift-tools-version:6.0
            import PackageDescription

            // ConnectorSDK comes by path from \(origin).
            // If either folder moves, fix the path; the package name after `package:` is the path's last
            // folder, lowercased. To depend on the repository instead:
            // .package(url: "<connector-host's git URL>", branch: "main") with package: "connector-host".
            let package = Package(
                name: "\(name)",
                platforms: [.macOS(.v15)],
                dependencies: [.package(path: "\(packageReference.path)")],
                targets: [
                    .executableTarget(
                        name: "\(name)",
                        dependencies: [
                            .product(name: "ConnectorSDK", package: "\(packageReference.identity)"),
                            .product(name: "ConnectorProtocol", package: "\(packageReference.identity)"),
                        ],
                        path: "Sources"
                    )
                ]
            )

            """
    }

    var swift: String {
        """
        import ConnectorProtocol
        import ConnectorSDK
        import Foundation

        /// \(name): a connector for connector-host.
        ///
        ///     connector-host run .            # builds, then syncs into files/warehouse.db
        ///     connector-host conformance .    # checks it against the protocol
        ///
        /// Replace the body of `update` with reads from your source; keep the checkpoint.
        @main
        struct \(typeName): Connector {
            var name: String { "\(name)" }
            var version: String { "0.1.0" }

            static let rowsPerRun: Int64 = 3

            func schema(configuration: Configuration) throws -> [TableDefinition] {
                [
                    TableDefinition(
                        name: "greeting", primaryKey: ["id"],
                        columns: [("id", ColumnType(.long)), ("message", ColumnType(.string)), ("created_at", ColumnType(.utcDateTime))])
                ]
            }

            func update(configuration: Configuration, state: JSONValue, operations: Operations) throws {
                let greeting = try configuration.string("greeting", default: "hello")
                let cursor = state["cursor"]?.int64Value ?? 0
                Log.info("starting after id \\(cursor)")
                for id in (cursor + 1)...(cursor + Self.rowsPerRun) {
                    let createdAt = Date(timeIntervalSince1970: 1_704_067_200 + Double(id - 1) * 60)  // 2024-01-01T00:00:00Z + (id - 1) min
                    try operations.upsert(
                        "greeting",
                        [
                            "id": .number(JSONNumber(id)), "message": .string("\\(greeting) #\\(id)"),
                            "created_at": .string(createdAt.formatted(.iso8601)),
                        ])
                }
                // Returns once the rows and the new cursor are committed together: the next run continues here.
                try operations.checkpoint(["cursor": .number(JSONNumber(cursor + Self.rowsPerRun))])
            }
        }

        """
    }

    func readme(_ language: ScaffoldLanguage) -> String {
        let (files, details): (String, String) =
            switch language {
            case .python:
                (
                    """
                    | `connector.py` | the connector, in the Fivetran Connector SDK style (`from fivetran_connector_sdk import ...`) |
                    | `requirements.txt` | PyPI packages it needs; installed into `files/venv` before a run when it lists any |
                    """,
                    """
                    `connector-host run` starts `python3` with connector-host's Python SDK (the one installed for
                    that interpreter, else the `sdks/python` installed with connector-host or of its checkout); nothing
                    needs installing. `python connector.py` runs it too, through `connector.debug()`, once the SDK is
                    installed for that interpreter (`pip install PREFIX/share/connector-host/sdks/python`, or
                    `./sdks/python` of a checkout). `print()` is safe: it goes to the log.
                    Configuration values are strings, as in Fivetran.
                    """
                )
            case .node:
                (
                    """
                    | `connector.json` | how to start it: `node connector.js` |
                    | `connector.js` | the connector: `schema` and `update` |
                    | `protocol.js` | the protocol helper (no npm packages), a copy of connector-host's Node helper (`sdks/node/protocol.js`) |
                    """,
                    """
                    Needs Node.js 20. `console.log` is safe: `protocol.js` sends it to stderr, which the
                    host shows as the connector's log; stdout carries the protocol only.
                    """
                )
            case .swift:
                (
                    """
                    | `connector.json` | how to build (`swift build --product \(name)`) and start (`.build/debug/\(name)`) it |
                    | `Package.swift` | a SwiftPM package depending on connector-host's `ConnectorSDK` by path (\(sdkIsInstalled ? "the installed Swift SDK" : "the checkout")) |
                    | `Sources/\(typeName).swift` | the connector: `schema` and `update` |
                    """,
                    """
                    `connector-host run` builds the package first (the first build compiles the SDK, some
                    seconds); `--no-build` skips that. `print` is safe: the SDK sends it to stderr.
                    """
                )
            }
        return """
            # \(name)

            A connector for connector-host, created by
            `connector-host init \(name) --language \(language.rawValue)`. Each run writes three new rows to the
            table `greeting` (primary key `id`) and checkpoints the last id as `{"cursor": N}`, so the next
            run continues after it.

            ```sh
            connector-host run .            # sync into files/warehouse.db; the state goes to files/state.json
            connector-host run .            # again: three more rows, the cursor advances
            connector-host conformance .    # check the connector against the protocol
            connector-host reset . --yes    # start over
            ```

            | file | what |
            |---|---|
            \(files)
            | `configuration.json` | the configuration passed to the connector: `{"greeting": "hello"}` |

            \(details)
            To make it yours: declare your tables in `schema`, read your source in `update` starting from
            the state, send the rows, and checkpoint the new state (after every page or batch, so a failed
            run resumes from the last checkpoint).

            """
    }
}
