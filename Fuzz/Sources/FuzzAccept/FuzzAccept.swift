import PortoExporter

/// The Accept and Accept-Encoding parsers take whatever a client sends. The input is split at
/// the first NUL: the part before is the Accept header, the part after the Accept-Encoding
/// header (both decoded as UTF-8 with repair, as the server hands them over).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAccept(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let split = bytes.firstIndex(of: 0) ?? size
    let accept = String(decoding: bytes[..<split], as: UTF8.self)
    let encoding = String(decoding: bytes[min(split + 1, size)...], as: UTF8.self)
    let format = ContentNegotiation.format(accept: accept)
    _ = ContentNegotiation.acceptsGzip(encoding)
    // The same header twice in a list must not change the answer: negotiation is a pure choice.
    precondition(ContentNegotiation.format(accept: accept) == format)
    return 0
}
