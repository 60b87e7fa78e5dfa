import PortoExporter

/// The legacy value parser reads the strings `Get` returns (docs/porto.md §3.1) from any portod: any
/// text must give a value or nil, never a crash, and what it gives must be consistent: an
/// unsigned integer is only digits, cores are finite and not negative, a map's keys and values
/// never contain the `"; "` separator it was split on, and the integer map is the string map
/// with every value read as an integer, also when read in place from ASCII bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLegacy(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let v = LegacyValueParser.uint(text) {
        precondition(String(v) == text.drop(while: { $0 == "0" }) || (v == 0 && text.allSatisfy { $0 == "0" }))
    }
    _ = LegacyValueParser.int32(text)
    if let c = LegacyValueParser.cores(text) {
        precondition(c.isFinite && c >= 0)
    }
    if let b = LegacyValueParser.bool(text) {
        precondition(text == (b ? "true" : "false"))
    }
    let strings = LegacyValueParser.stringMap(text)
    if let strings {
        for (key, value) in strings {
            precondition(!key.contains("; ") && !value.contains("; "))
        }
    }
    if let ints = LegacyValueParser.uintMap(text) {
        guard let strings else { preconditionFailure("uintMap parsed what stringMap rejected") }
        precondition(ints.count == strings.count)
        for (i, s) in zip(ints, strings) {
            precondition(i.key == s.key && LegacyValueParser.uint(s.value) == i.value)
        }
    }
    // The in-place reading of ASCII maps (the slower groups' Get) gives what uintMap gives.
    var entries: [(key: Range<Int>, value: UInt64)] = []
    let inPlace = UnsafeBufferPointer(start: data, count: size)
    if let ok = LegacyValueParser.asciiUIntMap(inPlace, into: &entries) {
        let ints = LegacyValueParser.uintMap(text)
        precondition(ok == (ints != nil), "asciiUIntMap and uintMap disagree on parsing")
        if let ints {
            precondition(entries.count == ints.count)
            for (e, i) in zip(entries, ints) {
                precondition(String(decoding: UnsafeBufferPointer(rebasing: inPlace[e.key]), as: UTF8.self) == i.key && e.value == i.value)
            }
        }
    }
    return 0
}
