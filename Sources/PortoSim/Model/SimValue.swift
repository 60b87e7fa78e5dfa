import PortoWire

/// One property value of one container, before it is rendered for `Get` (a legacy string) or put
/// into a `TContainer` for `ListContainersBy` (a typed field).
enum SimValue {
    /// Not set: Get returns "", ListContainersBy leaves the field out.
    case none
    /// A per-value error in Get; ListContainersBy leaves the field out.
    case error(Porto_EError, String)
    case uint(UInt64)
    case int(Int64)
    case cores(Double)
    case bool(Bool)
    case string(String)
    /// Unix seconds; Get renders local time.
    case time(UInt64)
    /// Sorted by key.
    case uintMap([(String, UInt64)])
    case labels(SimLabelSet)
    case cgroups(SimCgroupSet)
    case controllers([String])

    /// The legacy string form (docs/porto.md §3.1). Errors and `none` render as "".
    var legacy: String {
        switch self {
        case .none, .error: return ""
        case .uint(let v): return String(v)
        case .int(let v): return String(v)
        case .cores(let v): return SimLegacyFormat.cores(v)
        case .bool(let v): return SimLegacyFormat.bool(v)
        case .string(let v): return v
        case .time(let v): return SimLegacyFormat.time(v)
        case .uintMap(let m): return SimLegacyFormat.map(m) { String($0) }
        case .labels(let set): return set.legacy
        case .cgroups(let set): return set.legacy
        case .controllers(let names): return names.joined(separator: ";")
        }
    }

    /// The value at `key` for an indexed read (`io_read[sda]`, `labels[A.b]`), or nil when the
    /// value is not a map or has no such key.
    func indexed(_ key: String) -> SimValue? {
        switch self {
        case .uintMap(let m): return m.first { $0.0 == key }.map { .uint($0.1) }
        case .labels(let set): return set.entries.first { $0.0 == key }.map { .string($0.1) }
        case .cgroups(let set): return set.entries.first { $0.controller == key }.map { .string($0.path) }
        default: return nil
        }
    }

    var uintMapValue: Porto_TUintMap {
        var map = Porto_TUintMap()
        if case .uintMap(let entries) = self {
            map.map = entries.map { entry in
                var e = Porto_TUintMap.TUintMapEntry()
                e.key = entry.0
                e.val = entry.1
                return e
            }
        }
        return map
    }
}
