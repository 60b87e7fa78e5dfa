import PortoWire

/// Volume space and inodes (docs/porto.md §6): one `GetVolume` for every volume visible to the
/// exporter, or `ListVolumes` on a portod without GetVolume (before 4.15; InvalidMethod, kept for
/// the connection). Volumes are listed once per link path: deduplicated by id, keeping the first
/// path in sorted order.
struct VolumesCollector: Collector {
    let name = "volumes"

    struct Volume: Sendable {
        var path: String
        var id: String
        var backend: String
        var state: String
        var ownerContainer: String
        var place: String
        var space: Porto_TVolumeResource?
        var inodes: Porto_TVolumeResource?
    }

    func collect(_ context: CollectContext, into writer: ExpositionWriter) throws(PortoError) {
        Self.write(try read(context), into: writer)
    }

    func read(_ context: CollectContext) throws(PortoError) -> [Volume] {
        if !context.connection.uses(.volumes, connection: context.transport.connectionGeneration) {
            var request = Porto_TPortoRequest()
            request.getVolume = Porto_TGetVolumeRequest()
            do throws(PortoError) {
                return try context.call(request, fallsBack: true).getVolume.volume.map { spec in
                    Volume(
                        path: spec.path, id: spec.id, backend: spec.backend, state: spec.state,
                        ownerContainer: spec.ownerContainer, place: spec.place,
                        space: spec.hasSpace ? spec.space : nil, inodes: spec.hasInodes ? spec.inodes : nil)
                }
            } catch {
                guard case .porto(.invalidMethod, _) = error else { throw error }
                context.connection.use(.volumes, connection: context.transport.connectionGeneration)
                context.note("volumes-listvolumes", "portod has no GetVolume (older than 4.15): reading volumes with ListVolumes")
            }
        }
        var request = Porto_TPortoRequest()
        request.listVolumes = Porto_TListVolumesRequest()
        return try context.call(request).listVolumes.volumes.map(Self.volume(fromLegacy:))
    }

    /// A ListVolumes description (string properties) as the same figures.
    static func volume(fromLegacy d: Porto_TVolumeDescription) -> Volume {
        let p = d.properties
        func resource(_ usage: String, _ limit: String, _ available: String) -> Porto_TVolumeResource? {
            var r = Porto_TVolumeResource()
            var any = false
            if let v = p[usage].flatMap(LegacyValueParser.uint) { r.usage = v; any = true }
            if let v = p[limit].flatMap(LegacyValueParser.uint) { r.limit = v; any = true }
            if let v = p[available].flatMap(LegacyValueParser.uint) { r.available = v; any = true }
            return any ? r : nil
        }
        return Volume(
            path: d.path, id: p["id"] ?? d.path, backend: p["backend"] ?? "", state: p["state"] ?? "",
            ownerContainer: p["owner_container"] ?? "", place: p["place"] ?? "",
            space: resource("space_used", "space_limit", "space_available"),
            inodes: resource("inode_used", "inode_limit", "inode_available"))
    }

    static func write(_ volumes: [Volume], into writer: ExpositionWriter) {
        let sorted = volumes.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
        var seenIDs = Set<String>()
        var seenPaths = Set<String>()
        for v in sorted {
            guard seenIDs.insert(v.id.isEmpty ? v.path : v.id).inserted, seenPaths.insert(v.path).inserted else { continue }
            writer.gauge(VolumeMetrics.info, labels: Labels([
                "path": v.path, "backend": v.backend, "owner_container": v.ownerContainer, "place": v.place,
            ]), value: .uint(1))
            let labels = Labels(["path": v.path])
            if !v.state.isEmpty {
                for state in VolumeMetrics.states {
                    writer.gauge(VolumeMetrics.state, labels: labels, extra: state, value: .bool(state == v.state))
                }
                if !VolumeMetrics.states.contains(v.state) {
                    writer.gauge(VolumeMetrics.state, labels: labels, extra: v.state, value: .uint(1))
                }
            }
            for metric in VolumeMetrics.all {
                if let value = metric.read(v) { writer.gauge(metric.family, labels: labels, value: .uint(value)) }
            }
        }
    }
}
