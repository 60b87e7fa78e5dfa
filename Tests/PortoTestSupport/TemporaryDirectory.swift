import Foundation

/// A failure of the test harness itself (not of the code under test).
public struct TestSupportFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A new directory under /tmp with a short name: unix socket paths hold at most 107 bytes.
/// The caller removes it.
public func makeTemporaryDirectory() throws -> String {
    var template = Array("/tmp/porto-test-XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else { throw TestSupportFailure("mkdtemp: errno \(errno)") }
    return String(cString: made)
}

/// A temporary directory (``makeTemporaryDirectory()``) removed at deinit.
public final class TempDirectory {
    public let path: String
    public init() throws { path = try makeTemporaryDirectory() }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    public func file(_ name: String) -> String { path + "/" + name }
    @discardableResult public func write(_ name: String, _ text: String) throws -> String {
        try text.write(toFile: file(name), atomically: false, encoding: .utf8)
        return file(name)
    }
}
