import Foundation
import Testing
import PortoWire
@testable import PortoSim

/// Get's legacy string formats (docs/porto.md §3.1), names (§2.1) and labels (§3.3).
@Suite struct SimHostFormatTests {
    @Test(arguments: [(2.0, "2c"), (2.5, "2.5c"), (0.0, "0c"), (0.123456789, "0.123456789c"), (16.0, "16c")])
    func cores(value: Double, text: String) {
        #expect(SimLegacyFormat.cores(value) == text)
    }

    @Test func coresInGet() {
        let host = Sim.host()
        #expect(Sim.value(host, "web", "cpu_limit")?.value == "2.5c")
        #expect(Sim.value(host, "/", "cpu_limit")?.value == "16c")
        #expect(Sim.value(host, "web/frontend", "cpu_limit")?.value == "0c")
        #expect(Sim.value(host, "web/frontend", "cpu_limit_total")?.value == "2.5c")
    }

    /// Splits Porto's `"k: v; k: v"` the way docs/porto.md §3.1 says clients must.
    static func parseMap(_ text: String) -> [(String, String)] {
        guard !text.isEmpty else { return [] }
        return text.components(separatedBy: "; ").map { item in
            let range = item.range(of: ": ")!
            return (String(item[..<range.lowerBound]), String(item[range.upperBound...]))
        }
    }

