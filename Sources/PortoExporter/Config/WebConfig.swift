#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The web configuration file, in the Prometheus exporter-toolkit's format
/// (https://prometheus.io/docs/prometheus/latest/configuration/https/):
///
/// ```yaml
/// tls_server_config:
///   cert_file: /etc/porto-exporter/tls.crt
///   key_file: /etc/porto-exporter/tls.key
///   client_auth_type: RequireAndVerifyClientCert   # default NoClientCert
///   client_ca_file: /etc/porto-exporter/ca.crt
///   min_version: TLS12                             # default; TLS13 also allowed
///   max_version: TLS13
/// basic_auth_users:
///   prometheus: $2y$10$...                         # bcrypt only
/// ```
///
/// Parsing is strict, like the toolkit's: an unknown key is an error, so a typo never silently
/// disables TLS or authentication. File paths are relative to the config file's directory.
public struct WebConfig: Sendable, Equatable {
    public var tls: TLSConfig?
    /// user name → bcrypt hash.
    public var basicAuthUsers: [String: String] = [:]

    public init(tls: TLSConfig? = nil, basicAuthUsers: [String: String] = [:]) {
        self.tls = tls
        self.basicAuthUsers = basicAuthUsers
    }

    public enum ClientAuth: String, Sendable, CaseIterable {
        case noClientCert = "NoClientCert"
        case requestClientCert = "RequestClientCert"
        case requireAnyClientCert = "RequireAnyClientCert"
        case verifyClientCertIfGiven = "VerifyClientCertIfGiven"
        case requireAndVerifyClientCert = "RequireAndVerifyClientCert"
    }

    public enum TLSVersion: String, Sendable, CaseIterable, Comparable {
        case tls10 = "TLS10", tls11 = "TLS11", tls12 = "TLS12", tls13 = "TLS13"
        var rank: Int { Self.allCases.firstIndex(of: self)! }
        var gnutlsName: String { ["VERS-TLS1.0", "VERS-TLS1.1", "VERS-TLS1.2", "VERS-TLS1.3"][rank] }
        public static func < (a: Self, b: Self) -> Bool { a.rank < b.rank }
    }

    /// TLS settings, with the PEM contents already read (a file that cannot be read is a
    /// configuration error found at load time, not at the first handshake).
    public struct TLSConfig: Sendable, Equatable {
        public var certFile: String
        public var keyFile: String
        public var certificatePEM: String
        public var keyPEM: String
        public var clientAuth: ClientAuth = .noClientCert
        public var clientCAFile: String?
        public var clientCAPEM: String?
        public var minVersion: TLSVersion = .tls12
        public var maxVersion: TLSVersion = .tls13

        /// The GnuTLS priority string for the version range, e.g.
        /// `NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2`.
        public var gnutlsPriorities: String {
            let versions = WebConfig.TLSVersion.allCases.reversed().filter { $0 >= minVersion && $0 <= maxVersion }
            return "NORMAL:-VERS-ALL" + versions.map { ":+" + $0.gnutlsName }.joined()
        }
    }

    /// A configuration problem, with the file and (when known) the line it is on.
    public struct LoadError: Error, CustomStringConvertible, Equatable {
        public var file: String
        public var message: String
        public var description: String { "web config file \(file): \(message)" }
    }

    /// Reads and validates the file at `path`.
    /// - Throws: `WebConfig.LoadError` naming the file and the problem (unreadable, not YAML, unknown
    ///   key, bad value, not a bcrypt hash, unreadable or invalid certificate/key/CA file).
    public static func load(path: String) throws(LoadError) -> WebConfig {
        let bytes: [UInt8]
        do {
            bytes = try readFile(path, limit: maxConfigSize)
        } catch {
            throw LoadError(file: path, message: "cannot be read (\(error.reason))")
        }
        return try parse(bytes, file: path, baseDirectory: directory(of: path))
    }

    /// Parses YAML text; `file` is used in messages, `baseDirectory` to resolve relative paths.
    public static func parse(_ text: String, file: String, baseDirectory: String) throws(LoadError) -> WebConfig {
        try parse(Array(text.utf8), file: file, baseDirectory: baseDirectory)
    }

