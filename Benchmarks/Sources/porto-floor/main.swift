#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PortoExporter
import PortoWire
import BenchSupport

/// The floor of a scrape: a bare PortoWire client sending the requests one collection of the
/// exporter sends (its default collectors, recorded in-process against porto-sim's model) and
/// receiving the answers' bytes (``PortoClient/callRaw(_:timeout:)``: framing read, envelope
/// checked, nothing decoded), K times over one connection: what any exporter must spend. Prints one line of JSON with the CPU time
/// (user + system, getrusage) per iteration, which dev/bench-e2e.sh compares with the exporter's.
///
/// usage: porto-floor SOCKET ITERATIONS
let arguments = CommandLine.arguments
guard arguments.count == 3, let iterations = Int(arguments[2]), iterations > 0 else {
    StandardError.emit("usage: porto-floor SOCKET ITERATIONS\n")
    exit(2)
}
let socketPath = arguments[1]
let requests = RecordedHost.make(containers: 3).requests
let client = PortoClient(socketPath: socketPath, timeout: .seconds(60))

func once() {
    for request in requests {
        do {
            _ = try client.callRaw(request)   // throws unless the envelope says Success
        } catch {
            StandardError.emit("porto-floor: \(request.methodName): \(error)\n")
            exit(1)
        }
    }
}

func cpuSeconds() -> Double {
    var usage = rusage()
    #if canImport(Glibc)
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    #else
    getrusage(RUSAGE_SELF, &usage)
    #endif
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

once()  // connect and warm up
let clock = ContinuousClock()
let cpuBefore = cpuSeconds()
let wall = clock.measure {
    for _ in 0..<iterations { once() }
}
let cpu = cpuSeconds() - cpuBefore
let wallSeconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
let methods = requests.map { "\"\($0.methodName)\"" }.joined(separator: ",")
print("{\"iterations\":\(iterations),\"cpu_seconds_per_iteration\":\(cpu / Double(iterations)),\"wall_seconds_per_iteration\":\(wallSeconds / Double(iterations)),\"requests\":[\(methods)]}")
