import PortoSim
import PortoWire
import Testing
@testable import PortoExporter

/// Sums over a labelled family count each byte, packet or operation once: for every family with
/// a `device`, `interface` or `group` label, the sum per container equals the total series, no
/// summary key sits beside the devices, and no family repeats another (docs/porto.md §3.3).
@Suite struct LabelSumTests {
    typealias Sample = ExpositionValidator.Sample

    /// The total family and the families that split it, from the table.
    static var partitions: [(total: ContainerMetric, parts: [ContainerMetric])] {
        let all = ContainerMetrics.all
        return all.compactMap { total in
            switch total.keys {
            case .diskTotal:
                return (total, all.filter { $0.property == total.property && $0.keys == .physicalDisks })
            case .key("Uplink"):
                return (total, all.filter { $0.property == total.property && ($0.keys == .interfaces || $0.keys == .groups) })
            default:
                return nil
            }
        }
    }

    /// Checks the sums in `samples` (text or OpenMetrics); returns how many totals were compared
    /// with a non-empty split.
    @discardableResult
    static func checkSums(_ samples: [Sample]) -> Int {
        var byFamily: [String: [Sample]] = [:]
        for s in samples where !s.name.hasSuffix("_created") { byFamily[s.name, default: []].append(s) }
        var compared = 0
        #expect(!partitions.isEmpty)
        for (total, parts) in partitions {
            #expect(!parts.isEmpty, "\(total.family.name) has no split")
            var totals: [String: Double] = [:]
            for s in byFamily[total.family.name] ?? [] {
                #expect(s.labels.map(\.name) == ["name"], "\(s)")
                totals[s.labels[0].value] = Double(s.value)
            }
            for part in parts {
                var sums: [String: Double] = [:]
                for s in byFamily[part.family.name] ?? [] {
                    sums[s.labels[0].value, default: 0] += Double(s.value) ?? .nan
                }
                for (name, sum) in sums {
                    let t = try? #require(totals[name], "\(part.family.name){name=\"\(name)\"} without \(total.family.name)")
                    guard let t else { continue }
                    #expect(abs(sum - t) <= max(1, t * 1e-12), "\(part.family.name) sums to \(sum) for \(name), \(total.family.name) is \(t)")
                    compared += 1
                }
            }
        }
        return compared
    }

    /// No summary key in a device label, and no family that repeats another series for series.
    static func checkNoSummariesOrDuplicates(_ samples: [Sample]) {
        let summaries: Set<String> = ["hw", "fs", "total_writeback", "Uplink", "SockDiag", "Latency"]
        var values: [String: [String]] = [:]
        for s in samples where s.name.hasPrefix("porto_container_") && !s.name.hasSuffix("_created") {
            for l in s.labels where l.name == "device" || l.name == "interface" || l.name == "group" {
                #expect(!summaries.contains(l.value) && !l.value.hasPrefix("group "), "\(s)")
            }
            values[s.name, default: []].append(s.labels.map(\.value).joined(separator: "\u{0}") + "=" + s.value)
        }
        var seen: [[String]: String] = [:]
        for (family, series) in values.sorted(by: { $0.key < $1.key }) where series.contains(where: { !$0.hasSuffix("=0") }) {
            if let other = seen[series] {
                Issue.record("\(family) repeats \(other)")
            }
            seen[series] = family
        }
        for name in ["porto_container_net_bytes_total", "porto_container_net_packets_total", "porto_container_net_drops_total",
                     "porto_container_net_overlimits_total"] {
            #expect(!values.keys.contains(name), "\(name) only repeats net_tx_* without tc classes")
        }
    }

    @Test(arguments: [ExpositionFormat.text, .openMetrics])
    func sumsOverEveryLabelEqualTheTotal(format: ExpositionFormat) throws {
        let (text, report) = SimGoldenTests.scrape(SimTransport(SimGoldenTests.host(containers: 200)), format: format)
        #expect(report.success)
        let samples = ExpositionValidator.check(text, format: format).samples
        #expect(Self.checkSums(samples) > 50)
        Self.checkNoSummariesOrDuplicates(samples)
        // Stacked devices are the same bytes again: never more than the disks of that container.
        var disks: [String: Double] = [:]
        for s in samples where s.name == "porto_container_io_disk_read_bytes_total" { disks[s.labels[0].value, default: 0] += Double(s.value)! }
        var stacked = 0
        for s in samples where s.name == "porto_container_io_stacked_device_read_bytes_total" {
            #expect(Double(s.value)! <= disks[s.labels[0].value] ?? 0, "\(s)")
            stacked += 1
        }
        #expect(stacked > 0)
    }

    /// A portod without `hw` (the exporter then sums the physical disks itself).
    @Test func totalWithoutHwIsTheSumOfThePhysicalDisks() throws {
        var container = Porto_TContainer()
        container.spec.name = "a"
        var map = Porto_TUintMap()
        for (key, value) in [("dm-0", 70), ("fs", 5), ("nvme0n1", 30), ("sda", 100), ("sda", 100), ("total_writeback", 9)] as [(String, UInt64)] {
            var e = Porto_TUintMap.TUintMapEntry()
            e.key = key
            e.val = value
            map.map.append(e)
        }
        container.status.ioWrite = map
        let collector = ContainersCollector(groups: [.io], selection: ContainerSelection(), labels: LabelSelection())
        let writer = ExpositionWriter(format: .text)
        collector.write([container], into: writer)
        let text = String(decoding: writer.finish(), as: UTF8.self)
        #expect(text.contains("porto_container_io_write_bytes_total{name=\"a\"} 130\n"))
        #expect(text.contains("porto_container_io_disk_write_bytes_total{name=\"a\",device=\"sda\"} 100\n"))
        #expect(text.contains("porto_container_io_stacked_device_write_bytes_total{name=\"a\",device=\"dm-0\"} 70\n"))
        #expect(text.contains("porto_container_io_fs_write_bytes_total{name=\"a\"} 5\n"))
        #expect(text.contains("porto_container_io_writeback_bytes{name=\"a\"} 9\n"))
        Self.checkSums(ExpositionValidator.check(text, format: .text).samples)
    }

    /// The same over HTTP against porto-sim's server.
    @Test func sumsHoldOverHTTP() throws {
        let e = try SimExporter(containers: 60)
        let r = try e.client().request("GET", "/metrics")
        #expect(r.status == 200)
        let samples = ExpositionValidator.check(r.text, format: .text).samples
        #expect(Self.checkSums(samples) > 20)
        Self.checkNoSummariesOrDuplicates(samples)
    }
}
