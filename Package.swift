// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "porto-exporter",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "PortoWire", targets: ["PortoWire"]),
        // For the libFuzzer package in Fuzz/ and the benchmarks in Benchmarks/ (porto-sim too).
        .library(name: "PortoExporter", targets: ["PortoExporter"]),
        .library(name: "PortoSim", targets: ["PortoSim"]),
        .executable(name: "porto-exporter", targets: ["porto-exporter"]),
        .executable(name: "porto-sim", targets: ["porto-sim"]),
    ],
    dependencies: [
        // No traits: the default BinaryDelimitedStreams imports Foundation (its InputStream and
        // OutputStream), which would link swift-corelibs-foundation into the exporter; FieldMask
        // utilities are not used.
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0", traits: []),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // Porto's RPC: framing, the client, and the code generated from dev/protos/rpc.proto.
        .target(
            name: "PortoWire",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),
        // One module per C library, each with its shim.h (wrappers only where Swift cannot call
        // the library directly: C-variadic functions, macros).
        // libmicrohttpd (Debian's libmicrohttpd-dev): the HTTP server, through a fixed-arity shim.
        .systemLibrary(
            name: "CMicroHTTPD",
            pkgConfig: "libmicrohttpd",
            providers: [.apt(["libmicrohttpd-dev"])]
        ),
        // GnuTLS (Debian's libgnutls28-dev): client certificates on libmicrohttpd's TLS sessions, HMAC.
        .systemLibrary(
            name: "CGnuTLS",
            pkgConfig: "gnutls",
            providers: [.apt(["libgnutls28-dev"])]
        ),
        // ISA-L's igzip (Debian's libisal-dev): gzip for the answers.
        .systemLibrary(
            name: "CIsal",
            pkgConfig: "libisal",
            providers: [.apt(["libisal-dev"])]
        ),
        // zlib (Debian's zlib1g-dev): the tests read the answers back with a decoder of their own.
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // libxcrypt (Debian's libcrypt-dev): bcrypt for basic auth.
        .systemLibrary(
            name: "CCrypt",
            pkgConfig: "libxcrypt",
            providers: [.apt(["libcrypt-dev"])]
        ),
        // The glibc headers Swift's Glibc module leaves out: <malloc.h> (mallopt, malloc_trim), <sys/random.h>.
        .systemLibrary(name: "CGlibc"),
        // libyaml (Debian's libyaml-dev): the web configuration file's parser.
        .systemLibrary(
            name: "CYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]
        ),
        // The exporter's logic: metric table, collectors, exposition, HTTP.
        .target(
            name: "PortoExporter",
            dependencies: [
                "PortoWire",
                "CMicroHTTPD",
                "CGnuTLS",
                "CIsal",
                "CCrypt",
                "CGlibc",
                "CYAML",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "porto-exporter",
            dependencies: [
                "PortoExporter",
                "PortoWire",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["link-order.txt"],
            // Pages of the executable that a small process touches stay resident (BENCHMARKS.md,
            // "Memory at 100 containers"). lld with RELR relocations packs .rela.dyn's 87,000
            // relative relocations into 16 KB; --no-export-dynamic undoes the -export-dynamic of
            // swiftc's -static-stdlib, which exported 18,000 symbols nobody looks up (the
            // backtracer reads .symtab): -3 MB steady RSS. link-order.txt (dev/link-order.sh)
            // puts the functions that run together at the start of .text: -2 MB. PIE and ASLR
            // stay: a non-PIE link would save 2.2 MB, but an HTTP server parsing untrusted input
            // keeps address-space randomisation. --icf=all (-0.16 MB) and -function-sections
            // (+0.8 MB) were measured and left out. DT_RELR needs glibc 2.36 (bookworm) at run time.
            linkerSettings: [
                .unsafeFlags(
                    [
                        "-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs",
                        "-Xlinker", "--no-export-dynamic",
                        "-Xlinker", "--symbol-ordering-file=\(Context.packageDirectory)/Sources/porto-exporter/link-order.txt",
                        "-Xlinker", "--no-warn-symbol-ordering",
                    ],
                    .when(platforms: [.linux])
                )
            ]
        ),
        // The simulated portod: a synthetic host served over Porto's protocol.
        .target(
            name: "PortoSim",
            dependencies: ["PortoWire"]
        ),
        .executableTarget(
            name: "porto-sim",
            dependencies: [
                "PortoSim",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // What the test targets share: temporary directories, waits, raw HTTP clients, commands.
        .target(name: "PortoTestSupport", path: "Tests/PortoTestSupport"),
        .testTarget(name: "PortoWireTests", dependencies: ["PortoWire", "PortoSim", "PortoTestSupport"]),
        .testTarget(name: "PortoSimTests", dependencies: ["PortoSim", "PortoWire", "PortoTestSupport"]),
        .testTarget(
            name: "PortoExporterTests",
            dependencies: ["PortoExporter", "PortoWire", "PortoSim", "PortoTestSupport", "CZlib"],
            resources: [.copy("Fixtures")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
