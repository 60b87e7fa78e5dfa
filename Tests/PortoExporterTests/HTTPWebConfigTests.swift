import Foundation
import Logging
import Testing
@testable import PortoExporter

func basicAuthorization(_ user: String, _ password: String) -> String {
    "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
}

@Suite struct HTTPWebConfigTests {
    // A bcrypt hash made once per test run with a generated salt (cost 4: the fastest).
    static let alicePassword = "wonder land"
    static let aliceHash = BasicAuth.bcryptHash(alicePassword, cost: 4)!
    static let bobHash = BasicAuth.bcryptHash("builder:with:colons", cost: 4)!

    @Test func bcryptHashesAreMadeAndChecked() throws {
        #expect(Self.aliceHash.hasPrefix("$2b$04$"))
        #expect(BasicAuth.isBcryptHash(Self.aliceHash))
        #expect(BasicAuth.crypt(Self.alicePassword, setting: Self.aliceHash) == Self.aliceHash)
        #expect(BasicAuth.crypt("wrong", setting: Self.aliceHash) != Self.aliceHash)
        // htpasswd -B writes $2y$ (the same algorithm as $2b$).
        let htpasswd = "$2y$" + Self.aliceHash.dropFirst(4)
        #expect(BasicAuth.isBcryptHash(htpasswd))
        #expect(BasicAuth.crypt(Self.alicePassword, setting: htpasswd) == htpasswd)
        #expect(BasicAuth.isBcryptHash("plain-text-password") == false)
        #expect(BasicAuth.isBcryptHash("$1$abc$defghijklmnopqrstuvwxyz") == false)
        #expect(BasicAuth.constantTimeEqual(Array("abc".utf8), Array("abc".utf8)))
        #expect(!BasicAuth.constantTimeEqual(Array("abc".utf8), Array("abd".utf8)))
        #expect(!BasicAuth.constantTimeEqual(Array("abc".utf8), Array("abcd".utf8)))
    }

