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

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    // `_checkInvariants()` bodies are compiled in for debug (test) builds only.
    .define("KAIROS_CHECK_INVARIANTS", .when(configuration: .debug)),
    // The engine is generic over its policy and clock, and the policies live in another module:
    // cross-module optimisation lets the release build specialise and inline across modules as it
    // did when everything was one module (the decision-path benchmarks check it).
    .unsafeFlags(["-cross-module-optimization"], .when(configuration: .release)),
    // Release builds check exclusive access statically only: the dynamic check (swift_beginAccess,
    // a thread-local access set) on every class property the engine thread touches per tick cost
    // ~10 % of the decision path (perf). The engine is single-writer by construction and debug
    // (test) builds keep the dynamic check, so a violation still fails the tests.
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

/// A Swift module of Kairos at Sources/<name>.
func swiftModule(_ name: String, dependencies: [Target.Dependency]) -> Target {
    .target(name: name, dependencies: dependencies, path: "Sources/\(name)", swiftSettings: swiftSettings)
}

let package = Package(
    name: "Kairos",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "kairos", targets: ["KairosCLI"]),
        // Everything a program embedding Kairos needs; the test fixtures are a product of their own.
        .library(
            name: "Kairos",
            targets: ["KairosCore", "KairosStrategies", "KairosIO", "KairosSim", "KairosTraining", "KairosApp"]),
        .library(name: "KairosTesting", targets: ["KairosTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // The one shim over the system libraries (zmq, hiredis, liburing). One module for all three
        // because separate systemLibrary modules collide on fd_set. Only the C targets (CKairos,
        // CKairosTesting) include it: Swift sees Kairos's own C API, never these headers.
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
        // C entry points that exist only for tests and benchmarks (the UDP test sender, plain
        // ZeroMQ sockets for malformed-input and security tests), out of CKairos so its umbrella
        // header holds only what production code calls. Only KairosTesting and the tests use it.
        .target(
            name: "CKairosTesting",
            dependencies: ["CKairosSystem", "CKairos"],
            path: "CSources/CKairosTesting",
            cSettings: cOptimise
        ),
        // The Swift modules, bottom to top. Each depends only on the ones above it in this list, so
        // SwiftPM refuses a cycle at build time (docs/architecture.md has the diagram):
        //   KairosCore ← KairosStrategies ← KairosIO ← KairosSim ← KairosTraining ← KairosApp ← kairos
        // KairosTesting (fixtures and harnesses) sits beside KairosApp and ships in no library.
        swiftModule("KairosCore", dependencies: [
            "CKairos",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ]),
        swiftModule("KairosStrategies", dependencies: ["KairosCore", "CKairos"]),
        swiftModule("KairosIO", dependencies: [
            "KairosCore", "CKairos", .product(name: "Logging", package: "swift-log"),
        ]),
        swiftModule("KairosSim", dependencies: [
            "KairosCore", "KairosStrategies", "KairosIO", "CKairos", .product(name: "Logging", package: "swift-log"),
        ]),
        swiftModule("KairosTraining", dependencies: ["KairosCore", "KairosStrategies", "KairosIO", "KairosSim", "CKairos"]),
        swiftModule("KairosApp", dependencies: [
            "KairosCore", "KairosStrategies", "KairosIO", "KairosSim", "KairosTraining", "CKairos",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        swiftModule("KairosTesting", dependencies: [
            "KairosCore", "KairosStrategies", "KairosIO", "KairosSim", "KairosApp", "CKairos", "CKairosTesting",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(
            name: "KairosCLI",
            dependencies: [
                "KairosCore", "KairosStrategies", "KairosIO", "KairosSim", "KairosTraining", "KairosApp",
                // `kairos bench` and `kairos feed --measure-ingest` run the shared harnesses.
                "KairosTesting",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/KairosCLI",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KairosTests",
            dependencies: [
                "KairosCore", "KairosStrategies", "KairosIO", "KairosSim", "KairosTraining", "KairosApp", "KairosTesting",
                "CKairos", "CKairosTesting",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            path: "Tests/KairosTests",
            swiftSettings: swiftSettings
        ),
    ],
    cLanguageStandard: .c11
)
