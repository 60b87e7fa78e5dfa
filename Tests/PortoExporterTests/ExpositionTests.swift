import Testing
@testable import PortoExporter

@Suite struct ExpositionTests {
    static let up = MetricFamily(name: "porto_up", help: "Whether portod answered: 1 if it did, 0 if not.", type: .gauge)
    static let cpu = MetricFamily(
        name: "test_cpu_seconds_total", help: "CPU time, in seconds.\nSecond line with \\ and \"quotes\".",
        type: .counter, labelNames: ["name", "device"], extraLabel: "device")
    static let latency = MetricFamily(
        name: "test_request_duration_seconds", help: "Latency, in seconds.", type: .histogram, labelNames: ["method"])

    func render(_ format: ExpositionFormat, _ body: (ExpositionWriter) -> Void) -> String {
        let writer = ExpositionWriter(format: format)
        body(writer)
        return String(decoding: writer.finish(), as: UTF8.self)
    }

    @Test func textFormatFamiliesSortedWithHeadersOnce() {
        let text = render(.text) { w in
            w.gauge(Self.up, value: .uint(1))
            w.counter(Self.cpu, labels: Labels(["name": "a"]), extra: "sda", value: .seconds(nanoseconds: 1_500_000_000), created: 1000)
            w.counter(Self.cpu, labels: Labels(["name": "b"]), extra: "sdb", value: .uint(2))
        }
        #expect(text == """
            # HELP porto_up Whether portod answered: 1 if it did, 0 if not.
            # TYPE porto_up gauge
            porto_up 1
            # HELP test_cpu_seconds_total CPU time, in seconds.\\nSecond line with \\\\ and "quotes".
            # TYPE test_cpu_seconds_total counter
            test_cpu_seconds_total{name="a",device="sda"} 1.5
            test_cpu_seconds_total{name="b",device="sdb"} 2

            """)
    }

    @Test func openMetricsCountersCreatedAndEOF() {
        let text = render(.openMetrics) { w in
            w.counter(Self.cpu, labels: Labels(["name": "a"]), extra: "sda", value: .uint(3), created: 1700000000)
            w.counter(Self.cpu, labels: Labels(["name": "b"]), extra: "sdb", value: .uint(4), created: nil)
            w.gauge(Self.up, value: .uint(0))
        }
        #expect(text == """
            # HELP porto_up Whether portod answered: 1 if it did, 0 if not.
            # TYPE porto_up gauge
            porto_up 0
            # HELP test_cpu_seconds CPU time, in seconds.\\nSecond line with \\\\ and \\"quotes\\".
            # TYPE test_cpu_seconds counter
            test_cpu_seconds_total{name="a",device="sda"} 3
            test_cpu_seconds_created{name="a",device="sda"} 1700000000
            test_cpu_seconds_total{name="b",device="sdb"} 4
            # EOF

            """)
    }

    @Test func histogramWithAndWithoutSum() {
        var h = Histogram(upperBounds: [0.1, 1])
        h.observe(0.05)
        h.observe(0.5)
        h.observe(7)
        let derived = Histogram(upperBounds: [1, 3], cumulativeCounts: [10, 12], count: 13, sum: nil)
        let text = render(.text) { w in
            w.histogram(Self.latency, labels: Labels(["method": "Get"]), h)
            w.histogram(Self.latency, labels: Labels(["method": "List"]), derived)
        }
        #expect(text == """
            # HELP test_request_duration_seconds Latency, in seconds.
            # TYPE test_request_duration_seconds histogram
            test_request_duration_seconds_bucket{method="Get",le="0.1"} 1
            test_request_duration_seconds_bucket{method="Get",le="1"} 2
            test_request_duration_seconds_bucket{method="Get",le="+Inf"} 3
            test_request_duration_seconds_sum{method="Get"} 7.55
            test_request_duration_seconds_count{method="Get"} 3
            test_request_duration_seconds_bucket{method="List",le="1"} 10
            test_request_duration_seconds_bucket{method="List",le="3"} 12
            test_request_duration_seconds_bucket{method="List",le="+Inf"} 13

            """)
    }

    static let awkward: [(String, String)] = [
        ("plain", "plain"),
        ("back\\slash", "back\\\\slash"),
        ("quo\"te", "quo\\\"te"),
        ("new\nline", "new\\nline"),
        ("all \\\"\n end\\", "all \\\\\\\"\\n end\\\\"),
        ("", ""),
        ("unicode é ✓ {}=,", "unicode é ✓ {}=,"),
        ("\\n literal", "\\\\n literal"),
        ("tab\there", "tab\there"),
    ]

    @Test(arguments: awkward)
    func labelValuesEscapedExactly(raw: String, escaped: String) {
        let family = MetricFamily(name: "t", help: "h", type: .gauge, labelNames: ["name", "key"], extraLabel: "key")
        for format in ExpositionFormat.allCases {
            let text = render(format) { w in w.gauge(family, labels: Labels(["name": raw]), extra: raw, value: .uint(1)) }
            #expect(text.contains("t{name=\"\(escaped)\",key=\"\(escaped)\"} 1\n"))
            let checked = ExpositionValidator.check(text, format: format)
            #expect(checked.problems.isEmpty)
            #expect(checked.samples.first?.labels.map(\.value) == [raw, raw])
        }
    }

    @Test(arguments: [
        (SampleValue.uint(0), "0"),
        (.uint(9_007_199_254_740_991), "9007199254740991"),   // 2^53 - 1
        (.uint(9_007_199_254_740_993), "9007199254740993"),   // 2^53 + 1: not representable as Double
        (.uint(UInt64.max), "18446744073709551615"),
        (.int(-99), "-99"),
        (.int(Int64.min), "-9223372036854775808"),
        (.seconds(nanoseconds: 0), "0"),
        (.seconds(nanoseconds: 1), "0.000000001"),
        (.seconds(nanoseconds: 1_000_000_000), "1"),
        (.seconds(nanoseconds: 9_007_199_254_740_993), "9007199.254740993"),
        (.seconds(nanoseconds: UInt64.max), "18446744073.709551615"),
        (.seconds(microseconds: 1_250_000), "1.25"),
        (.seconds(microseconds: UInt64.max), "18446744073709.551615"),
        (.scaled(1_005, decimals: 3), "1.005"),
        (.scaled(10_010, decimals: 4), "1.001"),
        (.double(-2.2250738585072014e-308), "-2.2250738585072014e-308"),
        (.double(-1e18), "-1000000000000000000"),
        (.double(2.5), "2.5"),
        (.double(0), "0"),
        (.double(-0.0), "0"),
        (.double(0.001), "0.001"),
        (.double(1e-7), "1e-07"),
        (.double(Double.infinity), "+Inf"),
        (.double(-Double.infinity), "-Inf"),
        (.double(Double.nan), "NaN"),
        (.double(1e300), "1e+300"),
        (.double(9_007_199_254_740_992), "9007199254740992"),
    ])
    func numbersWrittenExactly(value: SampleValue, expected: String) {
        var out: [UInt8] = []
        NumberWriter.write(value, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == expected)
        // Rendering writes them in place.
        let w = ExpositionWriter(format: .text)
        w.gauge(Self.up, value: value)
        #expect(String(decoding: w.finish(), as: UTF8.self).hasSuffix("\nporto_up \(expected)\n"))
    }

    /// The in-place writer (what rendering uses) at every digit count's edges: powers of ten and
    /// of two, each side.
    @Test func integersWrittenInPlaceAtEveryDigitCount() {
        var values: [UInt64] = [0, UInt64.max]
        var power: UInt64 = 1
        for _ in 0..<20 {
            values += [power - 1, power, power + 1]
            power = power.multipliedReportingOverflow(by: 10).partialValue
        }
        for bit in 0..<64 { values += [(1 << bit) - 1, 1 << bit, (1 << bit) + 1] }
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: NumberWriter.maxLength)
        defer { p.deallocate() }
        for v in values {
            let n = NumberWriter.write(v, at: p)
            #expect(String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self) == String(v))
        }
    }

    @Test func resetKeepsFamiliesAndDropsSamples() {
        let w = ExpositionWriter(format: .text)
        w.gauge(Self.up, value: .uint(1))
        w.reset(format: .openMetrics)
        #expect(String(decoding: w.finish(), as: UTF8.self) == "# EOF\n")
        w.gauge(Self.up, value: .uint(0))
        #expect(String(decoding: w.finish(), as: UTF8.self).hasSuffix("porto_up 0\n# EOF\n"))
        #expect(w.byteCount == w.finish().count)
    }

    /// A writer that reserved another's capacity renders what a fresh one renders: families it
    /// reserved but got no sample of are not rendered.
    @Test(arguments: ExpositionFormat.allCases)
    func aWriterWithReservedCapacityRendersAsAFreshOne(format: ExpositionFormat) {
        let previous = Self.mixedWriter(containers: 50)
        let reserved = ExpositionWriter(format: .text)
        reserved.reserveCapacity(previous.capacity)
        #expect(reserved.finish(format) == ExpositionWriter(format: .text).finish(format))
        reserved.gauge(Self.up, value: .uint(1))
        let fresh = ExpositionWriter(format: .text)
        fresh.gauge(Self.up, value: .uint(1))
        #expect(reserved.finish(format) == fresh.finish(format))
        let again = ExpositionWriter(format: .text)
        again.reserveCapacity(previous.capacity)
        let filled = Self.mixedWriter(containers: 80)
        _ = Self.mixedWriter(containers: 80, into: again)
        #expect(again.finish(format) == filled.finish(format))
        #expect(again.byteCount(format) == filled.byteCount(format))
    }

    /// A writer with every kind of sample: counters with and without `_created`, extra labels
    /// that need escaping, an empty extra value, label sets shared by many samples, a histogram.
    static func mixedWriter(containers: Int, into w: ExpositionWriter = ExpositionWriter(format: .text)) -> ExpositionWriter {
        var h = Histogram(upperBounds: [0.1, 1])
        h.observe(0.5)
        w.histogram(latency, labels: Labels(["method": "Get"]), h)
        w.gauge(up, value: .int(-5))
        for c in 0..<containers {
            let labels = Labels(["name": "c\(c)\"\\\n"])
            w.counter(cpu, labels: labels, extra: "sd\(c % 3)", value: .seconds(nanoseconds: UInt64(c) * 1_000_000_007), created: c % 2 == 0 ? 1_700_000_000 : nil)
            w.counter(cpu, labels: labels, extra: "", value: .double(Double(c) / 3))
            w.counter(cpu, labels: Labels(["name": "x\(c)"]), extra: "a\"b", value: .uint(UInt64.max - UInt64(c)))
        }
        return w
    }

    /// Lines of any length, short and long runs between the lines rendered apart (doubles,
    /// `_created`): each line as written.
    @Test(arguments: ExpositionFormat.allCases)
    func longAndShortLinesInAnyMix(format: ExpositionFormat) {
        let w = ExpositionWriter(format: format)
        var expected = format == .openMetrics
            ? "# HELP test_cpu_seconds CPU time, in seconds.\\nSecond line with \\\\ and \\\"quotes\\\".\n# TYPE test_cpu_seconds counter\n"
            : "# HELP test_cpu_seconds_total CPU time, in seconds.\\nSecond line with \\\\ and \"quotes\".\n# TYPE test_cpu_seconds_total counter\n"
        for i in 0..<300 {
            let name = String(repeating: "n", count: (i * 997) % 6000)
            let device = "d\(i)"
            let value: SampleValue = i % 7 == 0 ? .double(0.5) : .uint(UInt64(i))
            let created: UInt64? = i % 5 == 0 ? UInt64(1_700_000_000 + i) : nil
            w.counter(Self.cpu, labels: Labels(["name": name]), extra: device, value: value, created: created)
            expected += "test_cpu_seconds_total{name=\"\(name)\",device=\"\(device)\"} \(i % 7 == 0 ? "0.5" : String(i))\n"
            if format == .openMetrics, let created {
                expected += "test_cpu_seconds_created{name=\"\(name)\",device=\"\(device)\"} \(created)\n"
            }
        }
        if format == .openMetrics { expected += "# EOF\n" }
        #expect(String(decoding: w.finish(), as: UTF8.self) == expected)
    }

    @Test(arguments: ExpositionFormat.allCases)
    func streamedChunksOfAnySizeEqualTheWholeRendering(format: ExpositionFormat) {
        let w = Self.mixedWriter(containers: 300)
        let whole = w.finish(format)
        #expect(ExpositionValidator.check(String(decoding: whole, as: UTF8.self), format: format).problems.isEmpty)
        #expect(w.byteCount(format) == whole.count)
        let text = String(decoding: whole, as: UTF8.self)
        #expect(text.contains("\nporto_up -5\n"))
        #expect(text.contains("\ntest_cpu_seconds_total{name=\"c1\\\"\\\\\\n\",device=\"sd1\"} 1.000000007\n"))
        #expect(text.contains("\ntest_cpu_seconds_total{name=\"c2\\\"\\\\\\n\",device=\"\"} 0.6666666666666666\n"))
        #expect(text.contains("\ntest_cpu_seconds_total{name=\"x0\",device=\"a\\\"b\"} 18446744073709551615\n"))
        #expect(text.contains("test_cpu_seconds_created{name=\"c2\\\"\\\\\\n\",device=\"sd2\"} 1700000000\n") == (format == .openMetrics))
        #expect(!text.contains("test_cpu_seconds_created{name=\"c1\\\""), "no _created without a created time")
        for size in [1, 7, 100, 4096, 1 << 20] {
            let stream = ExpositionStream(format: format, writers: [w], chunkSize: size)
            var out: [UInt8] = []
            var chunks = 0
            while let chunk = stream.next() { out.append(contentsOf: chunk); chunks += 1; #expect(chunk.last == UInt8(ascii: "\n")) }
            #expect(out == whole, "chunk size \(size)")
            #expect(stream.next() == nil, "an ended stream stays ended")
            if size == 1 { #expect(chunks > 10, "a chunk holds a few dozen lines at most") }
        }
    }

    @Test func labelSetsAreStoredOncePerObjectNotPerSample() {
        let w = ExpositionWriter(format: .text)
        let labels = Labels(["name": "a-container-with-a-long-name/and/a/child"])
        for i in 0..<1000 { w.counter(Self.cpu, labels: labels, extra: "sda", value: .uint(UInt64(i))) }
        #expect(w.labelSetCount == 1)
        #expect(w.storedSize.records == 1000)
        // The label bytes are held once: the store is far smaller than the text it renders.
        #expect(w.storedSize.bytes < w.byteCount(.text) / 2)
        w.counter(Self.cpu, labels: Labels(["name": "b"]), extra: "sda", value: .uint(1))
        w.counter(Self.cpu, labels: labels, extra: "sda", value: .uint(1))
        #expect(w.labelSetCount == 3, "a label set is shared with the previous sample only")
        w.reset(format: .text)
        #expect(w.labelSetCount == 0)
        #expect(w.storedSize.records == 0)
    }

    @Test func familiesAddedInAnyOrderComeOutSorted() {
        // Counters sort by their OpenMetrics name (without _total): "a_total" < "a_b" in text,
        // "a" < "a_b" in OpenMetrics.
        var families = (0..<60).map { MetricFamily(name: "sorted_family_\(($0 * 37) % 60)_x", help: "h.", type: .gauge) }
        families.append(MetricFamily(name: "sorted_family_a_total", help: "h.", type: .counter))
        families.append(MetricFamily(name: "sorted_family_a_b", help: "h.", type: .gauge))
        let w = ExpositionWriter(format: .text)
        for family in families.reversed() {
            if family.type == .counter { w.counter(family, value: .uint(1)) } else { w.gauge(family, value: .uint(1)) }
        }
        let text = w.familyNames
        #expect(text == families.map(\.name).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        w.reset(format: .openMetrics)
        for family in families {
            if family.type == .counter { w.counter(family, value: .uint(1)) } else { w.gauge(family, value: .uint(1)) }
        }
        #expect(w.familyNames == families.sorted { $0.openMetricsName.utf8.lexicographicallyPrecedes($1.openMetricsName.utf8) }.map(\.name))
        #expect(text.firstIndex(of: "sorted_family_a_b")! < text.firstIndex(of: "sorted_family_a_total")!)
        #expect(w.familyNames.firstIndex(of: "sorted_family_a_total")! < w.familyNames.firstIndex(of: "sorted_family_a_b")!)
    }

    @Test func mergedWritersShareFamilyHeaders() {
        let a = ExpositionWriter(format: .openMetrics)
        let b = ExpositionWriter(format: .openMetrics)
        a.counter(Self.cpu, labels: Labels(["name": "a"]), extra: "sda", value: .uint(1), created: 5)
        b.counter(Self.cpu, labels: Labels(["name": "b"]), extra: "sdb", value: .uint(2))
        b.gauge(Self.up, value: .uint(1))
        var out: [UInt8] = []
        ExpositionWriter.write(.openMetrics, merging: [a, b]) { out.append(contentsOf: $0) }
        #expect(String(decoding: out, as: UTF8.self) == """
            # HELP porto_up Whether portod answered: 1 if it did, 0 if not.
            # TYPE porto_up gauge
            porto_up 1
            # HELP test_cpu_seconds CPU time, in seconds.\\nSecond line with \\\\ and \\"quotes\\".
            # TYPE test_cpu_seconds counter
            test_cpu_seconds_total{name="a",device="sda"} 1
            test_cpu_seconds_created{name="a",device="sda"} 5
            test_cpu_seconds_total{name="b",device="sdb"} 2
            # EOF

            """)
    }

    @Test func validatorFindsDuplicatesAndDisorder() {
        let duplicated = "# HELP a x\n# TYPE a gauge\na{n=\"1\"} 1\na{n=\"1\"} 2\n"
        #expect(ExpositionValidator.check(duplicated, format: .text).problems == ["duplicate series a{n=\"1\"} 2"])
        let unsorted = "# HELP b x\n# TYPE b gauge\nb 1\n# HELP a x\n# TYPE a gauge\na 1\n"
        #expect(ExpositionValidator.check(unsorted, format: .text).problems == ["family a is not sorted after b"])
        let timestamp = "# HELP a x\n# TYPE a gauge\na 1 1700000000\n"
        #expect(!ExpositionValidator.check(timestamp, format: .text).problems.isEmpty)
        #expect(ExpositionValidator.check("", format: .openMetrics).problems.contains("missing # EOF"))
    }

    @Test func contentTypes() {
        #expect(ExpositionFormat.text.contentType == "text/plain; version=0.0.4; charset=utf-8")
        #expect(ExpositionFormat.openMetrics.contentType == "application/openmetrics-text; version=1.0.0; charset=utf-8")
    }
}
