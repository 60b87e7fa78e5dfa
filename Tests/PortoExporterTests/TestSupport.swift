// The helpers every test target shares (temporary directories, waits, raw HTTP clients) are in
// the PortoTestSupport target; re-exported here so that every file of this target sees them.
@_exported import PortoTestSupport
import PortoWire
import Synchronization
@testable import PortoExporter

/// Paths of the test sources, for golden files that an update switch rewrites.
enum TestPaths {
    /// Tests/PortoExporterTests/Fixtures in the source tree.
    static let fixtures: String = {
        let file = #filePath
        let dir = file[..<file.lastIndex(of: "/")!]
        return "\(dir)/Fixtures"
    }()

    /// The package root.
    static let root: String = {
        var dir = Substring(#filePath)
        for _ in 0..<3 { dir = dir[..<dir.lastIndex(of: "/")!] }
        return String(dir)
    }()

    /// `UPDATE_GOLDEN=1 swift test` rewrites golden files instead of comparing.
    static var updating: Bool { getenv("UPDATE_GOLDEN").map { String(cString: $0) == "1" } ?? false }
}

#if canImport(Glibc)
import Glibc
#endif

enum Files {
    static func read(_ path: String) -> String? {
        guard let f = fopen(path, "rb") else { return nil }
        defer { fclose(f) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buffer, 1, buffer.count, f)
            if n <= 0 { break }
            out.append(contentsOf: buffer[0..<n])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func write(_ path: String, _ text: String) {
        guard let f = fopen(path, "wb") else { fatalError("cannot write \(path)") }
        defer { fclose(f) }
        let bytes = Array(text.utf8)
        _ = fwrite(bytes, 1, bytes.count, f)
    }
}

/// A transport that answers from a closure and records the methods asked for.
final class FakeTransport: PortoTransport {
    private let asked = Mutex<[Porto_TPortoRequest]>([])
    let answer: @Sendable (Porto_TPortoRequest) throws(PortoError) -> Porto_TPortoResponse

    init(answer: @escaping @Sendable (Porto_TPortoRequest) throws(PortoError) -> Porto_TPortoResponse) {
        self.answer = answer
    }

    var methods: [String] { requests.map(\.methodName) }
    var requests: [Porto_TPortoRequest] { asked.withLock { $0 } }

    func call(_ request: Porto_TPortoRequest, timeout: Duration?) throws(PortoError) -> Porto_TPortoResponse {
        asked.withLock { $0.append(request) }
        return try answer(request)
    }
}

extension Porto_TPortoResponse {
    static func ok(_ fill: (inout Porto_TPortoResponse) -> Void) -> Porto_TPortoResponse {
        var r = Porto_TPortoResponse()
        r.error = .success
        fill(&r)
        return r
    }
}

/// Builders for hand-made containers.
enum Make {
    static func container(_ name: String, _ fill: (inout Porto_TContainer) -> Void = { _ in }) -> Porto_TContainer {
        var c = Porto_TContainer()
        c.spec.name = name
        fill(&c)
        return c
    }

    static func cgroups(_ entries: [(String, String, Bool)]) -> Porto_TContainerCgroups {
        var cgs = Porto_TContainerCgroups()
        cgs.cgroup = entries.map { controller, path, inherited in
            var cg = Porto_TContainerCgroup()
            cg.controller = controller
            cg.path = path
            if inherited { cg.inherited = true }
            return cg
        }
        return cgs
    }

    static func uintMap(_ pairs: [(String, UInt64)]) -> Porto_TUintMap {
        var m = Porto_TUintMap()
        m.map = pairs.map { k, v in
            var e = Porto_TUintMap.TUintMapEntry()
            e.key = k
            e.val = v
            return e
        }
        return m
    }

    static func net(_ opt: String, inherited: Bool = false) -> Porto_TContainerNetConfig {
        var n = Porto_TContainerNetConfig()
        var o = Porto_TContainerNetOption()
        o.opt = opt
        n.cfg = [o]
        if inherited { n.inherited = true }
        return n
    }
}

/// Renders what a ContainersCollector writes for hand-made containers.
func render(
    _ containers: [Porto_TContainer], groups: Set<CollectorGroup> = CollectorGroup.defaults,
    selection: ContainerSelection = ContainerSelection(), labels: LabelSelection = LabelSelection(),
    format: ExpositionFormat = .text, createdSamples: Bool = false
) -> String {
    let collector = ContainersCollector(groups: groups, selection: selection, labels: labels, createdSamples: createdSamples)
    let writer = ExpositionWriter(format: format)
    collector.write(containers.sorted { $0.spec.name.utf8.lexicographicallyPrecedes($1.spec.name.utf8) }, into: writer)
    return String(decoding: writer.finish(), as: UTF8.self)
}

func sampleLines(_ text: String) -> [String] {
    text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init)
}
