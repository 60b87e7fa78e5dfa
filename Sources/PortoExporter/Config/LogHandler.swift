import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The exporter's swift-log handler: one line per message to standard error, in either format
/// the Prometheus exporters offer (`--log.format`):
/// - logfmt, as go-kit log writes it: `ts=2026-11-29T15:20:01.123Z level=info msg="listening" address=:9658`;
/// - JSON, one object a line: `{"ts":"2026-11-29T15:20:01.123Z","level":"info","msg":"listening","address":":9658"}`.
/// After `ts`, `level` and `msg` come the metadata (the logger's, then the message's, which wins),
/// sorted by key.
public struct LineLogHandler: LogHandler {
    public enum Format: String, Sendable, CaseIterable { case logfmt, json }

    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public let format: Format
    private let label: String
    private let sink: LogSink

    public init(label: String, format: Format, sink: LogSink = .standardError) {
        self.label = label
        self.format = format
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let fields = merged.keys.sorted().map { ($0, merged[$0]!.description) }
        let ts = LogSink.timestamp(), level = LogSink.levelName(event.level), msg = event.message.description
        switch format {
        case .logfmt:
            var line = "ts=\(ts) level=\(level) msg=\(Logfmt.quote(msg))"
            for (key, value) in fields { line += " \(Logfmt.key(key))=\(Logfmt.quote(value))" }
            sink.write(line + "\n")
        case .json:
            var line = "{\"ts\":\(JSON.string(ts)),\"level\":\(JSON.string(level)),\"msg\":\(JSON.string(msg))"
            for (key, value) in fields where !["ts", "level", "msg"].contains(key) {
                line += ",\(JSON.string(key)):\(JSON.string(value))"
            }
            sink.write(line + "}\n")
        }
    }

    enum Logfmt {
        /// A key with anything but `[A-Za-z0-9_.-]` replaced by `_`.
        static func key(_ key: String) -> String {
            String(key.unicodeScalars.map { scalar -> Character in
                scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "_.-".unicodeScalars.contains(scalar) ? Character(scalar) : "_"
            })
        }

        /// A value, quoted (with `\"`, `\\` and `\n` escaped) when it is empty or has a space, `=`,
        /// a quote, a backslash or a control character.
        static func quote(_ value: String) -> String {
            let needsQuotes = value.isEmpty || value.unicodeScalars.contains { $0 == " " || $0 == "=" || $0 == "\"" || $0.value < 0x20 || $0 == "\\" }
            return needsQuotes ? LineLogHandler.escaped(value, carriageReturn: false) : value
        }
    }

    enum JSON {
        /// A JSON string literal (RFC 8259 escaping).
        static func string(_ value: String) -> String { LineLogHandler.escaped(value, carriageReturn: true) }
    }

    /// `value` in double quotes with `"`, `\\`, `\n`, `\t` (and `\r` when asked) escaped by a backslash
    /// and other control characters as `\u00XX`.
    private static func escaped(_ value: String, carriageReturn: Bool) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r" where carriageReturn: out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += "\\u00" + zeroPadded(Int(scalar.value), 2, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// Where the log handlers write: standard error, or a closure (tests). Writes are whole lines
/// under a lock, so lines from several threads never interleave.
public final class LogSink: Sendable {
    private let writing = Mutex(())
    private let writeLine: @Sendable (String) -> Void

    public init(_ writeLine: @escaping @Sendable (String) -> Void) { self.writeLine = writeLine }

    public static let standardError = LogSink { line in
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if n <= 0 { break }
                offset += n
            }
        }
    }

    func write(_ line: String) { writing.withLock { _ in writeLine(line) } }

    /// RFC 3339 UTC with milliseconds.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return zeroPadded(Int(parts.tm_year) + 1900, 4) + "-" + zeroPadded(Int(parts.tm_mon) + 1, 2) + "-" + zeroPadded(Int(parts.tm_mday), 2)
            + "T" + zeroPadded(Int(parts.tm_hour), 2) + ":" + zeroPadded(Int(parts.tm_min), 2) + ":" + zeroPadded(Int(parts.tm_sec), 2)
            + "." + zeroPadded(now.tv_nsec / 1_000_000, 3) + "Z"
    }

    /// Prometheus' level names: debug, info, warn, error.
    static func levelName(_ level: Logger.Level) -> String {
        switch level {
        case .trace, .debug: "debug"
        case .info, .notice: "info"
        case .warning: "warn"
        case .error, .critical: "error"
        }
    }
}

/// `value` (not negative) in `radix` with leading zeros to at least `width` digits, as
/// `String(format: "%0*d")` writes it without Foundation.
func zeroPadded(_ value: Int, _ width: Int, radix: Int = 10) -> String {
    let digits = String(value, radix: radix)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
}
