import Testing
import PortoWire
@testable import PortoSim

/// Volumes, layers and storages (docs/porto.md §6).
@Suite struct SimHostVolumeTests {
    @Test func listVolumesWalksLinks() throws {
        var req = Porto_TPortoRequest()
        req.listVolumes = Porto_TListVolumesRequest()
        let volumes = try #require(Sim.host().respond(to: req)).listVolumes.volumes
        let ids = volumes.map { $0.properties["id"] ?? "" }
        #expect(ids.filter { $0 == "2" }.count == 2)
        #expect(Set(volumes.filter { $0.properties["id"] == "2" }.map(\.path)).count == 2)
        for v in volumes {
            for key in ["space_used", "space_available", "inode_used", "inode_available", "space_limit"] {
                #expect(UInt64(v.properties[key] ?? "") != nil, "\(v.path) \(key)")
            }
            #expect(v.properties["backend"] != nil && v.properties["state"] == "ready")
        }
    }

    @Test func getVolumeHasTypedResources() throws {
        var req = Porto_TPortoRequest()
        req.getVolume = Porto_TGetVolumeRequest()
        let volumes = try #require(Sim.host().respond(to: req)).getVolume.volume
        let quota = try #require(volumes.first { $0.id == "2" })
        #expect(quota.space.limit == 50 << 30)
        #expect(quota.space.hasGuarantee && quota.space.usage + quota.space.available == quota.space.limit)
        let overlay = try #require(volumes.first { $0.id == "1" })
        #expect(!overlay.space.hasGuarantee)
        #expect(overlay.links.first?.hostTarget == overlay.path)
    }

    @Test func volumeFiguresMoveOncePerMinute() throws {
        let clock = SimManualClock(epochSeconds: Sim.epoch)
        let host = Sim.host(clock: .manual(clock))
        var req = Porto_TPortoRequest()
        req.getVolume = Porto_TGetVolumeRequest()
        let first = try #require(host.respond(to: req)).getVolume.volume.first { $0.id == "1" }!.space.usage
        clock.advance(by: 59)
        #expect(try #require(host.respond(to: req)).getVolume.volume.first { $0.id == "1" }!.space.usage == first)
        clock.advance(by: 1)
        #expect(try #require(host.respond(to: req)).getVolume.volume.first { $0.id == "1" }!.space.usage > first)
    }

    @Test func layersAndStorages() throws {
        let host = Sim.host()
        var layers = Porto_TPortoRequest()
        var lreq = Porto_TListLayersRequest()
        lreq.mask = "ubuntu*"
        layers.listLayers = lreq
        let l = try #require(host.respond(to: layers)).listLayers
        #expect(l.layer == ["ubuntu-jammy"] && l.layers.first?.hasLastUsage == true)
        var storages = Porto_TPortoRequest()
        storages.listStorages = Porto_TListStoragesRequest()
        let all = try #require(host.respond(to: storages)).listStorages
        #expect(!all.storages.isEmpty && all.metaStorages.count == 1)
        let meta = try #require(all.metaStorages.first)
        #expect(meta.spaceUsed + meta.spaceAvailable == meta.spaceLimit)
        var metaOnly = Porto_TListStoragesRequest()
        metaOnly.mask = "cache/"
        storages.listStorages = metaOnly
        let m = try #require(host.respond(to: storages)).listStorages
        #expect(m.storages.isEmpty && m.metaStorages.count == 1)
    }
}
