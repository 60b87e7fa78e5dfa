import PortoWire

/// Storages and meta storages in portod's default place (`ListStorages`): counts, and for meta
/// storages the space and inodes portod reads live from the project quota.
struct StoragesCollector: Collector {
    let name = "storages"

    func collect(_ context: CollectContext, into writer: ExpositionWriter) throws(PortoError) {
        var request = Porto_TPortoRequest()
        request.listStorages = Porto_TListStoragesRequest()
        let response = try context.call(request).listStorages
        writer.gauge(StorageMetrics.storages, value: .uint(UInt64(response.storages.count)))
        writer.gauge(StorageMetrics.metaStorages, value: .uint(UInt64(response.metaStorages.count)))
        var seen = Set<String>()
        for meta in response.metaStorages.sorted(by: { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }) {
            guard seen.insert(meta.name).inserted else { continue }
            let labels = Labels(["name": meta.name])
            if meta.hasSpaceUsed { writer.gauge(StorageMetrics.metaSpaceUsage, labels: labels, value: .uint(meta.spaceUsed)) }
            if meta.hasSpaceLimit { writer.gauge(StorageMetrics.metaSpaceLimit, labels: labels, value: .uint(meta.spaceLimit)) }
            if meta.hasSpaceAvailable { writer.gauge(StorageMetrics.metaSpaceAvailable, labels: labels, value: .uint(meta.spaceAvailable)) }
            if meta.hasInodeUsed { writer.gauge(StorageMetrics.metaInodesUsage, labels: labels, value: .uint(meta.inodeUsed)) }
            if meta.hasInodeLimit { writer.gauge(StorageMetrics.metaInodesLimit, labels: labels, value: .uint(meta.inodeLimit)) }
            if meta.hasInodeAvailable { writer.gauge(StorageMetrics.metaInodesAvailable, labels: labels, value: .uint(meta.inodeAvailable)) }
        }
    }
}
