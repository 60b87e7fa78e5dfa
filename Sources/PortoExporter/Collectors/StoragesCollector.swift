import PortoWire

/// Storages and meta storages in portod's default place (`ListStorages`): counts, and for meta
/// storages the space and inodes portod reads live from the project quota.
struct StoragesCollector: Collector {
    let name = "storages"

    func collect(_ context: CollectContext, into writer: ExpositionWriter) throws(PortoError) {
        var request = Porto_TPortoRequest()
        request.listStorages = Porto_TListStoragesRequest()
        let response = try context.call(request).listStorages
        for metric in StorageMetrics.storageCounts {
            writer.gauge(metric.family, value: .uint(UInt64(metric.count(response))))
        }
        var seen = Set<String>()
        for meta in response.metaStorages.sorted(by: { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }) {
            guard seen.insert(meta.name).inserted else { continue }
            let labels = Labels(["name": meta.name])
            for metric in StorageMetrics.metaAll {
                if let value = metric.read(meta) { writer.gauge(metric.family, labels: labels, value: .uint(value)) }
            }
        }
    }
}
