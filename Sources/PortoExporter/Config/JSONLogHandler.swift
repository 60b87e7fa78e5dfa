import Foundation
import Logging

/// A swift-log handler writing one JSON object per line to standard error:
/// `{"ts":"2026-11-29T15:20:01.123Z","level":"info","msg":"listening","address":":9658"}`.
/// Keys after `ts`, `level` and `msg` are the metadata, sorted.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let sink: LogSink

    public init(label: String, sink: LogSink = .standardError) {
        self.label = label
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line = "{\"ts\":\(Self.string(LogSink.timestamp())),\"level\":\(Self.string(LogSink.levelName(event.level))),\"msg\":\(Self.string(event.message.description))"
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        for key in merged.keys.sorted() where !["ts", "level", "msg"].contains(key) {
            line += ",\(Self.string(key)):\(Self.string(merged[key]!.description))"
        }
        sink.write(line + "}\n")
    }

    /// A JSON string literal (RFC 8259 escaping).
    static func string(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
