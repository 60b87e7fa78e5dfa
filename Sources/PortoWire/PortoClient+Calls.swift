/// The typed calls for what an exporter reads. Each builds one request, sends it with
/// ``PortoClient/call(_:timeout:)`` (the client's default deadline) and returns the relevant part
/// of the response. They throw what `call` throws (``PortoError``).
///
/// A response that carries `Success` but not the expected field is read as an empty one, as
/// upstream's clients do (portod leaves a repeated field out when it has no entries).
extension PortoClient {
    /// `Version`: portod's version tag (e.g. "5.3.59") and revision (may be "", docs/porto.md §5.1).
    /// Cheap (about 0.09 ms); send it first to learn which requests the daemon knows (docs/porto.md §8).
    public func version() throws(PortoError) -> (tag: String, revision: String) {
        var request = Porto_TPortoRequest()
        request.version = Porto_TVersionRequest()
        let response = try call(request).version
        return (response.tag, response.revision)
    }

    /// `GetSystem`: daemon-wide counters and gauges (docs/porto.md §5.1). Counters survive portod
    /// restarts until reboot; `porto_uptime` and `master_uptime` are in seconds.
    ///
    /// - Throws: `.porto(.invalidMethod, …)` from portod older than 4.6.0, besides what
    ///   ``call(_:timeout:)`` throws.
    public func getSystem() throws(PortoError) -> Porto_TGetSystemResponse {
        var request = Porto_TPortoRequest()
        request.getSystem = Porto_TGetSystemRequest()
        return try call(request).getSystem
    }

    /// `List`: the names of the containers matching `mask` (all when nil), relative to the client's
    /// namespace. Never includes the root container "/" (docs/porto.md §2.3).
    ///
    /// - Parameter mask: `***` matches everything, `a/*` a's children; see docs/porto.md §2.2.
    public func list(mask: String? = nil) throws(PortoError) -> [String] {
        var request = Porto_TPortoRequest()
        request.list = Porto_TListRequest()
        if let mask { request.list.mask = mask }
        return try call(request).list.name
    }

    /// `Get`: the values of `variables` (properties, as strings in portod's legacy formats,
    /// docs/porto.md §3.1) for the containers `names` (names or masks).
    ///
    /// Per-value failures do not fail the call: each `(container, variable)` entry carries its own
    /// `error` and `errorMsg` (a missing `error` there means success); a container that does not
    /// exist gives `ContainerDoesNotExist` on every variable. A mask such as `***` never includes
    /// "/": ask for "/" by name (docs/porto.md §2.3).
    ///
    /// - Parameters:
    ///   - sync: refresh cached counters first.
    ///   - real: read the container's own values rather than inherited ones (docs/porto.md §4).
    ///   - nonblock: accepted and ignored by portod 5.3.59 (docs/porto.md §1.5).
    public func get(names: [String], variables: [String], sync: Bool = false, real: Bool = false,
                    nonblock: Bool = false) throws(PortoError) -> Porto_TGetResponse {
        var request = Porto_TPortoRequest()
        request.get = Porto_TGetRequest()
        request.get.name = names
        request.get.variable = variables
        if sync { request.get.sync = true }
        if real { request.get.real = true }
        if nonblock { request.get.nonblock = true }
        return try call(request).get
    }

    /// `ListContainersBy` (portod 5.0.0 and later): the containers matching any of `filters`, with
    /// only `properties` filled in, as typed `spec`/`status` fields (docs/porto.md §3.1).
    ///
    /// - A filter whose `name` is empty or unset is sent with `name = "***"`: portod requires the
    ///   field and closes the connection without a reply when it is missing (docs/porto.md §0).
    /// - portod walks its containers in name order and puts each one in the answer once, if it
    ///   matches any filter (name mask and all of the filter's labels). With filter `***` the root
    ///   container "/" comes first (docs/porto.md §2.3); `*` does not match "/".
    /// - An empty `filters` list matches nothing: portod answers with no containers (docs/porto.md
    ///   §2.3). The default, `[.all]`, asks for every container.
    /// - A filter that matched nothing adds a container named after it, with
    ///   `error = ContainerDoesNotExist`. Unknown property names add an `InvalidProperty` entry to
    ///   every container's `status.error`. An unavailable value is simply left out.
    /// - An empty `properties` list asks for *all* properties, about twice the time and ten times
    ///   the bytes (docs/porto.md §7).
    ///
    /// - Throws: `.porto(.invalidMethod, …)` from portod older than 5.0, besides what
    ///   ``call(_:timeout:)`` throws.
    public func listContainersBy(filters: [Porto_TListContainersFilter] = [.all],
                                 properties: [String]) throws(PortoError) -> [Porto_TContainer] {
        var request = Porto_TPortoRequest()
        request.listContainersBy = Porto_TListContainersRequest()
        request.listContainersBy.filters = filters.map { filter in
            var filter = filter
            if filter.name.isEmpty { filter.name = "***" }
            return filter
        }
        request.listContainersBy.fieldOptions.properties = properties
        return try call(request).listContainersBy.containers
    }

