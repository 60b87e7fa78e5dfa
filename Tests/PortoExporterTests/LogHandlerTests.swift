import Foundation
import Logging
import Testing
@testable import PortoExporter

/// LineLogHandler's two formats: what each escapes, and how metadata merges and sorts.
@Suite struct LogHandlerTests {
    func lines(_ format: LineLogHandler.Format, _ body: (inout Logger) -> Void) -> [String] {
        let lines = LineCollector()
        var logger = Logger(label: "t") { _ in LineLogHandler(label: "t", format: format, sink: LogSink { lines.append($0) }) }
        body(&logger)
        return lines.all
    }

    @Test func messageMetadataWinsOverTheLoggersAndKeysAreSorted() {
        let logfmt = lines(.logfmt) { logger in
            logger[metadataKey: "b"] = "logger"
            logger[metadataKey: "a"] = "logger"
            logger.info("m", metadata: ["b": "message"])
        }
        #expect(logfmt.count == 1)
        #expect(logfmt[0].hasSuffix(" level=info msg=m a=logger b=message\n"))
        let json = lines(.json) { logger in
            logger[metadataKey: "b"] = "logger"
            logger.warning("m", metadata: ["b": "message", "a": "x"])
        }
        #expect(json.count == 1)
        #expect(json[0].hasSuffix(",\"level\":\"warn\",\"msg\":\"m\",\"a\":\"x\",\"b\":\"message\"}\n"))
    }

    @Test func logfmtKeysAndValues() {
        let out = lines(.logfmt) { $0.error("", metadata: ["a key=x": "tab\there", "cr": "a\rb", "plain": "v-1.2"]) }
        #expect(out.count == 1)
        #expect(out[0].hasSuffix(" level=error msg=\"\" a_key_x=\"tab\\there\" cr=\"a\\u000db\" plain=v-1.2\n"))
    }

    @Test func jsonLeavesOutMetadataNamedLikeItsOwnKeys() throws {
        let out = lines(.json) { $0.info("m\r\u{1}", metadata: ["msg": "shadow", "ts": "0", "level": "x", "k\"": "v"]) }
        #expect(out.count == 1)
        #expect(out[0].hasSuffix(",\"level\":\"info\",\"msg\":\"m\\r\\u0001\",\"k\\\"\":\"v\"}\n"))
        let object = try JSONSerialization.jsonObject(with: Data(out[0].utf8)) as? [String: String]
        #expect(object?["msg"] == "m\r\u{1}")
        #expect(object?.count == 4)
    }
}
