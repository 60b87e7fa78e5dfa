import Testing
@testable import PortoExporter

@Suite struct LegacyValueParserTests {
    @Test func integers() {
        #expect(LegacyValueParser.uint("0") == 0)
        #expect(LegacyValueParser.uint("18446744073709551615") == UInt64.max)
        #expect(LegacyValueParser.uint("18446744073709551616") == nil)
        #expect(LegacyValueParser.uint("") == nil)
        #expect(LegacyValueParser.uint("-1") == nil)
        #expect(LegacyValueParser.uint(" 1") == nil)
        #expect(LegacyValueParser.int32("-99") == -99)
        #expect(LegacyValueParser.int32("x") == nil)
    }

    @Test func cores() {
        #expect(LegacyValueParser.cores("2c") == 2)
        #expect(LegacyValueParser.cores("2.5c") == 2.5)
        #expect(LegacyValueParser.cores("0c") == 0)
        #expect(LegacyValueParser.cores("0.123456789c") == 0.123456789)
        #expect(LegacyValueParser.cores("3") == 3)
        #expect(LegacyValueParser.cores("c") == nil)
        #expect(LegacyValueParser.cores("") == nil)
        #expect(LegacyValueParser.cores("inf") == nil)
    }

    @Test func booleans() {
        #expect(LegacyValueParser.bool("true") == true)
        #expect(LegacyValueParser.bool("false") == false)
        #expect(LegacyValueParser.bool("1") == nil)
    }

    @Test func maps() throws {
        let m = try #require(LegacyValueParser.stringMap("group default: 5; Leaf CS0: 7; A.b: x: y"))
        #expect(m.map(\.key) == ["group default", "Leaf CS0", "A.b"])
        #expect(m.map(\.value) == ["5", "7", "x: y"])
        #expect(LegacyValueParser.stringMap("")?.isEmpty == true)
        #expect(LegacyValueParser.stringMap("novalue") == nil)
        let u = try #require(LegacyValueParser.uintMap("hw: 1; sda: 18446744073709551615"))
        #expect(u.map(\.value) == [1, UInt64.max])
        #expect(LegacyValueParser.uintMap("sda: x") == nil)
    }

    @Test func cgroupsInheritedFromParentPath() {
        var response = PortoWireGetResponse.make([
            ("/", [("cgroups", "memory: /sys/fs/cgroup/memory; cpuacct: /sys/fs/cgroup/cpuacct")]),
            ("a", [("cgroups", "memory: /sys/fs/cgroup/memory/porto%a; cpuacct: /sys/fs/cgroup/cpuacct/porto%a")]),
            ("a/b", [("cgroups", "memory: /sys/fs/cgroup/memory/porto%a; cpuacct: /sys/fs/cgroup/cpuacct/porto%a/b")]),
        ])
        response.list.reverse()
        let containers = LegacyContainerReader.containers(from: response)
        let b = containers.first { $0.spec.name == "a/b" }!
        #expect(b.status.cgroups.cgroup.map(\.inherited) == [true, false])
        let a = containers.first { $0.spec.name == "a" }!
        #expect(a.status.cgroups.cgroup.map(\.inherited) == [false, false])
    }

    @Test func namesGiveParentAndLevel() {
        #expect(ContainerNames.parent(of: "/") == "")
        #expect(ContainerNames.parent(of: "a") == "/")
        #expect(ContainerNames.parent(of: "a/b/c") == "a/b")
        #expect(ContainerNames.level(of: "/") == 0)
        #expect(ContainerNames.level(of: "a") == 1)
        #expect(ContainerNames.level(of: "a/b/c") == 3)
    }
}

import PortoWire

enum PortoWireGetResponse {
    static func make(_ entries: [(String, [(String, String)])]) -> Porto_TGetResponse {
        var r = Porto_TGetResponse()
        r.list = entries.map { name, values in
            var e = Porto_TGetResponse.TContainerGetListResponse()
            e.name = name
            e.keyval = values.map { variable, value in
                var kv = Porto_TGetResponse.TContainerGetValueResponse()
                kv.variable = variable
                kv.value = value
                return kv
            }
            return e
        }
        return r
    }
}
