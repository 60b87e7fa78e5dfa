import Foundation
import Testing
@testable import PortoExporter

/// `porto_exporter_build_info{revision}` of the built binary: PORTO_EXPORTER_REVISION reaches the
/// metric (dev/run.sh, the Dockerfile and CI set it from git), and "unknown" without it.
@Suite struct BuildInfoTests {
    @Test(arguments: [("0123456789ab", "0123456789ab"), (nil, "unknown")] as [(String?, String)])
    func revisionFromTheEnvironment(value: String?, expected: String) throws {
        let dir = try TempDirectory()
        let text = try ExporterProcess.withRunning(socket: dir.file("portod.socket"), dir: dir,
                                                   environment: ["PORTO_EXPORTER_REVISION": value]) { try $0.scrape() }
        #expect(text.contains("porto_exporter_build_info{version=\"\(BuildInfo.version)\",revision=\"\(expected)\",swift_version=\"\(BuildInfo.swiftVersion)\"} 1\n"))
    }
}
