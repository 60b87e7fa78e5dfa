import PortoWire

/// The fallback for portods without ListContainersBy (InvalidMethod, before 5.0): one
/// `Get ["***", "/"]` with the same properties (times as `name[raw]`), whose strings are parsed
/// into the same `TContainer` fields ListContainersBy fills; the collector serialises them and reads
/// them as it reads ListContainersBy's answer, so that one reading makes the same samples on both
/// paths.
enum LegacyContainerReader {
    /// The Get request for `properties` (ListContainersBy names).
    static func request(properties: [String]) -> Porto_TPortoRequest {
        var request = Porto_TPortoRequest()
        request.get.name = ["***", "/"]
        request.get.variable = properties.map(variable(for:))
        return request
    }

    /// The Get variable for a property: times in `[raw]` form (unix seconds, not local time).
    static func variable(for property: String) -> String {
        switch property {
        case "creation_time", "start_time", "death_time", "change_time": "\(property)[raw]"
        default: property
        }
    }

    /// Turns a Get answer into containers. Per-value errors (not available in this state, not
    /// supported, unknown property) and unparseable values leave the field unset. A container
    /// answered with ContainerDoesNotExist was destroyed between portod's listing and its read
    /// (docs/porto.md §1.3): it is left out, as ListContainersBy leaves it out.
    static func containers(from response: Porto_TGetResponse) -> [Porto_TContainer] {
        var unknown = Set<String>()
        return containers(from: response, unknownProperties: &unknown)
    }

    /// ``containers(from:)``, also telling the variables portod answered `InvalidProperty`
    /// (properties an older portod does not know), as property names.
    static func containers(from response: Porto_TGetResponse, unknownProperties: inout Set<String>) -> [Porto_TContainer] {
        var undecodable: [String: String] = [:]
        return containers(from: response, unknownProperties: &unknownProperties, undecodable: &undecodable)
    }

    /// ``containers(from:unknownProperties:)``, also telling the properties whose value could not
    /// be read (not empty, and not in the form the property has), with one such value each.
    static func containers(
        from response: Porto_TGetResponse, unknownProperties: inout Set<String>, undecodable: inout [String: String]
    ) -> [Porto_TContainer] {
        var result: [Porto_TContainer] = []
        result.reserveCapacity(response.list.count)
        for entry in response.list {
            if entry.keyval.contains(where: { $0.hasError && $0.error == .containerDoesNotExist }) { continue }
            var container = Porto_TContainer()
            container.spec.name = entry.name
            for keyval in entry.keyval {
                if keyval.hasError, keyval.error == .invalidProperty {
                    unknownProperties.insert(keyval.variable.hasSuffix("[raw]") ? String(keyval.variable.dropLast(5)) : keyval.variable)
                }
                if keyval.hasError, keyval.error != .success { continue }
                guard keyval.hasValue else { continue }
                var property = keyval.variable
                if property.hasSuffix("[raw]") { property = String(property.dropLast(5)) }
                if !decode(property: property, value: keyval.value, into: &container), !keyval.value.isEmpty,
                   undecodable[property] == nil {
                    undecodable[property] = keyval.value
                }
            }
            result.append(container)
        }
        markInheritedCgroups(&result)
        return result
    }

