import Foundation
import Testing
@testable import PortoExporter

/// Certificates made with the openssl CLI in a temporary directory: a CA, a server certificate for
/// 127.0.0.1 signed by it, a client certificate signed by it, and a self-signed stranger.
final class TestPKI {
    let dir: TempDirectory
    init() throws {
        dir = try TempDirectory()
        try makeCA("ca", subject: "/CN=test CA")
        try makeCertificate("server", signedBy: "ca", x509Extension: "subjectAltName=IP:127.0.0.1,DNS:localhost")
        try makeCertificate("client", signedBy: "ca", x509Extension: "extendedKeyUsage=clientAuth")
        try makeCA("stranger", subject: "/CN=stranger")
    }

    /// A new P-256 key, unencrypted (`openssl req` arguments).
    static let newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    func openssl(_ arguments: [String]) throws {
        let r = try Command.run("/usr/bin/openssl", arguments)
        guard r.status == 0 else { throw HTTPTestClient.Failure(description: "openssl \(arguments.joined(separator: " ")): \(r.stderr)") }
    }

    /// A self-signed certificate `name`.crt and its key `name`.key (a CA, or a stranger).
    func makeCA(_ name: String, subject: String) throws {
        let d = dir.path
        try openssl(["req", "-x509"] + Self.newKey + ["-keyout", "\(d)/\(name).key", "-out", "\(d)/\(name).crt", "-days", "2", "-subj", subject])
    }

    /// `name`.crt and `name`.key, signed by the CA `ca` (``makeCA(_:subject:)``), with the subject
    /// CN=`name` unless told otherwise, and one X.509v3 extension if given.
    func makeCertificate(_ name: String, signedBy ca: String, subject: String? = nil, x509Extension: String? = nil) throws {
        let d = dir.path
        try openssl(["req"] + Self.newKey + ["-keyout", "\(d)/\(name).key", "-out", "\(d)/\(name).csr", "-subj", subject ?? "/CN=\(name)"])
        var sign = ["x509", "-req", "-in", "\(d)/\(name).csr", "-CA", "\(d)/\(ca).crt", "-CAkey", "\(d)/\(ca).key", "-CAcreateserial",
                    "-out", "\(d)/\(name).crt", "-days", "2"]
        if let x509Extension {
            try dir.write("\(name).ext", x509Extension + "\n")
            sign += ["-extfile", "\(d)/\(name).ext"]
        }
        try openssl(sign)
    }
    func path(_ name: String) -> String { dir.file(name) }

    /// Writes web.yml serving TLS with the server certificate and `key` (another key tests a
    /// mismatch), then `more` YAML (e.g. ``requireClientCert``); returns its path.
    func webConfig(key: String = "server.key", _ more: String = "") throws -> String {
        try dir.write("web.yml", "tls_server_config:\n  cert_file: server.crt\n  key_file: \(key)\n" + more)
    }

    /// `tls_server_config` lines asking for a client certificate signed by the test CA.
    static let requireClientCert = "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n"
}

@Suite struct HTTPTLSTests {
    func curl(_ arguments: [String]) throws -> (status: Int32, code: String, body: String) {
        let r = try Command.run("/usr/bin/curl", ["-sS", "--max-time", "20", "-w", "\n%{http_code}"] + arguments)
        let text = r.output
        let code = text.split(separator: "\n").last.map(String.init) ?? ""
        return (r.status, code, text)
    }

    @Test func servesHTTPSWithACertificateMadeInTheTest() throws {
        let pki = try TestPKI()
        let t = try TestServer(webConfigPath: try pki.webConfig())
        let url = "https://127.0.0.1:\(t.port)/metrics"
        let ok = try curl(["--cacert", pki.path("ca.crt"), url])
        #expect(ok.status == 0, "\(ok.body)")
        #expect(ok.code == "200")
        #expect(ok.body.contains("test_value"))
        // TLS 1.2 is the floor by default; TLS 1.3 works.
        #expect(try curl(["--cacert", pki.path("ca.crt"), "--tlsv1.3", url]).code == "200")
        #expect(try curl(["--cacert", pki.path("ca.crt"), "--tlsv1.2", "--tls-max", "1.2", url]).code == "200")
        #expect(try curl(["--cacert", pki.path("ca.crt"), "--tlsv1.1", "--tls-max", "1.1", url]).status != 0)
        // Plain HTTP on the TLS port gets no HTTP answer; an unknown CA is refused by the client.
        #expect(try curl(["http://127.0.0.1:\(t.port)/metrics"]).code != "200")
        #expect(try curl(["--cacert", pki.path("stranger.crt"), url]).status != 0)
    }

    @Test func minVersionTLS13RefusesTLS12() throws {
        let pki = try TestPKI()
        let t = try TestServer(webConfigPath: try pki.webConfig("  min_version: TLS13\n"))
        let url = "https://127.0.0.1:\(t.port)/metrics"
        #expect(try curl(["--cacert", pki.path("ca.crt"), url]).code == "200")
        #expect(try curl(["--cacert", pki.path("ca.crt"), "--tls-max", "1.2", url]).status != 0)
    }

    @Test func requireAndVerifyClientCert() throws {
        let pki = try TestPKI()
        let t = try TestServer(webConfigPath: try pki.webConfig(TestPKI.requireClientCert))
        let url = "https://127.0.0.1:\(t.port)/metrics"
        let base = ["--cacert", pki.path("ca.crt")]
        let good = try curl(base + ["--cert", pki.path("client.crt"), "--key", pki.path("client.key"), url])
        #expect(good.code == "200", "\(good.body)")
        let none = try curl(base + [url])
        #expect(none.code != "200")
        let stranger = try curl(base + ["--cert", pki.path("stranger.crt"), "--key", pki.path("stranger.key"), url])
        #expect(stranger.code != "200")
    }

    @Test func tlsAndBasicAuthTogether() throws {
        let pki = try TestPKI()
        let hash = try #require(BasicAuth.bcryptHash("s3cret", cost: 4))
        let t = try TestServer(webConfigPath: try pki.webConfig("basic_auth_users:\n  prom: \(hash)\n"))
        let url = "https://127.0.0.1:\(t.port)/metrics"
        #expect(try curl(["--cacert", pki.path("ca.crt"), url]).code == "401")
        #expect(try curl(["--cacert", pki.path("ca.crt"), "-u", "prom:s3cret", url]).code == "200")
    }

    @Test func aBadKeyStopsStartUp() throws {
        let pki = try TestPKI()
        // The key of another certificate: GnuTLS refuses the pair when the daemon starts.
        let config = try pki.webConfig(key: "stranger.key")
        #expect(throws: (any Error).self) { try TestServer(webConfigPath: config) }
    }
}
