// swift-tools-version: 6.1
// Kairos benchmarks (package-benchmark). A separate package so that `swift build` / `swift test` in
// the root never compile package-benchmark and its malloc interposer.
//
// Run from this directory: `swift package --disable-sandbox benchmark` (or ./run.sh [--short]).
//
// Layout: the benchmark plugin only runs executable targets whose directory sits directly inside a
// folder named `Benchmarks` (BenchmarkCommandPlugin checks the parent directory's name). This
// package's own directory is that folder, so suites live at Benchmarks/<Suite>/<Suite>.swift.
import PackageDescription

let suiteDependencies: [Target.Dependency] = [
    .product(name: "Benchmark", package: "benchmark"),
    // The Kairos library (its modules KairosCore ... KairosApp) and the shared harnesses
    // (KairosTesting: the decision-path harness, the UDP sender); the C core (module CKairos) comes
    // with them and the suites import it directly to measure the kernels without the Swift layer.
    .product(name: "Kairos", package: "Kairos"),
    .product(name: "KairosTesting", package: "Kairos"),
    "KairosBenchSupport",
]

let package = Package(
    name: "KairosBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        // Named explicitly: a path dependency is otherwise identified by its directory name, which
        // differs between clones and worktrees.
        .package(name: "Kairos", path: ".."),
        // MallocInterposer only: it gives the malloc counters on Swift 6.3 without jemalloc, and
        // naming the traits explicitly leaves out the default RuntimeInterposer trait.
        .package(url: "https://github.com/ordo-one/benchmark.git", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // Shared run configuration (full vs short CI run) and helpers.
        .target(
            name: "KairosBenchSupport",
            dependencies: [.product(name: "Benchmark", package: "benchmark")],
            path: "Support",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "RingBenchmarks",
            dependencies: suiteDependencies,
            path: "Ring",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "FeaturesBenchmarks",
            dependencies: suiteDependencies,
            path: "Features",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "DecisionPathBenchmarks",
            dependencies: suiteDependencies,
            path: "DecisionPath",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "IngestBenchmarks",
            dependencies: suiteDependencies,
            path: "Ingest",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "FeatureCacheBenchmarks",
            dependencies: suiteDependencies,
            path: "FeatureCache",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "MLPBenchmarks",
            dependencies: suiteDependencies,
            path: "MLP",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "TrainingBenchmarks",
            dependencies: suiteDependencies,
            path: "Training",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "RegimeBenchmarks",
            dependencies: suiteDependencies,
            path: "Regime",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "EnsembleBenchmarks",
            dependencies: suiteDependencies,
            path: "Ensemble",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "MetaBenchmarks",
            dependencies: suiteDependencies,
            path: "Meta",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
]
)