    /// Sets the field(s) of `property` from its Get string; false when the value could not be
    /// read (the field stays unset).
    @discardableResult
    static func decode(property: String, value: String, into c: inout Porto_TContainer) -> Bool {
        switch property {
        case "cgroups":
            guard let entries = LegacyValueParser.stringMap(value) else { return false }
            var cgroups = Porto_TContainerCgroups()
            for (controller, path) in entries {
                var cg = Porto_TContainerCgroup()
                cg.controller = controller
                cg.path = path
                cgroups.cgroup.append(cg)
            }
            c.status.cgroups = cgroups
            return true
        case "net":
            // "inherited", "host", "L3 eth0", "none", ...: only the first word matters to us.
            var net = Porto_TContainerNetConfig()
            var option = Porto_TContainerNetOption()
            let words = value.split(separator: " ", omittingEmptySubsequences: true)
            option.opt = words.first.map(String.init) ?? ""
            option.arg = words.dropFirst().map(String.init)
            net.cfg = [option]
            if option.opt == "inherited" { net.inherited = true }
            c.spec.net = net
            return true
        case "labels":
            guard let entries = LegacyValueParser.stringMap(value) else { return false }
            var labels = Porto_TStringMap()
            labels.map = entries.map { key, value in
                var e = Porto_TStringMap.TStringMapEntry()
                e.key = key
                e.val = value
                return e
            }
            c.spec.labels = labels
            return true
        case "state":
            if !value.isEmpty { c.status.state = value }
            return true
        case "start_error":
            // "InvalidCommand:(message)": only the error's name is kept.
            let errorName = value.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
            guard !errorName.isEmpty else { return false }
            var error = Porto_TError()
            error.error = Porto_EError(portoName: errorName) ?? .unknown
            c.status.startError = error
            return true
        case "creation_time", "start_time", "death_time", "change_time":
            guard let v = LegacyValueParser.uint(value) else { return false }
            switch property {
            case "creation_time": c.status.creationTime = v
            case "start_time": c.status.startTime = v
            case "death_time": c.status.deathTime = v
            default: c.status.changeTime = v
            }
            return true
        default:
            break
        }
        guard let field = fieldsByProperty[property] else { return true }  // not one of ours
        switch field {
        case .status(_, let path):
            guard let v = LegacyValueParser.uint(value) else { return false }
            c.status[keyPath: path] = v
        case .spec(_, let path):
            guard let v = LegacyValueParser.uint(value) else { return false }
            c.spec[keyPath: path] = v
        case .statusCores(_, let path):
            guard let v = LegacyValueParser.cores(value) else { return false }
            c.status[keyPath: path] = v
        case .specCores(_, let path):
            guard let v = LegacyValueParser.cores(value) else { return false }
            c.spec[keyPath: path] = v
        case .statusInt(_, let path):
            guard let v = LegacyValueParser.int32(value) else { return false }
            c.status[keyPath: path] = v
        case .statusBool(_, let path):
            guard let v = LegacyValueParser.bool(value) else { return false }
            c.status[keyPath: path] = v
        case .map(_, let path):
            guard let entries = LegacyValueParser.uintMap(value) else { return false }
            var map = Porto_TUintMap()
            map.map = entries.map { key, value in
                var e = Porto_TUintMap.TUintMapEntry()
                e.key = key
                e.val = value
                return e
            }
            c.status[keyPath: path] = map
        case .vm:
            guard let entries = LegacyValueParser.uintMap(value) else { return false }
            var vm = Porto_TVmStat()
            for (key, v) in entries {
                if let path = vmKeys[key] { vm[keyPath: path] = v }
            }
            c.status.virtualMemory = vm
        case .state:
            c.status.state = value
        case .startFailed, .startErrorName, .controllerOwners:
            break  // start_error and cgroups are decoded above
        }
        return true
    }

    /// Get does not say which cgroups are inherited; ListContainersBy does (`inherited=true`).
    /// A controller is inherited exactly when the container's cgroup for it is its parent's
    /// (portod returns the nearest owning ancestor's cgroup), so compare with the parent.
    static func markInheritedCgroups(_ containers: inout [Porto_TContainer]) {
        var paths: [String: [String: String]] = [:]
        for c in containers where c.status.hasCgroups {
            var byController: [String: String] = [:]
            for cg in c.status.cgroups.cgroup { byController[cg.controller] = cg.path }
            paths[c.spec.name] = byController
        }
        for i in containers.indices where containers[i].status.hasCgroups {
            let name = containers[i].spec.name
            guard name != "/", let parent = paths[ContainerNames.parent(of: name)] else { continue }
            for j in containers[i].status.cgroups.cgroup.indices {
                let cg = containers[i].status.cgroups.cgroup[j]
                if parent[cg.controller] == cg.path {
                    containers[i].status.cgroups.cgroup[j].inherited = true
                }
            }
        }
    }

    /// The properties ``decode(property:value:into:)`` reads its own way, not by
    /// ``fieldsByProperty``.
    static let specialProperties: Set<String> = [
        "cgroups", "net", "labels", "state", "start_error", "creation_time", "start_time", "death_time", "change_time",
    ]

    /// Whether a Get variable is read its own way (``specialProperties``, or a `[raw]` time).
    static func isSpecial(_ variable: String) -> Bool {
        specialProperties.contains(variable) || variable.hasSuffix("[raw]")
    }

    /// The table's fields by property (one per property; virtual_memory's keys share one).
    static let fieldsByProperty: [String: ContainerField] = {
        var out: [String: ContainerField] = [:]
        for metric in ContainerMetrics.all where out[metric.property] == nil { out[metric.property] = metric.field }
        return out
    }()

    nonisolated(unsafe) static let vmKeys: [String: WritableKeyPath<Porto_TVmStat, UInt64>] = {
        var out: [String: WritableKeyPath<Porto_TVmStat, UInt64>] = [:]
        for metric in ContainerMetrics.all {
            if case .vm(_, let path, let key) = metric.field { out[key] = path }
        }
        return out
    }()
}

/// Container name arithmetic: parent and level follow from the name itself ("/" is level 0,
/// "a" level 1 with parent "/", "a/b" level 2 with parent "a").
enum ContainerNames {
    static func parent(of name: String) -> String {
        if name == "/" { return "" }
        guard let slash = name.utf8.lastIndex(of: UInt8(ascii: "/")) else { return "/" }
        return String(name[..<slash])
    }

    static func level(of name: String) -> Int {
        if name == "/" { return 0 }
        return name.utf8.reduce(1) { $1 == UInt8(ascii: "/") ? $0 + 1 : $0 }
    }
}
