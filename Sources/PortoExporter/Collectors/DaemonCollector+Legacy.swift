import PortoWire

/// portod before 4.6.0 has no `GetSystem`: it answers InvalidMethod (docs/porto.md §8). The same
/// counters are in the hidden property `porto_stat` of "/" (`Get ["/"] ["porto_stat"]`, docs/porto.md
/// §5.1, a `"key: value; …"` map), and the version in `Version`; the kernel version is not told
/// (`porto_daemon_info{kernel_version=""}`).
extension DaemonCollector {
    /// A GetSystem answer rebuilt from `porto_stat` and `Version`.
    static func legacySystem(_ context: CollectContext) throws(PortoError) -> Porto_TGetSystemResponse {
        var get = Porto_TPortoRequest()
        get.get = Porto_TGetRequest()
        get.get.name = ["/"]
        get.get.variable = ["porto_stat"]
        let answer = try context.call(get).get
        guard let value = answer.list.first(where: { $0.name == "/" })?.keyval.first(where: { $0.variable == "porto_stat" }) else {
            throw PortoError.decode("Get / porto_stat: no value in the answer")
        }
        if value.hasError, value.error != .success {
            throw PortoError.porto(value.error, message: value.errorMsg)
        }
        var system = self.system(fromPortoStat: value.value)
        var version = Porto_TPortoRequest()
        version.version = Porto_TVersionRequest()
        let tag = try context.call(version).version
        system.portoVersion = tag.tag
        system.portoRevision = tag.revision
        return system
    }

    /// The GetSystem fields `porto_stat` carries. Its keys are GetSystem's field names, except
    /// `requests_*` for `request_*` and, before 4.7.2, `restarts` for `porto_starts` (docs/porto.md §5.1, §8);
    /// keys GetSystem does not have (spec requests, portod's own usage, ...) and values that are not
    /// whole numbers are left out.
    static func system(fromPortoStat text: String) -> Porto_TGetSystemResponse {
        var system = Porto_TGetSystemResponse()
        for (key, value) in LegacyValueParser.stringMap(text) ?? [] {
            var name = key
            if name.hasPrefix("requests_") { name = "request_" + name.dropFirst("requests_".count) }
            if name == "restarts" { name = "porto_starts" }
            if let path = portoStatFields[name], let number = LegacyValueParser.uint(value) {
                system[keyPath: path] = number
            }
        }
        return system
    }

    /// The GetSystem fields by name, from the daemon table (``DaemonMetrics/all``): `porto_stat`
    /// carries the same counters and gauges under the same names.
    nonisolated(unsafe) static let portoStatFields: [String: WritableKeyPath<Porto_TGetSystemResponse, UInt64>] = {
        var out: [String: WritableKeyPath<Porto_TGetSystemResponse, UInt64>] = [:]
        for metric in DaemonMetrics.all { if let path = metric.value { out[metric.field] = path } }
        return out
    }()
}
