import Benchmark
import PortoExporter
import PortoSim
import PortoWire
import BenchSupport

/// The exporter's hot path, piece by piece, at 100, 1,000 and 10,000 containers of porto-sim's
/// host (fixed seed, frozen clock). portod's answers are encoded once, outside the measured part,
/// so every figure is the exporter's own work: decoding what portod sent, collecting and writing
/// the exposition, compressing it. BENCHMARKS.md has the figures and how to read them.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident],
        timeUnits: .microseconds,
        warmupIterations: 2,
        maxDuration: .seconds(3),
        maxIterations: 200
    )

    for containers in [100, 1_000, 10_000] {
        let fixture = RecordedHost.make(containers: containers)

        Benchmark("decode ListContainersBy/\(containers)") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try Porto_TPortoResponse(serializedBytes: fixture.listContainersByAnswer))
            }
        }

        Benchmark("collect + text/\(containers)") { benchmark in
            let writer = ExpositionWriter(format: .text)
            for _ in benchmark.scaledIterations {
                writer.reset(format: .text)
                fixture.collection.collect(into: writer, deadline: .now + .seconds(60))
                blackHole(fixture.sink.copy(writer, .text))
            }
        }

        Benchmark("encode openmetrics/\(containers)") { benchmark in
            // Only the rendering: the samples of one collection written again as OpenMetrics.
            let writer = fixture.collectedWriter
            for _ in benchmark.scaledIterations {
                blackHole(fixture.sink.copy(writer, .openMetrics))
            }
        }

        for level: Int32 in [1, 3] {
            Benchmark("gzip level \(level)/\(containers)") { benchmark in
                for _ in benchmark.scaledIterations {
                    blackHole(Gzip.compress(fixture.openMetricsBody, level: level))
                }
            }
        }
    }
}
