import Foundation
import PortoExporter

/// The web config parser reads an operator's YAML file: any text must give a configuration or a
/// `WebConfig.LoadError` naming the file, never a crash. Certificate paths resolve into a directory
/// that does not exist; every `/` of the input is read as `_` so that no path can leave it (the
/// fuzzer must not read `/dev/stdin` or `/dev/zero`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWebConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    // The bytes as they are (libyaml reads them: invalid UTF-8, UTF-16, NULs included).
    let bytes = UnsafeBufferPointer(start: data, count: size).map { $0 == UInt8(ascii: "/") ? UInt8(ascii: "_") : $0 }
    do {
        let config = try WebConfig.parse(bytes, file: "fuzz.yml", baseDirectory: "/nonexistent-porto-exporter-fuzz")
        for (user, hash) in config.basicAuthUsers {
            precondition(!user.isEmpty && hash.hasPrefix("$2"))
        }
    } catch {
        precondition(error.file == "fuzz.yml" && !error.message.isEmpty)
    }
    return 0
}