    @Test func parsesAFullConfigAndResolvesRelativePaths() throws {
        let dir = try TempDirectory()
        try dir.write("tls.crt", "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n")
        try dir.write("tls.key", "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n")
        try dir.write("ca.crt", "-----BEGIN CERTIFICATE-----\ny\n-----END CERTIFICATE-----\n")
        let path = try dir.write("web.yml", """
            tls_server_config:
              cert_file: tls.crt
              key_file: \(dir.file("tls.key"))
              client_auth_type: RequireAndVerifyClientCert
              client_ca_file: ca.crt
              min_version: TLS13
            basic_auth_users:
              alice: \(Self.aliceHash)
              bob: '\(Self.bobHash)'
            """)
        let config = try WebConfig.load(path: path)
        let tls = try #require(config.tls)
        #expect(tls.clientAuth == .requireAndVerifyClientCert)
        #expect(tls.minVersion == .tls13)
        #expect(tls.gnutlsPriorities == "NORMAL:-VERS-ALL:+VERS-TLS1.3")
        #expect(tls.clientCAPEM?.contains("y") == true)
        #expect(config.basicAuthUsers == ["alice": Self.aliceHash, "bob": Self.bobHash])
        #expect(WebConfig.TLSConfig(certFile: "", keyFile: "", certificatePEM: "", keyPEM: "").gnutlsPriorities
                == "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2")
        #expect(try WebConfig.parse("", file: "empty.yml", baseDirectory: "/") == WebConfig())
        #expect(try WebConfig.parse("basic_auth_users:\n", file: "x.yml", baseDirectory: "/") == WebConfig())
    }

    @Test(arguments: [
        ("basic_auth_user:\n  a: b\n", "unknown key \"basic_auth_user\""),
        ("basic_auth_users:\n  alice: secret\n", "user \"alice\" must be a bcrypt hash"),
        ("basic_auth_users: [a, b]\n", "basic_auth_users must be a mapping"),
        ("tls_server_config:\n  cert_file: /nonexistent/tls.crt\n  key_file: /nonexistent/tls.key\n", "cert_file /nonexistent/tls.crt cannot be read"),
        ("tls_server_config:\n  key_file: k\n", "needs cert_file"),
        ("tls_server_config:\n  cert_file: c\n  key_file: k\n  client_auth_type: Sometimes\n", "client_auth_type \"Sometimes\" is not one of"),
        ("tls_server_config:\n  cert_file: c\n  key_file: k\n  client_auth_type: RequireAndVerifyClientCert\n", "needs client_ca_file"),
        ("tls_server_config:\n  cert_file: c\n  key_file: k\n  min_version: TLS14\n", "min_version \"TLS14\""),
        ("tls_server_config:\n  cert_file: c\n  key_file: k\n  cipher_suites: [TLS_AES_128_GCM_SHA256]\n", "cipher_suites is not supported"),
        ("tls_server_config: [\n", "not valid YAML"),
        ("- just\n- a list\n", "top level must be a mapping"),
    ])
    func rejectsBrokenConfigsNamingFileAndProblem(yaml: String, problem: String) throws {
        let dir = try TempDirectory()
        let path = try dir.write("web.yml", yaml)
        #expect {
            try WebConfig.load(path: path)
        } throws: { error in
            let description = (error as? WebConfig.LoadError)?.description ?? ""
            return description.contains(path) && description.contains(problem)
        }
    }

    @Test func aBrokenFileStopsStartUp() throws {
        let dir = try TempDirectory()
        let path = try dir.write("web.yml", "basic_auth_users:\n  alice: notahash\n")
        #expect(throws: WebConfig.LoadError.self) { try TestServer(webConfigPath: path) }
        #expect(throws: WebConfig.LoadError.self) { try TestServer(webConfigPath: dir.file("missing.yml")) }
    }

    @Test func basicAuthOverHTTP() throws {
        let dir = try TempDirectory()
        let path = try dir.write("web.yml", "basic_auth_users:\n  alice: \(Self.aliceHash)\n  bob: \(Self.bobHash)\n")
        let t = try TestServer(webConfigPath: path)
        let c = try t.client()
        let none = try c.request("GET", "/metrics")
        #expect(none.status == 401)
        #expect(none.header("WWW-Authenticate") == "Basic realm=\"porto-exporter\"")
        for bad in [basicAuthorization("alice", "wrong"), basicAuthorization("mallory", Self.alicePassword),
                    basicAuthorization("alice", ""), "Basic", "Basic !!!!", "Bearer abc", "Basic " + Data("alice".utf8).base64EncodedString(),
                    basicAuthorization("alice", Self.alicePassword + " "), String(repeating: "A", count: 3000)] {
            let r = try c.request("GET", "/metrics", headers: ["Authorization": bad])
            #expect(r.status == 401, "\(bad)")
            #expect(r.header("WWW-Authenticate") != nil)
        }
        #expect(try c.request("GET", "/metrics", headers: ["Authorization": basicAuthorization("alice", Self.alicePassword)]).status == 200)
        #expect(try c.request("GET", "/metrics", headers: ["Authorization": basicAuthorization("bob", "builder:with:colons")]).status == 200)
        #expect(try c.request("GET", "/metrics", headers: ["Authorization": "basic " + Data("alice:\(Self.alicePassword)".utf8).base64EncodedString()]).status == 200)
        #expect(try c.request("GET", "/-/healthy").status == 401, "every path is protected, as in the exporter-toolkit")
    }

    @Test func credentialResultsAreCachedSoFloodsCostOneHash() throws {
        let auth = BasicAuth()
        let users = ["alice": Self.aliceHash]
        let good = basicAuthorization("alice", Self.alicePassword)
        let bad = basicAuthorization("alice", "guess")
        for _ in 0..<50 {
            #expect(auth.check(authorization: good, users: users, generation: 1) == .allowed)
            #expect(auth.check(authorization: bad, users: users, generation: 1) == .denied)
        }
        #expect(auth.hashCount == 2)
        // A new user table (a reloaded config) is checked afresh.
        #expect(auth.check(authorization: good, users: [:], generation: 2) == .denied)
        #expect(auth.hashCount == 3)
    }

    /// bcrypt runs off libmicrohttpd's threads: while 16 clients' distinct wrong passwords hold
    /// every hashing thread, a scrape with a credential already checked is answered at once, and
    /// the wrong ones get 401 when their turn comes.
    @Test func wrongPasswordsDoNotHoldUpAKnownCredential() throws {
        let dir = try TempDirectory()
        let held = Gate()
        defer { held.open() }
        let hashing = Counter()
        let auth = BasicAuth(hasher: { password, setting in
            if password != Self.alicePassword {
                hashing.increment()
                held.wait()
            }
            return BasicAuth.crypt(password, setting: setting)
        })
        let t = try TestServer(webConfigPath: try dir.write("web.yml", "basic_auth_users:\n  alice: \(Self.aliceHash)\n"), auth: auth)
        let good = ["Authorization": basicAuthorization("alice", Self.alicePassword)]
        #expect(try t.client().request("GET", "/metrics", headers: good).status == 200)
        let attackers = try (0..<16).map { i in
            let c = try t.client()
            try c.send("GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: \(basicAuthorization("alice", "guess-\(i)"))\r\n\r\n")
            return c
        }
        try waitUntil { hashing.value >= 2 }   // every hashing thread (and, before, every HTTP thread) is held
        #expect(try t.client().request("GET", "/metrics", headers: good).status == 200)
        held.open()
        for c in attackers { #expect(try c.readResponse().status == 401) }
    }

    @Test func configIsReloadedAndABrokenChangeKeepsTheLastGood() throws {
        let dir = try TempDirectory()
        let path = try dir.write("web.yml", "basic_auth_users:\n  alice: \(Self.aliceHash)\n")
        let t = try TestServer(webConfigPath: path)
        let c = try t.client()
        let alice = ["Authorization": basicAuthorization("alice", Self.alicePassword)]
        let bob = ["Authorization": basicAuthorization("bob", "builder:with:colons")]
        #expect(try c.request("GET", "/metrics", headers: alice).status == 200)
        #expect(try c.request("GET", "/metrics", headers: bob).status == 401)

        // Replaced by rename (as editors and ConfigMaps do): bob only.
        try dir.write("new.yml", "basic_auth_users:\n  bob: \(Self.bobHash)\n")
        #expect(rename(dir.file("new.yml"), path) == 0)
        #expect(try c.request("GET", "/metrics", headers: alice).status == 401)
        #expect(try c.request("GET", "/metrics", headers: bob).status == 200)

        // A broken edit in place: bob keeps working.
        try dir.write("web.yml", "basic_auth_users:\n  bob: plaintext\n")
        #expect(try c.request("GET", "/metrics", headers: bob).status == 200)
        #expect(try c.request("GET", "/metrics", headers: alice).status == 401)

        // Deleted: still the last good configuration (never open by accident).
        try FileManager.default.removeItem(atPath: path)
        #expect(try c.request("GET", "/metrics", headers: bob).status == 200)
        #expect(try c.request("GET", "/metrics").status == 401)

        // Fixed: taken at once; an empty file turns authentication off.
        try dir.write("web.yml", "")
        #expect(try c.request("GET", "/metrics").status == 200)
    }

    @Test func storeLogsRejectionOnceAndKeepsTLSUntilRestart() throws {
        let dir = try TempDirectory()
        let path = try dir.write("web.yml", "basic_auth_users:\n  alice: \(Self.aliceHash)\n")
        let lines = LineCollector()
        var logger = Logger(label: "test") { _ in LineLogHandler(label: "test", format: .logfmt, sink: LogSink { lines.append($0) }) }
        logger.logLevel = .info
        let store = try WebConfigStore(path: path, logger: logger)
        try dir.write("web.yml", "basic_auth_users: {alice: nope}\n")
        for _ in 0..<5 { #expect(store.current().basicAuthUsers["alice"] == Self.aliceHash) }
        let rejections = lines.all.filter { $0.contains("rejected") }
        #expect(rejections.count == 1)
        #expect(rejections.first?.contains(path) == true)
        #expect(rejections.first?.contains("bcrypt") == true)
    }
}

final class LineCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}
