import PortoWire

/// The number of layers in portod's default place (`ListLayers`).
struct LayersCollector: Collector {
    let name = "layers"

    func collect(_ context: CollectContext, into writer: ExpositionWriter) throws(PortoError) {
        var request = Porto_TPortoRequest()
        request.listLayers = Porto_TListLayersRequest()
        let response = try context.call(request).listLayers
        for metric in StorageMetrics.layerCounts {
            writer.gauge(metric.family, value: .uint(UInt64(metric.count(response))))
        }
    }
}
