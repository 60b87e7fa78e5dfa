/// ``MapKeys`` on a map key's UTF-8 bytes, as read in place from portod's answer: the same
/// decisions as the `String` forms, without making a `String` per key.
extension MapKeys {
    static func isPhysicalDisk(_ key: UnsafeBufferPointer<UInt8>) -> Bool {
        hasPrefix(key, "sd") || hasPrefix(key, "nvme") || hasPrefix(key, "vd")
    }

    static func isIOSummary(_ key: UnsafeBufferPointer<UInt8>) -> Bool {
        equals(key, "hw") || equals(key, "fs") || equals(key, "total_writeback")
    }

    static func isNetSummary(_ key: UnsafeBufferPointer<UInt8>) -> Bool {
        equals(key, "Uplink") || equals(key, "SockDiag") || equals(key, "Latency") || hasPrefix(key, "group ")
    }

    /// ``label(for:)`` of a key's bytes: the extra label value's bytes (a part of `key`).
    func label(for key: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8>? {
        switch self {
        case .every: key
        case .key, .diskTotal: nil
        case .physicalDisks: Self.isPhysicalDisk(key) ? key : nil
        case .stackedDevices: !Self.isPhysicalDisk(key) && !Self.isIOSummary(key) ? key : nil
        case .interfaces: Self.isNetSummary(key) ? nil : key
        case .groups: Self.hasPrefix(key, "group ") ? UnsafeBufferPointer(rebasing: key[6...]) : nil
        }
    }

    @inline(__always)
    private static func hasPrefix(_ key: UnsafeBufferPointer<UInt8>, _ prefix: StaticString) -> Bool {
        guard key.count >= prefix.utf8CodeUnitCount else { return false }
        let p = prefix.utf8Start
        for i in 0..<prefix.utf8CodeUnitCount where key[i] != p[i] { return false }
        return true
    }

    @inline(__always)
    private static func equals(_ key: UnsafeBufferPointer<UInt8>, _ other: StaticString) -> Bool {
        key.count == other.utf8CodeUnitCount && hasPrefix(key, other)
    }
}