    /// A web config file larger than this is refused before it is parsed (a real one is well
    /// under a kilobyte).
    static let maxConfigSize = 1 << 20
    /// Certificate, key and CA files larger than this are refused (a CA bundle is a few hundred
    /// kilobytes).
    static let maxPEMSize = 16 << 20

    /// Parses the bytes of a file (UTF-8, or UTF-16 with a byte order mark).
    public static func parse(_ bytes: [UInt8], file: String, baseDirectory: String) throws(LoadError) -> WebConfig {
        func fail(_ message: String, _ node: WebConfigYAML.Node? = nil) -> LoadError {
            if let node { return LoadError(file: file, message: "line \(node.line): \(message)") }
            return LoadError(file: file, message: message)
        }
        let root: WebConfigYAML.Node?
        do {
            root = try WebConfigYAML.parse(bytes)
        } catch {
            let place = switch (error.line, error.column) {
            case (let line?, let column?): "line \(line), column \(column): "
            case (let line?, nil): "line \(line): "
            default: ""
            }
            throw LoadError(file: file, message: place + error.message)
        }
        var config = WebConfig()
        guard let root else { return config }   // an empty file: no TLS, no auth
        if root.isNull { return config }
        guard let top = root.mapping else { throw fail("the top level must be a mapping", root) }
        for (keyNode, value) in top {
            guard let key = keyNode.string else { throw fail("keys must be strings", keyNode) }
            switch key {
            case "tls_server_config":
                if value.isNull { continue }
                config.tls = try parseTLS(value, fail: fail, baseDirectory: baseDirectory, file: file)
            case "basic_auth_users":
                if value.isNull { continue }
                guard let users = value.mapping else { throw fail("basic_auth_users must be a mapping of user names to bcrypt hashes", value) }
                for (userNode, hashNode) in users {
                    guard let user = userNode.string, !user.isEmpty else { throw fail("a basic_auth_users name must be a non-empty string", userNode) }
                    guard let hash = hashNode.string, BasicAuth.isBcryptHash(hash) else {
                        throw fail("the password of user \"\(user)\" must be a bcrypt hash ($2a$, $2b$ or $2y$)", hashNode)
                    }
                    config.basicAuthUsers[user] = hash
                }
            case "http_server_config":
                if value.isNull { continue }
                guard let http = value.mapping else { throw fail("http_server_config must be a mapping", value) }
                for (k, v) in http {
                    guard k.string == "http2" else {
                        throw fail("http_server_config: \"\(k.string ?? "?")\" is not supported by this exporter", k)
                    }
                    guard v.bool != nil else { throw fail("http_server_config.http2 must be true or false", v) }
                    // HTTP/2 is not offered by libmicrohttpd; the setting is accepted and has no effect.
                }
            default:
                throw fail("unknown key \"\(key)\" (allowed: tls_server_config, basic_auth_users, http_server_config)", keyNode)
            }
        }
        return config
    }

