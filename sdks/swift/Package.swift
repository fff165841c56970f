// swift-tools-version:6.0
// The Swift SDK of connector-host as a package of its own, with no dependencies: the manifest that
// scripts/install.sh installs as PREFIX/share/connector-host/sdks/swift/Package.swift, beside copies of
// the checkout's Sources/ConnectorSDK and Sources/ConnectorProtocol (this folder holds only the
// manifest; the sources stay where the root package builds them). A connector package depends on it with
//     .package(path: "PREFIX/share/connector-host/sdks/swift")
// and .product(name: "ConnectorSDK", package: "swift"); `connector-host init NAME --language swift`
// writes that. Or it depends on the repository itself by git URL (package "connector-host").
import PackageDescription

let package = Package(
    name: "ConnectorSDK",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "ConnectorSDK", targets: ["ConnectorSDK"]),
        .library(name: "ConnectorProtocol", targets: ["ConnectorProtocol"]),
    ],
    targets: [
        .target(name: "ConnectorProtocol"),
        .target(name: "ConnectorSDK", dependencies: ["ConnectorProtocol"]),
    ]
)

// The language settings of the root package's targets.
for target in package.targets {
    target.swiftSettings = (target.swiftSettings ?? []) + [.enableUpcomingFeature("ExistentialAny")]
}
