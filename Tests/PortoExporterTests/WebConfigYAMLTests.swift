import Foundation
import Testing
@testable import PortoExporter

/// What the libyaml-based reader of the web config (WebConfigYAML) could get wrong that Yams did
/// for us: aliases, documents, encodings, size and depth limits, tags, duplicate keys.
@Suite struct WebConfigYAMLTests {
    static let hash = HTTPWebConfigTests.aliceHash

    /// The parse error's description, or "" when the text parses.
    static func problem(_ bytes: [UInt8]) -> String {
        do {
            _ = try WebConfig.parse(bytes, file: "web.yml", baseDirectory: "/")
            return ""
        } catch {
            return error.description
        }
    }

    static func problem(_ text: String) -> String { problem(Array(text.utf8)) }

    @Test func anchorsAndAliasesAreFollowed() throws {
        let config = try WebConfig.parse("basic_auth_users:\n  alice: &h '\(Self.hash)'\n  bob: *h\n", file: "web.yml", baseDirectory: "/")
        #expect(config.basicAuthUsers == ["alice": Self.hash, "bob": Self.hash])
        #expect(Self.problem("basic_auth_users:\n  bob: *nowhere\n").contains("line 2, column 8: not valid YAML: found undefined alias"))
        #expect(Self.problem("a: &x 1\nb: &x 2\n").contains("line 2, column 4: not valid YAML: found duplicate anchor; first occurrence at line 1, column 4: second occurrence"))
    }

    @Test func anAliasOfItsOwnMappingIsRefusedNotLoopedOn() {
        // libyaml points the alias at the mapping that holds it: a cycle.
        #expect(Self.problem("basic_auth_users: &users\n  alice: *users\n").contains("line 1: the password of user \"alice\" must be a bcrypt hash"))
        #expect(Self.problem("tls_server_config: &t\n  cipher_suites: *t\n").contains("cipher_suites is not supported"))
    }