    private static func parseTLS(_ node: WebConfigYAML.Node, fail: (String, WebConfigYAML.Node?) -> LoadError, baseDirectory: String, file: String) throws(LoadError) -> TLSConfig {
        guard let mapping = node.mapping else { throw fail("tls_server_config must be a mapping", node) }
        var certFile: String?
        var keyFile: String?
        var clientAuth = ClientAuth.noClientCert
        var clientCAFile: String?
        var minVersion = TLSVersion.tls12
        var maxVersion = TLSVersion.tls13
        for (keyNode, value) in mapping {
            guard let key = keyNode.string else { throw fail("keys must be strings", keyNode) }
            func string() throws(LoadError) -> String {
                guard let s = value.string else { throw fail("tls_server_config.\(key) must be a string", value) }
                return s
            }
            switch key {
            case "cert_file": certFile = try string()
            case "key_file": keyFile = try string()
            case "client_ca_file": clientCAFile = try string()
            case "client_auth_type":
                let s = try string()
                guard let v = ClientAuth(rawValue: s) else {
                    throw fail("client_auth_type \"\(s)\" is not one of \(ClientAuth.allCases.map(\.rawValue).joined(separator: ", "))", value)
                }
                clientAuth = v
            case "min_version", "max_version":
                let s = try string()
                guard let v = TLSVersion(rawValue: s) else {
                    throw fail("\(key) \"\(s)\" is not one of TLS10, TLS11, TLS12, TLS13", value)
                }
                if key == "min_version" { minVersion = v } else { maxVersion = v }
            case "cipher_suites", "curve_preferences", "prefer_server_cipher_suites":
                if value.isNull || value.sequence?.isEmpty == true { continue }
                throw fail("tls_server_config.\(key) is not supported by this exporter (it serves TLS through GnuTLS; restrict versions with min_version/max_version)", keyNode)
            case "cert", "key", "client_ca":
                throw fail("tls_server_config.\(key) (inline PEM) is not supported; use \(key)_file", keyNode)
            default:
                throw fail("unknown key \"tls_server_config.\(key)\"", keyNode)
            }
        }
        guard let certFile, !certFile.isEmpty else { throw fail("tls_server_config needs cert_file", node) }
        guard let keyFile, !keyFile.isEmpty else { throw fail("tls_server_config needs key_file", node) }
        guard minVersion <= maxVersion else { throw fail("min_version is newer than max_version", node) }
        switch clientAuth {
        case .noClientCert:
            break
        case .requestClientCert, .requireAnyClientCert, .verifyClientCertIfGiven, .requireAndVerifyClientCert:
            // libmicrohttpd asks for a client certificate only when it has a trust store.
            guard clientCAFile != nil else { throw fail("client_auth_type \(clientAuth.rawValue) needs client_ca_file", node) }
        }
        func read(_ path: String, what: String) throws(LoadError) -> String {
            let resolved = path.hasPrefix("/") ? path : join(baseDirectory, path)
            let bytes: [UInt8]
            do {
                bytes = try readFile(resolved, limit: maxPEMSize)
            } catch {
                throw fail("\(what) \(resolved) cannot be read (\(error.reason))", nil)
            }
            guard let pem = String(validating: bytes, as: UTF8.self), pem.contains("-----BEGIN ") else {
                throw fail("\(what) \(resolved) is not PEM", nil)
            }
            return pem
        }
        var tls = TLSConfig(
            certFile: certFile, keyFile: keyFile,
            certificatePEM: try read(certFile, what: "cert_file"),
            keyPEM: try read(keyFile, what: "key_file"),
            clientAuth: clientAuth, minVersion: minVersion, maxVersion: maxVersion
        )
        if let clientCAFile {
            tls.clientCAFile = clientCAFile
            tls.clientCAPEM = try read(clientCAFile, what: "client_ca_file")
        }
        return tls
    }

    /// Why a file could not be read: errno's text, or the size limit.
    struct ReadFailure: Swift.Error {
        var reason: String
    }

    /// The whole file at `path`, if it is at most `limit` bytes.
    static func readFile(_ path: String, limit: Int) throws(ReadFailure) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ReadFailure(reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ReadFailure(reason: String(cString: strerror(errno)))
            }
            if n == 0 { return bytes }
            guard bytes.count + n <= limit else { throw ReadFailure(reason: "larger than \(limit >> 20) MiB") }
            bytes.append(contentsOf: chunk[..<n])
        }
    }

    /// The directory part of `path`, as NSString.deletingLastPathComponent gives it: "" for a bare
    /// name, "/" for a file in the root.
    static func directory(of path: String) -> String {
        var path = Substring(path)
        while path.count > 1, path.hasSuffix("/") { path = path.dropLast() }
        guard let slash = path.lastIndex(of: "/") else { return "" }
        if slash == path.startIndex { return "/" }
        var directory = path[..<slash]
        while directory.count > 1, directory.hasSuffix("/") { directory = directory.dropLast() }
        return String(directory)
    }

    /// `name` inside `directory` ("" is the current directory).
    static func join(_ directory: String, _ name: String) -> String {
        if directory.isEmpty { return name }
        return directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}