    @Test func mapsAreSortedAndMatchTheTypedValues() throws {
        let host = Sim.host()
        for name in ["/", "web", "db", "db/replica", "big"] {
            let lcb = try #require(Sim.lcb(host, [name], ["io_read", "io_write", "net_rx_bytes"]).first)
            for (variable, typed) in [("io_read", lcb.status.ioRead), ("io_write", lcb.status.ioWrite), ("net_rx_bytes", lcb.status.netRxBytes)] {
                let text = try #require(Sim.value(host, name, variable)?.value)
                let parsed = Self.parseMap(text)
                let keys = parsed.map(\.0)
                #expect(keys == keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }, "\(name) \(variable)")
                #expect(keys == typed.map.map(\.key))
                #expect(parsed.map { UInt64($0.1) } == typed.map.map(\.val))
            }
        }
        let ioWrite = Self.parseMap(try #require(Sim.value(host, "web", "io_write")?.value)).map(\.0)
        #expect(ioWrite.contains("hw") && ioWrite.contains("fs") && ioWrite.contains("total_writeback"))
        let ioReadOps = Self.parseMap(try #require(Sim.value(host, "web", "io_read_ops")?.value)).map(\.0)
        #expect(ioReadOps.contains("hw") && !ioReadOps.contains("fs"))
    }

    @Test func hwSumsRealDisksOnly() throws {
        let io = try #require(Sim.lcb(Sim.host(), ["/"], ["io_read"]).first).status.ioRead.dictionary
        let disks = ["nvme0n1", "sda", "sdb", "vda"].compactMap { io[$0] }.reduce(0, &+)
        #expect(io["hw"] == disks)
        #expect(io["md0"] != nil)
    }

    /// md0 is stacked on sda and sdb (docs/porto.md §3.3 Disk IO): what a container sends through
    /// it is counted again on them, and `hw` leaves md0 out.
    @Test func stackedDevicesCountTheSameBytesAgain() throws {
        let rows = Sim.lcb(Sim.host(), ["***"], ["io_read", "io_write_ops"])
        var stackedSeen = 0
        for row in rows {
            for map in [row.status.ioRead.dictionary, row.status.ioWriteOps.dictionary] {
                guard let md = map["md0"] else { continue }
                let sda = try #require(map["sda"], "\(row.spec.name): md0 without the disks under it")
                let sdb = try #require(map["sdb"])
                #expect(md <= sda &+ sdb, "\(row.spec.name)")
                let physical = map.filter { $0.key.hasPrefix("sd") || $0.key.hasPrefix("nvme") || $0.key.hasPrefix("vd") }
                #expect(map["hw"] == physical.values.reduce(0, &+), "\(row.spec.name)")
                if md > 0 { stackedSeen += 1 }
            }
        }
        #expect(stackedSeen > 5)
    }

    @Test func timesAreLocalAndRawIsUnixSeconds() throws {
        let host = Sim.host()
        for name in ["/", "web", "batch/job-oom"] {
            let rawText = try #require(Sim.value(host, name, "creation_time[raw]")?.value)
            let raw = try #require(UInt64(rawText))
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone.current
            formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
            #expect(Sim.value(host, name, "creation_time")?.value == formatter.string(from: Date(timeIntervalSince1970: Double(raw))))
            #expect(Sim.lcb(host, [name], ["creation_time"]).first?.status.creationTime == raw)
        }
        let death = try #require(Sim.lcb(host, ["batch/job-ok"], ["death_time"]).first?.status.deathTime)
        #expect(Sim.value(host, "batch/job-ok", "death_time[raw]")?.value == String(death))
        #expect(Sim.value(host, "batch/job-ok", "time[dead]")?.value == String(Sim.epoch - death))
    }

    @Test func booleansAndIntegers() {
        let host = Sim.host()
        #expect(Sim.value(host, "batch/job-oom", "oom_killed")?.value == "true")
        #expect(Sim.value(host, "batch/job-ok", "oom_killed")?.value == "false")
        #expect(Sim.value(host, "batch/job-oom", "exit_code")?.value == "-99")
        #expect(Sim.value(host, "big", "cpu_usage")?.value == "9007199254740991")
    }

    @Test func threadLimitAndIOLimitForms() {
        let host = Sim.host()
        #expect(Sim.value(host, "web", "thread_limit")?.value == "10000")
        #expect(Sim.value(host, "web/frontend", "thread_limit")?.value == "")
        #expect(Sim.value(host, "web/frontend", "thread_limit")?.hasError == false)
        #expect(Sim.value(host, "web", "io_limit")?.value == String(100 << 20))
        #expect(Sim.value(host, "db", "io_limit")?.value == "fs: \(200 << 20); sda: \(50 << 20)")
    }

    /// Get's map format has no escaping: the awkward values (quotes, backslashes, newlines, colons,
    /// non-ASCII) survive a round trip only because none holds "; ".
    @Test func awkwardLabelsRoundTripThroughGet() throws {
        let host = Sim.host()
        let typed = try #require(Sim.lcb(host, ["web"], ["labels"]).first).spec.labels.map.map { ($0.key, $0.val) }
        let text = try #require(Sim.value(host, "web", "labels")?.value)
        let parsed = Self.parseMap(text)
        #expect(parsed.map(\.0) == typed.map(\.0))
        #expect(parsed.map(\.1) == typed.map(\.1))
        let values = typed.map(\.1).joined()
        for needle in ["\"", "\\", "\n", ":", "東京"] { #expect(values.contains(needle), "\(needle)") }
        #expect(Sim.value(host, "web", "labels[DEPLOY.quote]")?.value == #"say "hi""#)
        #expect(Sim.value(host, "web", "DEPLOY.newline")?.value == "line1\nline2")
        #expect(Sim.value(host, "web", "labels[NOPE.x]")?.error == .labelNotFound)
        #expect(Sim.value(host, "web/frontend", "labels")?.value == "")
        #expect(Sim.value(host, "web/frontend", "labels", real: true)?.error == .noValue)
    }

    @Test func namesUseEveryAllowedCharacterWithinTheLimits() {
        let names = Sim.list(Sim.host())
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-@:.")
        let used = Set(names.joined().filter { $0 != "/" })
        #expect(used == allowed)
        for name in names {
            #expect(name.utf8.count <= 200)
            #expect(name.split(separator: "/").allSatisfy { $0.utf8.count <= 128 && $0 != "self" && $0 != "." })
        }
        #expect(names.contains { $0.utf8.count == 200 })
        #expect(names.contains { $0.split(separator: "/").contains { $0.utf8.count == 128 } })
    }

    @Test func unknownPropertyAndBadIndex() {
        let host = Sim.host()
        #expect(Sim.value(host, "web", "bogus")?.error == .invalidProperty)
        #expect(Sim.value(host, "web", "io_read[nope]")?.error == .invalidValue)
        #expect(Sim.value(host, "web", "io_read[hw]")?.hasError == false)
        #expect(Sim.value(host, "nope", "state")?.error == .containerDoesNotExist)
        #expect(host.respond(to: Sim.getRequest(["nope"], ["state"]))?.error == .success)
    }
}

/// Hidden properties and `real` in stopped containers.
@Suite struct SimHostHiddenTests {
    @Test func portoStatOnRoot() throws {
        let host = Sim.host()
        _ = Sim.lcb(host, ["***"], ["state"])
        let text = try #require(Sim.value(host, "/", "porto_stat")?.value)
        let stat = Dictionary(uniqueKeysWithValues: SimHostFormatTests.parseMap(text).map { ($0.0, $0.1) })
        #expect(stat["spec_requests_completed"] == "1")
        #expect(stat["porto_uptime"] == String(Sim.getSystem(host).portoUptime))
        #expect(Sim.value(host, "/", "porto_stat[spec_requests_completed]")?.value == "1")
        #expect(Sim.value(host, "batch", "porto_stat[running_children]")?.value == "1")
        var req = Porto_TPortoRequest()
        req.listProperties = Porto_TListPropertiesRequest()
        #expect(try #require(host.respond(to: req)).listProperties.list.allSatisfy { $0.name != "porto_stat" })
        let root = try #require(Sim.lcb(host, ["/"], ["porto_stat"]).first)
        #expect(!root.hasStatus)
    }

    @Test func realInStoppedContainers() {
        let host = Sim.host()
        #expect(Sim.value(host, "idle", "memory_limit")?.value == "0")
        #expect(Sim.value(host, "idle", "memory_limit", real: true)?.error == .invalidState)
        #expect(Sim.value(host, "idle", "state", real: true)?.value == "stopped")
    }
}
