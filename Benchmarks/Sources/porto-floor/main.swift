#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PortoExporter
import PortoWire

/// The floor of a scrape: receiving the bytes of the answers to the requests the exporter's
/// default collectors send, and nothing else. It first runs the default collectors against the
/// same portod (porto-sim) to learn those requests: the containers and memory owners named in
/// the Gets are the live host's, and only the collections after the first are kept, since
/// ListProperties is asked once per connection and the first collection reads the slower groups
/// of every container, the later ones a quarter. Then it sends one kept collection's requests
/// per iteration, in turn, K times over one connection, each with ``PortoClient/callRaw(_:timeout:)``
/// (framing read, envelope checked, nothing decoded): what any exporter must spend. Prints one
/// line of JSON with the CPU time (user + system, getrusage) and bytes received per iteration,
/// and the requests per iteration, which dev/bench-e2e.sh compares with the exporter's.
///
/// usage: porto-floor SOCKET ITERATIONS
enum StandardError {
    static func emit(_ text: String) {
        var text = text
        text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }
}

let arguments = CommandLine.arguments
guard arguments.count == 3, let iterations = Int(arguments[2]), iterations > 0 else {
    StandardError.emit("usage: porto-floor SOCKET ITERATIONS\n")
    exit(2)
}
let socketPath = arguments[1]
let client = PortoClient(socketPath: socketPath, timeout: .seconds(60))

/// Sends the collectors' requests through `client` and keeps them.
final class RequestRecorder: PortoTransport, @unchecked Sendable {
    let client: PortoClient
    var requests: [Porto_TPortoRequest] = []
    init(_ client: PortoClient) { self.client = client }

    func call(_ request: Porto_TPortoRequest, timeout: Duration?) throws(PortoError) -> Porto_TPortoResponse {
        requests.append(request)
        return try client.call(request, timeout: timeout)
    }

    func callRaw(_ request: Porto_TPortoRequest, timeout: Duration?) throws(PortoError) -> [UInt8] {
        requests.append(request)
        return try client.callRaw(request, timeout: timeout)
    }

    var connectionGeneration: Int? { client.connectionsOpened }
    var portodSocket: String? { client.socketPath }
}

// The slower groups are read a quarter of the containers per collection: four collections after
// the first make one turn.
let turn = 4
let recorder = RequestRecorder(client)
let collectors = CollectorSet(configuration: CollectionConfiguration(), transport: recorder)
var collections: [[Porto_TPortoRequest]] = []
for _ in 0...turn {
    recorder.requests = []
    collectors.collect(into: ExpositionWriter(format: .text), deadline: .now + .seconds(600))
    collections.append(recorder.requests)
}
let firstOnly = Set(collections[0].map(\.methodName)).subtracting(collections[1...].flatMap { $0.map(\.methodName) }).sorted()
collections.removeFirst()

/// Sends `requests`; returns the bytes received.
func once(_ requests: [Porto_TPortoRequest]) -> Int {
    var received = 0
    for request in requests {
        do {
            received += try client.callRaw(request).count   // throws unless the envelope says Success
        } catch {
            StandardError.emit("porto-floor: \(request.methodName): \(error)\n")
            exit(1)
        }
    }
    return received
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

var counts: [String: Int] = [:]
for i in 0..<iterations {
    for request in collections[i % collections.count] { counts[request.methodName, default: 0] += 1 }
}
let clock = ContinuousClock()
let cpuBefore = cpuSeconds()
let start = clock.now
var received = 0
for i in 0..<iterations { received += once(collections[i % collections.count]) }
let wall = start.duration(to: clock.now)
let cpu = cpuSeconds() - cpuBefore
let wallSeconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
let n = Double(iterations)
let perIteration = counts.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\(Double($0.value) / n)" }.joined(separator: ",")
let firstOnlyNames = firstOnly.map { "\"\($0)\"" }.joined(separator: ",")
print("{\"iterations\":\(iterations),\"cpu_seconds_per_iteration\":\(cpu / n),\"wall_seconds_per_iteration\":\(wallSeconds / n),"
      + "\"bytes_per_iteration\":\(Double(received) / n),\"requests_per_iteration\":{\(perIteration)},\"first_collection_only\":[\(firstOnlyNames)]}")
