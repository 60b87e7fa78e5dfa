import PortoWire
@testable import PortoSim

/// Request builders and readers shared by the SimHost tests.
enum Sim {
    static let epoch: UInt64 = 1_800_000_000

    static func host(
        containers: Int = 40, seed: UInt64 = 1, churn: Bool = false, legacy: Bool = false, noGetSystem: Bool = false,
        clock: SimClock? = nil
    ) -> SimHost {
        SimHost(options: SimOptions(containers: containers, seed: seed, churn: churn, legacy: legacy, noGetSystem: noGetSystem,
                                    clock: clock ?? .fixed(epochSeconds: epoch)))
    }

    static func lcbRequest(_ filters: [String], _ properties: [String]) -> Porto_TPortoRequest {
        var req = Porto_TPortoRequest()
        var lcb = Porto_TListContainersRequest()
        lcb.filters = filters.map { name in
            var f = Porto_TListContainersFilter()
            f.name = name
            return f
        }
        lcb.fieldOptions.properties = properties
        req.listContainersBy = lcb
        return req
    }

    static func lcb(_ host: SimHost, _ filters: [String] = ["***"], _ properties: [String]) -> [Porto_TContainer] {
        host.respond(to: lcbRequest(filters, properties))?.listContainersBy.containers ?? []
    }

    static func getRequest(_ names: [String], _ variables: [String], real: Bool = false) -> Porto_TPortoRequest {
        var req = Porto_TPortoRequest()
        var get = Porto_TGetRequest()
        get.name = names
        get.variable = variables
        if real { get.real = true }
        req.get = get
        return req
    }

    static func get(_ host: SimHost, _ names: [String], _ variables: [String], real: Bool = false) -> Porto_TGetResponse {
        host.respond(to: getRequest(names, variables, real: real))?.get ?? Porto_TGetResponse()
    }

    /// One value (or error) of one container through Get.
    static func value(_ host: SimHost, _ name: String, _ variable: String, real: Bool = false) -> Porto_TGetResponse.TContainerGetValueResponse? {
        get(host, [name], [variable], real: real).list.first?.keyval.first
    }

    static func list(_ host: SimHost, mask: String? = nil) -> [String] {
        var req = Porto_TPortoRequest()
        var list = Porto_TListRequest()
        if let mask { list.mask = mask }
        req.list = list
        return host.respond(to: req)?.list.name ?? []
    }

    static func getSystem(_ host: SimHost) -> Porto_TGetSystemResponse {
        var req = Porto_TPortoRequest()
        req.getSystem = Porto_TGetSystemRequest()
        return host.respond(to: req)?.getSystem ?? Porto_TGetSystemResponse()
    }

    /// name → state, through LCB.
    static func states(_ host: SimHost) -> [String: String] {
        var out: [String: String] = [:]
        for c in lcb(host, ["***"], ["state"]) { out[c.spec.name] = c.status.state }
        return out
    }
}

extension Porto_TUintMap {
    var dictionary: [String: UInt64] {
        var out: [String: UInt64] = [:]
        for e in map { out[e.key] = e.val }
        return out
    }
}
