import PortoWire

/// Bytes as portod might send them: varint32 length prefixes and TPortoResponse bodies, read the
/// way the client reads them (prefix checked byte by byte, then exactly the body, pushes skipped,
/// a missing `error` field taken as LostError). Any input must end in a response or a typed
/// refusal, never a crash, a hang or an allocation the prefix was not allowed to ask for.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFraming(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var offset = 0
    while offset < bytes.count {
        let prefix: Framing.Prefix
        do {
            prefix = try Framing.decodePrefix(bytes[offset...])
        } catch {
            return 0   // malformed varint or oversized frame: refused before any body byte is read
        }
        guard case .complete(let length, let prefixLength) = prefix else { return 0 }
        precondition(prefixLength >= 1 && prefixLength <= Framing.maxVarintLength)
        precondition(length <= Framing.maxFrameLength)
        // The canonical prefix for this length decodes to the same length.
        var canonical: [UInt8] = []
        Framing.appendVarint(UInt32(length), to: &canonical)
        precondition(try! Framing.decodePrefix(canonical) == .complete(length: length, prefixLength: canonical.count))
        let start = offset + prefixLength
        guard bytes.count - start >= length else { return 0 }   // EOF inside the frame
        let body = Array(bytes[start..<start + length])
        offset = start + length
        // The undecoded path (PortoClient.callRaw, the exporter's ListContainersBy reading) must
        // never trap either, and where full decoding succeeds it must agree with it.
        let envelope = try? ResponseEnvelope(body)
        let answer = try? ListContainersByAnswer(body, withNet: true)
        let get = try? GetAnswer(body)
        var scratch: [UInt8] = []
        let pieces = answer.map { a in a.entries.map { try? a.container($0, scratch: &scratch) } }
        guard let response = try? Porto_TPortoResponse(serializedBytes: body) else { return 0 }
        let decoded = response.listContainersBy.containers
        precondition(envelope == ResponseEnvelope(
            error: response.hasError ? response.error : nil, errorMessage: response.errorMsg, isAsyncWait: response.hasAsyncWait))
        precondition(answer!.entries.count == decoded.count)
        for (entry, container) in zip(answer!.entries, decoded) {
            precondition(entry.name == container.spec.name)
            precondition(entry.net == (container.spec.hasNet ? .init(container.spec.net) : nil))
        }
        precondition(pieces! == decoded.map { Optional($0) })
        // The Get answer read in place (the memory.stat Get) gives what decoding gives.
        precondition(get!.entries.count == response.get.list.count)
        func text(_ range: Range<Int>?) -> String { String(decoding: body[range ?? 0..<0], as: UTF8.self) }
        for (entry, listed) in zip(get!.entries, response.get.list) {
            precondition(entry.name == listed.name)
            let values = try! get!.values(entry)
            precondition(values.count == listed.keyval.count)
            for (v, kv) in zip(values, listed.keyval) {
                precondition(text(v.variable) == kv.variable && v.error == (kv.hasError ? kv.error : nil))
                precondition((v.value != nil) == kv.hasValue && text(v.value) == kv.value)
            }
            if let first = listed.keyval.first {
                let found = try! get!.value(of: Array(first.variable.utf8), in: entry)
                precondition(found == values.first { text($0.variable) == first.variable })
            }
        }
        if response.hasAsyncWait { continue }   // a push, not the reply
        _ = response.hasError ? response.error : .lostError
        // What decodes must encode again, and decode to the same message.
        let again = try! response.serializedBytes() as [UInt8]
        precondition((try? Porto_TPortoResponse(serializedBytes: again)) == response)
        return 0
    }
    return 0
}
