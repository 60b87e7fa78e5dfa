import PortoWire

extension SimHost {
    /// One entry per link (a volume linked at two paths appears twice); a volume without links
    /// appears once under its own path.
    private func volumeEntries(path: String?, container: String?) -> [(SimVolume, SimVolume.Link?, String)] {
        var out: [(SimVolume, SimVolume.Link?, String)] = []
        for volume in volumes {
            let entries: [(SimVolume.Link?, String)] =
                volume.links.isEmpty ? [(nil, volume.path)] : volume.links.map { ($0, $0.hostTarget) }
            for (link, at) in entries {
                if let path, !path.isEmpty, !(SimMask.isMask(path) ? SimMask.matches(at, mask: path) : at == path) { continue }
                if let container, !container.isEmpty, container != "self", link?.container != container { continue }
                out.append((volume, link, at))
            }
        }
        return out
    }

    func listVolumes(_ req: Porto_TListVolumesRequest, now: UInt64) -> Porto_TListVolumesResponse {
        var r = Porto_TListVolumesResponse()
        r.volumes = volumeEntries(path: req.hasPath ? req.path : nil, container: req.hasContainer ? req.container : nil).map { volume, _, at in
            let (used, available, inodesUsed, inodesAvailable) = volume.usage(now: now, start: topology.start)
            var d = Porto_TVolumeDescription()
            d.path = at
            d.properties = [
                "id": volume.id, "backend": volume.backend, "state": "ready", "ready": "true",
                "space_used": String(used), "space_available": String(available),
                "inode_used": String(inodesUsed), "inode_available": String(inodesAvailable),
                "space_limit": String(volume.spaceLimit), "inode_limit": String(volume.inodeLimit),
                "space_guarantee": String(volume.spaceGuarantee), "inode_guarantee": "0",
                "owner_container": volume.ownerContainer, "owner_user": volume.ownerUser,
                "owner_group": volume.ownerGroup, "user": volume.ownerUser, "group": volume.ownerGroup,
                "permissions": "0775", "creator": "\(volume.ownerContainer) \(volume.ownerUser) \(volume.ownerGroup)",
                "storage": volume.storage, "place": volume.place, "layers": volume.layers.joined(separator: ";"),
                "read_only": "false", "private": "", "build_time": SimLegacyFormat.time(volume.buildTime),
                "change_time": SimLegacyFormat.time(volume.buildTime),
            ]
            d.containers = volume.links.map(\.container)
            d.links = volume.links.map { l in
                var link = Porto_TVolumeLink()
                link.container = l.container
                link.target = l.target
                link.readOnly = l.readOnly
                link.required = l.required
                return link
            }
            d.changeTime = volume.buildTime
            return d
        }
        return r
    }

    func getVolume(_ req: Porto_TGetVolumeRequest, now: UInt64) -> Porto_TGetVolumeResponse {
        var entries = volumeEntries(path: nil, container: req.hasContainer ? req.container : nil)
        if !req.path.isEmpty { entries = entries.filter { req.path.contains($0.2) } }
        var r = Porto_TGetVolumeResponse()
        r.volume = entries.map { volume, _, at in
            let (used, available, inodesUsed, inodesAvailable) = volume.usage(now: now, start: topology.start)
            var s = Porto_TVolumeSpec()
            s.path = at
            s.id = volume.id
            s.state = "ready"
            s.backend = volume.backend
            s.place = volume.place
            if !volume.storage.isEmpty { s.storage = volume.storage }
            s.layers = volume.layers
            s.readOnly = false
            var cred = Porto_TCred()
            cred.user = volume.ownerUser
            cred.group = volume.ownerGroup
            s.cred = cred
            s.owner = cred
            s.permissions = 0o775
            s.ownerContainer = volume.ownerContainer
            s.creator = "\(volume.ownerContainer) \(volume.ownerUser) \(volume.ownerGroup)"
            s.autoPath = volume.path.hasPrefix("/place/porto_volumes/")
            s.buildTime = volume.buildTime
            s.changeTime = volume.buildTime
            var space = Porto_TVolumeResource()
            space.limit = volume.spaceLimit
            if volume.spaceGuarantee > 0 { space.guarantee = volume.spaceGuarantee }
            space.usage = used
            space.available = available
            s.space = space
            var inodes = Porto_TVolumeResource()
            inodes.limit = volume.inodeLimit
            inodes.usage = inodesUsed
            inodes.available = inodesAvailable
            s.inodes = inodes
            s.links = volume.links.map { l in
                var link = Porto_TVolumeLink()
                link.container = l.container
                link.target = l.target
                link.readOnly = l.readOnly
                link.required = l.required
                link.hostTarget = l.hostTarget
                return link
            }
            return s
        }
        return r
    }

    private static let layers: [(String, String, UInt64)] = [
        ("app-web", "www-data", 120), ("base-2024", "root", 86_400 * 40), ("ubuntu-jammy", "root", 5),
        ("debug-tools", "svc", 86_400 * 3),
    ]

    private static func placeIsKnown(_ place: String?) -> Bool {
        place == nil || place == "" || place == "/place"
    }

    func listLayers(_ req: Porto_TListLayersRequest, now: UInt64) -> Porto_TListLayersResponse {
        var r = Porto_TListLayersResponse()
        guard Self.placeIsKnown(req.hasPlace ? req.place : nil) else { return r }
        for (name, owner, idle) in Self.layers where !req.hasMask || SimMask.matches(name, mask: req.mask) {
            r.layer.append(name)
            var layer = Porto_TLayer()
            layer.name = name
            layer.ownerUser = owner
            layer.ownerGroup = owner
            layer.lastUsage = idle + (now - topology.start)
            layer.privateValue = ""
            r.layers.append(layer)
        }
        return r
    }

    func listStorages(_ req: Porto_TListStoragesRequest, now: UInt64) -> Porto_TListStoragesResponse {
        var r = Porto_TListStoragesResponse()
        guard Self.placeIsKnown(req.hasPlace ? req.place : nil) else { return r }
        let mask = req.hasMask ? req.mask : ""
        let metaOnly = mask.hasSuffix("/")
        if !metaOnly {
            for (name, idle) in [("db-data", UInt64(30)), ("cache/shard-1", UInt64(86_400))]
            where mask.isEmpty || SimMask.matches(name, mask: mask) {
                var s = Porto_TStorage()
                s.name = name
                s.ownerUser = "root"
                s.ownerGroup = "root"
                s.lastUsage = idle + (now - topology.start)
                s.privateValue = ""
                r.storages.append(s)
            }
        }
        let metaName = "cache"
        if mask.isEmpty || mask == metaName + "/" || (!metaOnly && SimMask.matches(metaName, mask: mask)) {
            let refreshes = (now - topology.start) / 60
            var m = Porto_TMetaStorage()
            m.name = metaName
            m.place = "/place"
            m.privateValue = ""
            m.spaceLimit = 100 << 30
            m.spaceUsed = min(m.spaceLimit, (37 << 30) + refreshes * (1 << 20))
            m.spaceAvailable = m.spaceLimit - m.spaceUsed
            m.inodeLimit = 10_000_000
            m.inodeUsed = 250_000
            m.inodeAvailable = m.inodeLimit - m.inodeUsed
            m.ownerUser = "root"
            m.ownerGroup = "root"
            m.lastUsage = 60
            r.metaStorages.append(m)
        }
        return r
    }
}