    /// `ListProperties`: the container properties this portod supports, with `read_only` and
    /// `dynamic` flags. Properties the kernel cannot support are left out, so call it once per
    /// connection to pick the property set (docs/porto.md §3.1).
    public func listProperties() throws(PortoError) -> [Porto_TListPropertiesResponse.TContainerPropertyListEntry] {
        var request = Porto_TPortoRequest()
        request.listProperties = Porto_TListPropertiesRequest()
        return try call(request).listProperties.list
    }

    /// `ListVolumes`: the volumes linked under the client's root, with their legacy string
    /// properties (`space_used`, `backend`, `state`, …). A volume linked at several paths appears
    /// once per link: deduplicate by the `id` property. Usage figures are cached by portod and can
    /// be up to a minute old (docs/porto.md §6).
    ///
    /// - Parameters:
    ///   - path: a volume path or wildcard; all when nil.
    ///   - container: list the volumes linked into this container.
    public func listVolumes(path: String? = nil, container: String? = nil) throws(PortoError) -> [Porto_TVolumeDescription] {
        var request = Porto_TPortoRequest()
        request.listVolumes = Porto_TListVolumesRequest()
        if let path { request.listVolumes.path = path }
        if let container { request.listVolumes.container = container }
        return try call(request).listVolumes.volumes
    }

    /// `GetVolume`: typed volume descriptions (`TVolumeSpec`, with `space` and `inodes` as
    /// limit/usage/available). Same per-link enumeration and cached usage as ``listVolumes(path:container:)``.
    ///
    /// - Parameters:
    ///   - paths: volume paths as seen in `container`; all when empty.
    ///   - container: the container whose view is used; the client's own container when nil.
    public func getVolume(paths: [String] = [], container: String? = nil) throws(PortoError) -> [Porto_TVolumeSpec] {
        var request = Porto_TPortoRequest()
        request.getVolume = Porto_TGetVolumeRequest()
        request.getVolume.path = paths
        if let container { request.getVolume.container = container }
        return try call(request).getVolume.volume
    }

    /// `ListLayers`: the layers in `place` (the client container's default place when nil) whose
    /// names match `mask`. `layers[].last_usage` is seconds since last use (docs/porto.md §6).
    public func listLayers(place: String? = nil, mask: String? = nil) throws(PortoError) -> Porto_TListLayersResponse {
        var request = Porto_TPortoRequest()
        request.listLayers = Porto_TListLayersRequest()
        if let place { request.listLayers.place = place }
        if let mask { request.listLayers.mask = mask }
        return try call(request).listLayers
    }

    /// `ListStorages`: the storages in `place` matching `mask`; a mask ending in "/" (`name/`)
    /// selects meta storages, whose space and inode figures are read live (docs/porto.md §6).
    public func listStorages(place: String? = nil, mask: String? = nil) throws(PortoError) -> Porto_TListStoragesResponse {
        var request = Porto_TPortoRequest()
        request.listStorages = Porto_TListStoragesRequest()
        if let place { request.listStorages.place = place }
        if let mask { request.listStorages.mask = mask }
        return try call(request).listStorages
    }
}

extension Porto_TListContainersFilter {
    /// The filter `***`: every container the client can see, the root "/" included (first).
    public static var all: Porto_TListContainersFilter {
        var filter = Porto_TListContainersFilter()
        filter.name = "***"
        return filter
    }
}
