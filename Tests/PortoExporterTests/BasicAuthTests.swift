import Foundation
import Testing
@testable import PortoExporter

/// Basic auth must accept exactly the configured credentials. crypt(3) takes C strings, so a NUL
/// byte in the decoded `user:password` would cut the password short before hashing: a password
/// followed by NUL and anything at all would pass.
@Suite struct BasicAuthTests {
    @Test func aNulByteInTheCredentialsIsRefused() throws {
        let hash = try #require(BasicAuth.bcryptHash("s3cret", cost: 4))
        let users = ["prom": hash]
        let auth = BasicAuth()
        func header(_ text: String) -> String { "Basic " + Data(text.utf8).base64EncodedString() }
        #expect(auth.check(authorization: header("prom:s3cret"), users: users, generation: 1) == .allowed)
        for forged in ["prom:s3cret\0", "prom:s3cret\0anything", "prom\0:s3cret", "prom\0x:s3cret"] {
            #expect(auth.check(authorization: header(forged), users: users, generation: 1) == .denied, "\(forged.debugDescription)")
        }
    }

    @Test func overHTTPTheNulPasswordGets401() throws {
        let dir = try TempDirectory()
        let hash = try #require(BasicAuth.bcryptHash("s3cret", cost: 4))
        let t = try TestServer(webConfigPath: try dir.write("web.yml", "basic_auth_users:\n  prom: \(hash)\n"))
        let forged = "Basic " + Data("prom:s3cret\0".utf8).base64EncodedString()
        #expect(try t.client().request("GET", "/metrics", headers: ["Authorization": forged]).status == 401)
        #expect(try t.client().request("GET", "/metrics", headers: ["Authorization": basicAuthorization("prom", "s3cret")]).status == 200)
    }
}
