// swift-tools-version: 6.1
// Kairos: a regime-aware multi-agent trading engine. C for the hot path (CSources/), Swift to
// orchestrate it (Sources/). Benchmarks live in their own package under Benchmarks/ so that the
// test build does not compile package-benchmark and its interposers.
import PackageDescription

let cOptimise: [CSetting] = [
    // The kernels are the hot path: keep them optimised even in debug builds so the tests that
    // push 10 M records through the ring finish quickly. AVX2 code paths are enabled per function
    // with __attribute__((target)) and chosen at run time, so no -mavx2 here: the binary stays
    // portable to x86-64 machines without AVX2.
    .unsafeFlags(["-O3", "-fno-strict-aliasing"]),
    // liburing.h needs AT_FDCWD and friends, which strict -std=c11 hides.
    .define("_GNU_SOURCE"),
    // Debug builds (the test build) compile in the internal invariant checks (ring indices etc.).
    .define("KAIROS_CHECK_INVARIANTS", .when(configuration: .debug)),
]

let package = Package(
    name: "Kairos",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "kairos", targets: ["KairosCLI"]),
        .library(name: "Kairos", targets: ["Kairos"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // The one shim over the system libraries (zmq, hiredis, liburing). One module for all three
        // because separate systemLibrary modules collide on fd_set. Only CKairos includes it:
        // Swift sees Kairos's own C API, never these headers.
        .systemLibrary(
            name: "CKairosSystem",
            path: "CSources/CKairosSystem",
            pkgConfig: "libzmq",
            providers: [.apt(["libzmq3-dev", "libhiredis-dev", "liburing-dev"])]
        ),
        // The C hot-path core: rings, feature kernels, MLP inference, system probes.
        .target(
            name: "CKairos",
            dependencies: ["CKairosSystem"],
            path: "CSources/CKairos",
            cSettings: cOptimise,
            linkerSettings: [
                .linkedLibrary("zmq"), .linkedLibrary("hiredis"), .linkedLibrary("uring"), .linkedLibrary("m"),
            ]
        ),
        .target(
            name: "Kairos",
            dependencies: [
                "CKairos",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/Kairos",
            swiftSettings: [
                .swiftLanguageMode(.v6),
                // `_checkInvariants()` bodies are compiled in for debug (test) builds only.
                .define("KAIROS_CHECK_INVARIANTS", .when(configuration: .debug)),
            ]
        ),
        .executableTarget(
            name: "KairosCLI",
            dependencies: [
                "Kairos",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/KairosCLI",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .testTarget(
            name: "KairosTests",
            dependencies: [
                "Kairos", "CKairos",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            path: "Tests/KairosTests",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ],
    cLanguageStandard: .c11
)
