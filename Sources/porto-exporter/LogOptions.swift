import ArgumentParser
import Logging
import PortoExporter

/// Logging flags, as in the Prometheus exporters.
struct LogOptions: ParsableArguments {
    enum Level: String, ExpressibleByArgument, CaseIterable {
        case debug, info, warn, error
        var swiftLog: Logger.Level {
            switch self {
            case .debug: .debug
            case .info: .info
            case .warn: .warning
            case .error: .error
            }
        }
    }
    enum Format: String, ExpressibleByArgument, CaseIterable { case logfmt, json }

    @Option(name: .customLong("log.level"), help: "Only log messages with the given severity or above.")
    var level: Level = .info

    @Option(name: .customLong("log.format"), help: "Output format of log messages.")
    var format: Format = .logfmt

    /// Installs the handler for the whole process and returns the exporter's logger.
    func bootstrap() -> Logger {
        let level = self.level.swiftLog
        switch format {
        case .logfmt:
            LoggingSystem.bootstrap { label in
                var handler = LogfmtLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        case .json:
            LoggingSystem.bootstrap { label in
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        }
        return Logger(label: "porto-exporter")
    }
}