    @Test func aBillionLaughsCostsWhatItsTextCosts() {
        // Ten levels of ten aliases each: 10^10 scalars if aliases were copied.
        var levels = ["&l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
        for level in 1...9 {
            levels.append("&l\(level) [" + Array(repeating: "*l\(level - 1)", count: 10).joined(separator: ", ") + "]")
        }
        let bomb = "[" + levels.joined(separator: ", ") + "]"
        #expect(Self.problem("tls_server_config:\n  cipher_suites: \(bomb)\n").contains("line 2: tls_server_config.cipher_suites is not supported"))
        #expect(Self.problem("basic_auth_users:\n  alice: \(bomb)\n").contains("line 2: the password of user \"alice\" must be a bcrypt hash"))
    }

    @Test func oneDocumentOnly() throws {
        let one = "basic_auth_users:\n  alice: \(Self.hash)\n"
        #expect(try WebConfig.parse("---\n" + one + "...\n", file: "web.yml", baseDirectory: "/").basicAuthUsers.count == 1)
        #expect(Self.problem(one + "---\nbasic_auth_users:\n  bob: \(Self.hash)\n").contains("line 3: a second YAML document"))
        #expect(Self.problem(one + "---\n").contains("a second YAML document"))
        // Empty streams and empty documents: no TLS, no authentication.
        for empty in ["", "\n\n", "# only a comment\n", "---\n", "--- ~\n", "---\n...\n", "null\n", "basic_auth_users: !!null\n"] {
            #expect(try WebConfig.parse(empty, file: "web.yml", baseDirectory: "/") == WebConfig(), "\(empty)")
        }
    }

    @Test func bytesThatAreNotUTF8TextAreRefused() throws {
        // An invalid UTF-8 sequence (0xC3 0x28) in a value.
        let invalid = Array("basic_auth_users:\n  alice: ".utf8) + [0xC3, 0x28] + Array("\n".utf8)
        #expect(Self.problem(invalid).contains("not valid YAML: invalid trailing UTF-8 octet"))
        #expect(Self.problem([0xFF, 0x00, 0x41]).contains("not valid YAML"))
        // A raw control character, and an escaped NUL (which would cut a path handed to open(2)).
        #expect(Self.problem(Array("a: b\u{1}c\n".utf8)).contains("not valid YAML: control characters are not allowed"))
        #expect(Self.problem("tls_server_config:\n  cert_file: \"/etc/tls.crt\\0.bak\"\n  key_file: k\n").contains("line 2: a value contains a NUL character"))
        // UTF-16 with a byte order mark is YAML too (libyaml converts it).
        let utf16: [UInt8] = [0xFF, 0xFE] + "basic_auth_users:\n  alice: \(Self.hash)\n".utf16.flatMap { (unit: UInt16) -> [UInt8] in [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
        #expect(try WebConfig.parse(utf16, file: "web.yml", baseDirectory: "/").basicAuthUsers == ["alice": Self.hash])
        // Pseudo-random garbage: an error, never a crash.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for round in 0..<50 {
            let garbage = (0..<(64 * (round + 1))).map { _ -> UInt8 in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return UInt8(truncatingIfNeeded: state >> 56)
            }
            #expect(Self.problem(garbage).isEmpty == false)
        }
    }

    @Test func hugeAndDeeplyNestedFilesAreRefused() throws {
        let dir = try TempDirectory()
        let big = try dir.write("web.yml", "# " + String(repeating: "x", count: WebConfig.maxConfigSize) + "\n")
        #expect {
            try WebConfig.load(path: big)
        } throws: { error in
            (error as? WebConfig.LoadError)?.description == "web config file \(big): cannot be read (larger than 1 MiB)"
        }
        // 100,000 levels would overflow the stack in libyaml's recursive loader.
        #expect(Self.problem(String(repeating: "[", count: 100_000)).contains("line 1: nested more than 64 levels deep"))
        #expect(Self.problem(String(repeating: "- ", count: 20_000) + "x\n").contains("nested more than 64 levels deep"))
        // 64 levels (the top mapping and 63 sequences) are read.
        let deep = "x: " + String(repeating: "[", count: 63) + String(repeating: "]", count: 63) + "\n"
        #expect(Self.problem(deep).contains("unknown key \"x\""))
        #expect(Self.problem("x: [" + deep.dropFirst(3) + "]").contains("nested more than 64 levels deep"))
    }

    @Test func tagsOfYAMLsCoreSchemaOnly() throws {
        let config = try WebConfig.parse("basic_auth_users: !!map\n  alice: !!str \(Self.hash)\nhttp_server_config:\n  http2: !!bool false\n",
                                         file: "web.yml", baseDirectory: "/")
        #expect(config.basicAuthUsers == ["alice": Self.hash])
        #expect(Self.problem("basic_auth_users:\n  alice: !vault \(Self.hash)\n").contains("line 2: the tag !vault is not supported here"))
        #expect(Self.problem("basic_auth_users:\n  alice: !!binary aGVsbG8=\n").contains("line 2: the tag !!binary is not supported here"))
        #expect(Self.problem("%TAG !e! tag:example.com,2000:\n---\nbasic_auth_users: !e!users {}\n").contains("the tag tag:example.com,2000:users is not supported here"))
        // A quoted "true" is a string, as Yams had it.
        #expect(Self.problem("http_server_config:\n  http2: \"true\"\n").contains("line 2: http_server_config.http2 must be true or false"))
        #expect(Self.problem("http_server_config:\n  http2: yes\n").isEmpty)
    }

    @Test func duplicateKeysAreRefused() {
        #expect(Self.problem("basic_auth_users:\n  alice: \(Self.hash)\n  alice: \(Self.hash)\n").contains("line 3: duplicate key \"alice\""))
        #expect(Self.problem("basic_auth_users: {}\nbasic_auth_users: {}\n").contains("line 2: duplicate key \"basic_auth_users\""))
        // Keys that are not strings are refused by the config itself.
        #expect(Self.problem("? [a, b]\n: c\n").contains("line 1: keys must be strings"))
    }

    @Test func syntaxErrorsSayWhereAndWhat() {
        #expect(Self.problem("tls_server_config: [\n") == "web config file web.yml: line 2, column 1: not valid YAML: while parsing a flow node at line 2, column 1: did not find expected node content")
        #expect(Self.problem("basic_auth_users:\n  alice: a\n bob: b\n") == "web config file web.yml: line 3, column 2: not valid YAML: while parsing a block mapping at line 1, column 1: did not find expected key")
    }

    @Test func directoryOfAPathAsNSStringGaveIt() {
        for path in ["web.yml", "/web.yml", "/etc/porto-exporter/web.yml", "conf/web.yml", "/etc//web.yml", "/etc/porto/", "./web.yml", "/"] {
            #expect(WebConfig.directory(of: path) == (path as NSString).deletingLastPathComponent, "\(path)")
        }
        #expect(WebConfig.join("", "tls.crt") == "tls.crt")
        #expect(WebConfig.join("/", "tls.crt") == "/tls.crt")
        #expect(WebConfig.join("/etc/x", "tls.crt") == "/etc/x/tls.crt")
    }

    @Test func timestampsWithoutStringFormat() {
        #expect(zeroPadded(7, 2) == "07")
        #expect(zeroPadded(2026, 4) == "2026")
        #expect(zeroPadded(12345, 3) == "12345")
        #expect(zeroPadded(0x1F, 2, radix: 16) == "1f")
        let stamp = LogSink.timestamp()
        #expect(stamp.utf8.count == 24)
        #expect(stamp.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil, "\(stamp)")
    }
}
