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
    @Option(name: .customLong("log.level"), help: "Only log messages with the given severity or above.")
    var level: Level = .info

    @Option(name: .customLong("log.format"), help: "Output format of log messages.")
    var format: LineLogHandler.Format = .logfmt

    /// Installs the handler for the whole process and returns the exporter's logger.
    func bootstrap() -> Logger {
        let level = self.level.swiftLog, format = self.format
        LoggingSystem.bootstrap { label in
            var handler = LineLogHandler(label: label, format: format)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "porto-exporter")
    }
}

extension LineLogHandler.Format: ExpressibleByArgument {}
