import ArgumentParser
import Dispatch
import Logging
import PortoExporter
import PortoWire
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The serving mode: web config, collection, HTTP server, and a graceful stop on SIGTERM/SIGINT
/// (taken by StopSignals).
struct Serve {
    var collection: CollectionOptions
    var web: WebOptions
    var logger: Logger

    func run() throws {
        let webConfig: WebConfigStore
        do {
            webConfig = try WebConfigStore(path: web.configFile, logger: logger)
        } catch {
            logger.error("cannot start: invalid web configuration", metadata: ["err": "\(error.description)"])
            throw ExitCode(1)
        }
        let selfMetrics = SelfMetrics(exporterMetrics: !web.disableExporterMetrics)
        let client = PortoClient(socketPath: collection.socket, timeout: collection.timeoutDuration, observer: { method, seconds, _ in
            selfMetrics.observe(method: method, seconds: seconds)
        })
        let porto = CollectorSet(configuration: collection.configuration, transport: client, logger: logger)
        let coordinator = ScrapeCoordinator(
            collectionTimeout: collection.timeoutDuration,
            collect: { deadline, progress in
                CollectionSnapshot(collection: porto, deadline: deadline, selfMetrics: selfMetrics, progress: progress)
            },
            timedOut: { CollectionSnapshot(timedOut: porto, selfMetrics: selfMetrics) })

        var configuration = MetricsServer.Configuration()
        configuration.listenAddresses = web.addresses
        configuration.telemetryPath = web.telemetryPath
        configuration.maxRequests = web.maxRequests
        configuration.defaultTimeout = collection.timeoutDuration
        configuration.version = BuildInfo.version

        // `/-/ready` asks portod on a connection of its own, so that it is not queued behind a
        // collection's requests, and gives up within 0.9 s: a probe's default timeout is 1 s.
        let probeClient = PortoClient(socketPath: collection.socket, timeout: .milliseconds(900))
        let portodAnswers: @Sendable () -> Bool = {
            var version = Porto_TPortoRequest()
            version.version = Porto_TVersionRequest()
            do throws(PortoError) {
                _ = try probeClient.call(version)
                return true
            } catch {
                if case .porto = error { return true }   // an error answer is an answer
                return false
            }
        }

        // What only start-up ran leaves the RSS before the first scrape sets the peak; done while
        // this is the only thread, so that no mapping changes between reading and advising it.
        let released = StartupPages.release()
        logger.debug("start-up pages released", metadata: ["mappings": "\(released)"])
        let server: MetricsServer
        do {
            server = try MetricsServer(configuration: configuration, webConfig: webConfig, coordinator: coordinator,
                                       portodAnswers: portodAnswers, logger: logger)
        } catch {
            logger.error("cannot start", metadata: ["err": "\(error)"])
            throw ExitCode(1)
        }
        logger.info("porto-exporter started", metadata: ["version": "\(BuildInfo.version)", "porto_socket": "\(collection.socket)"])
        // SIGTERM/SIGINT are blocked since main's first line (StopSignals): one that came during
        // the start-up is taken here, none is lost.
        let signalNumber = StopSignals.wait()
        logger.info("stopping: finishing the scrapes in flight", metadata: ["signal": "\(signalNumber == SIGINT ? "SIGINT" : "SIGTERM")"])
        server.shutdown(timeout: collection.timeoutDuration + .seconds(5))
        logger.info("stopped")
    }
}
