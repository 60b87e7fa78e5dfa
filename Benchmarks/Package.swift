// swift-tools-version:6.1
import PackageDescription

// Benchmarks live in their own package so that the main build and CI do not build the benchmark
// framework. Run with `swift package benchmark` from this directory (BENCHMARKS.md).
let package = Package(
    name: "porto-exporter-benchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "porto-exporter", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // One collection of porto-sim's host recorded as bytes, shared by the suites and the floor.
        .target(
            name: "BenchSupport",
            dependencies: [
                .product(name: "PortoWire", package: "porto-exporter"),
                .product(name: "PortoExporter", package: "porto-exporter"),
                .product(name: "PortoSim", package: "porto-exporter"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        // The floor of dev/bench-e2e.sh: a bare PortoWire client receiving one collection's answers.
        .executableTarget(
            name: "porto-floor",
            dependencies: [
                .product(name: "PortoWire", package: "porto-exporter"),
                .product(name: "PortoExporter", package: "porto-exporter"),
            ]
        ),
        // One stage of a scrape in-process, for valgrind --tool=callgrind and other profilers.
        .executableTarget(
            name: "porto-profile",
            dependencies: [
                "BenchSupport",
                .product(name: "PortoWire", package: "porto-exporter"),
                .product(name: "PortoExporter", package: "porto-exporter"),
            ]
        ),
        // ordo-one/benchmark suites: decoding, collection and encoding, gzip.
        .executableTarget(
            name: "PortoBenchmarks",
            dependencies: [
                "BenchSupport",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "PortoWire", package: "porto-exporter"),
                .product(name: "PortoExporter", package: "porto-exporter"),
                .product(name: "PortoSim", package: "porto-exporter"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "Benchmarks/PortoBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
