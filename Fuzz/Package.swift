// swift-tools-version:6.1
// libFuzzer targets for porto-exporter. Build and run them with `dev/fuzz.sh` (which passes
// `--sanitize=fuzzer --sanitize=address`); each target is an executable whose only entry point is
// `LLVMFuzzerTestOneInput`, and libFuzzer supplies `main`. Seed corpora live in `Corpus/<target>/`.
import PackageDescription

let package = Package(
    name: "porto-exporter-fuzz",
    dependencies: [.package(name: "porto-exporter", path: "..")],
    targets: [
        .executableTarget(
            name: "FuzzFraming",
            dependencies: [.product(name: "PortoWire", package: "porto-exporter")]
        ),
        .executableTarget(
            name: "FuzzClient",
            dependencies: [.product(name: "PortoWire", package: "porto-exporter")]
        ),
        .executableTarget(
            name: "FuzzAccept",
            dependencies: [.product(name: "PortoExporter", package: "porto-exporter")]
        ),
        .executableTarget(
            name: "FuzzWebConfig",
            dependencies: [.product(name: "PortoExporter", package: "porto-exporter")]
        ),
        .executableTarget(
            name: "FuzzContainerReader",
            dependencies: [
                .product(name: "PortoWire", package: "porto-exporter"),
                .product(name: "PortoExporter", package: "porto-exporter"),
            ]
        ),
        .executableTarget(
            name: "FuzzLegacy",
            dependencies: [.product(name: "PortoExporter", package: "porto-exporter")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
