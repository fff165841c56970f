// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "connector-host",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "connector-host", targets: ["connector-host"]),
        .library(name: "ConnectorSDK", targets: ["ConnectorSDK"]),
        .library(name: "ConnectorHost", targets: ["ConnectorHost"]),
        .library(name: "ConnectorProtocol", targets: ["ConnectorProtocol"]),
        .library(name: "ConnectorPackaging", targets: ["ConnectorPackaging"]),
    ],
    targets: [
        // Libraries, from the wire up.
        .systemLibrary(
            name: "CConnectorSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .systemLibrary(
            name: "CConnectorZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // libpq's headers (Debian: libpq-dev) at build time; the library itself is opened with dlopen
        // on first use, so a SQLite run never maps it (see include/CConnectorPostgres.h).
        .target(name: "CConnectorPostgres"),
        .target(name: "CConnectorSpawn"),
        .target(name: "ConnectorProtocol"),
        .target(name: "ConnectorSDK", dependencies: ["ConnectorProtocol"]),
        .target(name: "ConnectorPackaging", dependencies: ["ConnectorProtocol", "CConnectorZlib"]),
        .target(
            name: "ConnectorHost",
            dependencies: ["ConnectorProtocol", "ConnectorPackaging", "CConnectorSQLite", "CConnectorPostgres", "CConnectorSpawn"]),
        // Singer taps and Airbyte sources as connectors: the hidden `connector-host adapter` command.
        .target(name: "ConnectorAdapters", dependencies: ["ConnectorProtocol", "CConnectorSpawn"]),
        // The command line: parsing, help, subcommands, terminal output (print, readLine, signals).
        .target(name: "ConnectorHostCLI", dependencies: ["ConnectorHost", "ConnectorAdapters", "ConnectorProtocol", "ConnectorPackaging"]),
        .target(name: "BenchWorkload", path: "bench/Sources/BenchWorkload"),

        // Executables: the thin entry point and the connectors that live in this repository.
        .executableTarget(name: "connector-host", dependencies: ["ConnectorHostCLI"]),
        .executableTarget(
            name: "hello-connector",
            dependencies: ["ConnectorSDK"],
            path: "connectors/hello/Sources"
        ),
        .executableTarget(
            name: "bench-connector",
            dependencies: ["ConnectorSDK", "BenchWorkload"],
            path: "bench/Sources/BenchConnector"
        ),
        .executableTarget(
            name: "connector-host-bench",
            dependencies: ["ConnectorHost", "BenchWorkload"],
            path: "bench/Sources/HostBench"
        ),
        .executableTarget(
            name: "operations-test-connector",
            dependencies: ["ConnectorSDK"],
            path: "Tests/Connectors/OperationsTestConnector"
        ),
        .executableTarget(
            name: "fault-injection-connector",
            dependencies: ["ConnectorProtocol"],
            path: "Tests/Connectors/FaultInjectionConnector"
        ),

        // Tests.
        .testTarget(name: "ConnectorProtocolTests", dependencies: ["ConnectorProtocol"]),
        .testTarget(name: "ConnectorSDKTests", dependencies: ["ConnectorSDK", "ConnectorProtocol"]),
        .testTarget(name: "ConnectorAdaptersTests", dependencies: ["ConnectorAdapters", "ConnectorProtocol"]),
        .testTarget(name: "ConnectorHostCLITests", dependencies: ["ConnectorHostCLI", "ConnectorHost"]),
        .testTarget(name: "ConnectorPackagingTests", dependencies: ["ConnectorPackaging"]),
        .testTarget(
            name: "ConnectorHostTests",
            dependencies: [
                "ConnectorHost", "ConnectorProtocol", "ConnectorPackaging", "CConnectorSQLite",
                "hello-connector", "operations-test-connector", "fault-injection-connector",
            ]
        ),
    ]
)

// The examples gallery: each examples/NAME folder is the executable product example-NAME, which
// the end-to-end tests run (so `swift test` builds them all).
let examples = [
    "hello-append", "three-step-cursor", "secret-configuration", "complex-configuration", "specified-types",
    "unspecified-types", "three-operations", "composite-primary-key", "hashed-primary-key", "first-seen-timestamp",
    "truncate-and-reload", "widening-schema", "parent-child-cursors", "large-data-set", "priority-first-sync",
]
for example in examples {
    package.targets.append(
        .executableTarget(name: "example-\(example)", dependencies: ["ConnectorSDK"], path: "examples/\(example)/Sources"))
}
package.targets.first { $0.name == "ConnectorHostTests" }?.dependencies += examples.map { .target(name: "example-\($0)") }

// One place for language settings, applied to every target.
for target in package.targets where target.type != .system && !target.name.hasPrefix("C") {
    target.swiftSettings =
        (target.swiftSettings ?? []) + [
            .enableUpcomingFeature("ExistentialAny")
        ]
}
