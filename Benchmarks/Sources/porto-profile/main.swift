#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BenchSupport
import PortoExporter
import PortoWire

/// One stage of a scrape, run in-process over a recorded host, for a profiler:
///
///     valgrind --tool=callgrind .build/release/porto-profile collect 1000 5
///
/// Stages: `decode` (the ListContainersBy answer only), `collect` (collection into a text
/// writer, decoding included), `openmetrics` (rendering a collected writer), `gzip` (compressing
/// the OpenMetrics body at ISA-L's level 1; `gzip3` at its level 3). Recording the host is done before the
/// stage runs, so a profile shows the stage plus a fixed setup cost (`setup` runs nothing else).
/// Prints the series count and bytes of one scrape.
let arguments = CommandLine.arguments
guard arguments.count == 4, let containers = Int(arguments[2]), let iterations = Int(arguments[3]) else {
    StandardError.emit("usage: porto-profile setup|decode|collect|openmetrics|gzip|gzip3 CONTAINERS ITERATIONS\n")
    exit(2)
}
let host = RecordedHost.make(containers: containers)
var total = 0
for _ in 0..<iterations {
    switch arguments[1] {
    case "setup":
        break
    case "decode":
        let response = try Porto_TPortoResponse(serializedBytes: host.listContainersByAnswer)
        total += response.listContainersBy.containers.count
    case "collect":
        let writer = ExpositionWriter(format: .text)
        host.collection.collect(into: writer, deadline: .now + .seconds(600))
        total += host.sink.copy(writer, .text)
    case "openmetrics":
        total += host.sink.copy(host.collectedWriter, .openMetrics)
    case "gzip":
        total += Gzip.compress(host.openMetricsBody, level: 1)?.count ?? 0
    case "gzip3":
        total += Gzip.compress(host.openMetricsBody, level: 3)?.count ?? 0
    default:
        StandardError.emit("unknown stage \(arguments[1])\n")
        exit(2)
    }
}
print("containers \(containers) series \(host.seriesCount) text \(host.textBody.count) B openmetrics \(host.openMetricsBody.count) B lcb answer \(host.listContainersByAnswer.count) B (\(total))")
