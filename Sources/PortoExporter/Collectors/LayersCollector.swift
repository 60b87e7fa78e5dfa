import PortoWire

/// The number of layers in portod's default place (`ListLayers`).
struct LayersCollector: Collector {
    let name = "layers"

    func collect(_ context: CollectContext, into writer: ExpositionWriter) throws(PortoError) {
        var request = Porto_TPortoRequest()
        request.listLayers = Porto_TListLayersRequest()
        let response = try context.call(request).listLayers
        // `layers` (with descriptions) since 4.x; `layer` (names only) on older daemons.
        let count = response.layers.isEmpty ? response.layer.count : response.layers.count
        writer.gauge(StorageMetrics.layers, value: .uint(UInt64(count)))
    }
}
