import PortoWire

/// What a property's value closure sees: the world of this tick and one container in it.
struct SimContext {
    let world: SimWorld
    let i: Int

    var c: SimContainer { world.containers[i] }
    var now: UInt64 { world.now }
    var isRoot: Bool { i == 0 }

    /// The value of `slot` read through `controller`: the container's own cgroup when it owns the
    /// controller, otherwise its nearest owning ancestor's (the double-count trap, docs/porto.md §4).
    @inline(__always)
    func read(_ controller: SimControllers, _ slot: Int) -> UInt64 {
        world.value(world.owner(of: i, controller), slot)
    }
}

/// A `TContainer` being filled for ListContainersBy: spec and status are built as locals and put
/// into the container once, so that protobuf storage is never copied per field.
struct SimLCBBuilder {
    var spec = Porto_TContainerSpec()
    var status = Porto_TContainerStatus()
    var hasStatus = false
}

/// One container property as portod 5.3.59 serves it (docs/porto.md §3).
///
/// Immutable; its closures capture only key paths and constants, hence `@unchecked Sendable`.
final class SimProperty: @unchecked Sendable {
    /// Availability rules of docs/porto.md §3.2.
    enum Availability {
        /// Readable in every state.
        case any
        /// Runtime only: `InvalidState` in stopped and starting.
        case runtime
        /// Dead only: `InvalidState` in every other state (respawning included).
        case deadOnly
        /// The kernel of the synthetic host cannot support it: `NotSupported`, left out of
        /// ListProperties and of ListContainersBy.
        case unsupported
    }

    typealias Fill = (inout SimLCBBuilder, SimValue) -> Void

    let name: String
    let desc: String
    let readOnly: Bool
    let availability: Availability
    /// With `real=true`, the container must own one of these (if any) or gets `NoValue`
    /// "Controllers is disabled".
    let controllers: SimControllers
    /// For settable properties: whether the value was set explicitly; with `real=true` an unset
    /// one gets `NoValue` "Property not set".
    let isSet: ((SimContext) -> Bool)?
    /// Network properties: with `real=true`, a container sharing its parent's netns gets
    /// `ResourceNotAvailable` "Shared network".
    let isNetwork: Bool
    let value: (SimContext) -> SimValue
    /// Puts the value into a TContainer; nil when ListContainersBy never fills this property.
    let fill: Fill?
    /// The one field `fill` sets, for the byte encoder (``SimLCBEncoder``); nil with `fill`.
    let field: SimField?

    init(
        _ name: String, _ desc: String, readOnly: Bool = true, _ availability: Availability = .any,
        controllers: SimControllers = [], isSet: ((SimContext) -> Bool)? = nil, isNetwork: Bool = false,
        fill: SimFill?, value: @escaping (SimContext) -> SimValue
    ) {
        self.name = name
        self.desc = desc
        self.readOnly = readOnly
        self.availability = availability
        self.controllers = controllers
        self.isSet = isSet
        self.isNetwork = isNetwork
        self.value = value
        self.fill = fill?.apply
        self.field = fill?.field
    }

    /// The value for `Get`, with the availability rules and `real` semantics applied; errors are
    /// returned as `.error`.
    func getValue(_ ctx: SimContext, real: Bool) -> SimValue {
        let c = ctx.c
        switch availability {
        case .any: break
        case .runtime:
            if !c.hasRuntime { return .error(.invalidState, "\(name) is not available in \(c.state.rawValue) state") }
        case .deadOnly:
            if c.state != .dead { return .error(.invalidState, "\(name) available only in dead state") }
        case .unsupported:
            return .error(.notSupported, "\(name) is not supported")
        }
        if real {
            if !controllers.isEmpty && !c.hasRuntime {
                return .error(.invalidState, "\(name) is not available in \(c.state.rawValue) state")
            }
            if !controllers.isEmpty && c.controllers.intersection(controllers).isEmpty && !ctx.isRoot {
                return .error(.noValue, "Controllers is disabled")
            }
            if isNetwork && !ctx.isRoot && ctx.world.netOwner[ctx.i] != ctx.i && ctx.world.netOwner[ctx.i] != 0 {
                return .error(.resourceNotAvailable, "Shared network")
            }
            if let isSet, !isSet(ctx) { return .error(.noValue, "Property not set") }
        }
        return value(ctx)
    }

    /// The value for ListContainersBy: nil when the field must be left out.
    func lcbValue(_ ctx: SimContext) -> SimValue? {
        guard fill != nil else { return nil }
        switch availability {
        case .any: break
        case .runtime: if !ctx.c.hasRuntime { return nil }
        case .deadOnly: if ctx.c.state != .dead { return nil }
        case .unsupported: return nil
        }
        let v = value(ctx)
        switch v {
        case .none, .error: return nil
        default: return v
        }
    }
}

// MARK: - Fill helpers

/// How a property is put into a `TContainer`: the closure that sets it on the messages, and the
/// field it sets (number probed from the generated code, so the two cannot disagree).
struct SimFill {
    let apply: SimProperty.Fill
    let field: SimField

    /// A fill written by hand; `kp` names the field it sets, `probe` is any value of that field.
    /// With the default kind the byte encoder runs `apply` on a scratch message.
    static func custom<V>(
        status kp: WritableKeyPath<Porto_TContainerStatus, V>, probe: V, kind: SimField.Kind = .custom,
        _ apply: @escaping SimProperty.Fill
    ) -> SimFill {
        SimFill(apply: apply, field: SimField(.status, SimField.number(status: kp, probe), kind))
    }

    static func custom<V>(
        spec kp: WritableKeyPath<Porto_TContainerSpec, V>, probe: V, kind: SimField.Kind = .custom,
        _ apply: @escaping SimProperty.Fill
    ) -> SimFill {
        SimFill(apply: apply, field: SimField(.spec, SimField.number(spec: kp, probe), kind))
    }
}

extension SimProperty {
    static func status(_ kp: WritableKeyPath<Porto_TContainerStatus, UInt64>) -> SimFill {
        .custom(status: kp, probe: 0, kind: .uint64(acceptsTime: true)) { b, v in
            switch v {
            case .uint(let x), .time(let x): b.status[keyPath: kp] = x; b.hasStatus = true
            default: break
            }
        }
    }
    static func status(_ kp: WritableKeyPath<Porto_TContainerStatus, UInt32>) -> SimFill {
        .custom(status: kp, probe: 0, kind: .uint32) { b, v in
            if case .uint(let x) = v { b.status[keyPath: kp] = UInt32(truncatingIfNeeded: x); b.hasStatus = true }
        }
    }
    static func status(_ kp: WritableKeyPath<Porto_TContainerStatus, Int32>) -> SimFill {
        .custom(status: kp, probe: 0, kind: .int32) { b, v in
            if case .int(let x) = v { b.status[keyPath: kp] = Int32(truncatingIfNeeded: x); b.hasStatus = true }
        }
    }
    static func status(_ kp: WritableKeyPath<Porto_TContainerStatus, Bool>) -> SimFill {
        .custom(status: kp, probe: false, kind: .bool) { b, v in
            if case .bool(let x) = v { b.status[keyPath: kp] = x; b.hasStatus = true }
        }
    }
    static func status(_ kp: WritableKeyPath<Porto_TContainerStatus, String>) -> SimFill {
        .custom(status: kp, probe: "", kind: .string) { b, v in
            if case .string(let x) = v { b.status[keyPath: kp] = x; b.hasStatus = true }
        }
    }
    static func status(_ kp: WritableKeyPath<Porto_TContainerStatus, Double>) -> SimFill {
        .custom(status: kp, probe: 0, kind: .double) { b, v in
            if case .cores(let x) = v { b.status[keyPath: kp] = x; b.hasStatus = true }
        }
    }
    static func status(_ kp: WritableKeyPath<Porto_TContainerStatus, Porto_TUintMap>) -> SimFill {
        .custom(status: kp, probe: Porto_TUintMap(), kind: .uintMap) { b, v in
            if case .uintMap = v { b.status[keyPath: kp] = v.uintMapValue; b.hasStatus = true }
        }
    }
    static func spec(_ kp: WritableKeyPath<Porto_TContainerSpec, UInt64>) -> SimFill {
        .custom(spec: kp, probe: 0, kind: .uint64(acceptsTime: false)) { b, v in
            if case .uint(let x) = v { b.spec[keyPath: kp] = x }
        }
    }
    static func spec(_ kp: WritableKeyPath<Porto_TContainerSpec, Int64>) -> SimFill {
        .custom(spec: kp, probe: 0, kind: .int64) { b, v in
            if case .int(let x) = v { b.spec[keyPath: kp] = x }
        }
    }
    static func spec(_ kp: WritableKeyPath<Porto_TContainerSpec, Bool>) -> SimFill {
        .custom(spec: kp, probe: false, kind: .bool) { b, v in
            if case .bool(let x) = v { b.spec[keyPath: kp] = x }
        }
    }
    static func spec(_ kp: WritableKeyPath<Porto_TContainerSpec, String>) -> SimFill {
        .custom(spec: kp, probe: "", kind: .string) { b, v in
            if case .string(let x) = v { b.spec[keyPath: kp] = x }
        }
    }
    static func spec(_ kp: WritableKeyPath<Porto_TContainerSpec, Double>) -> SimFill {
        .custom(spec: kp, probe: 0, kind: .double) { b, v in
            if case .cores(let x) = v { b.spec[keyPath: kp] = x }
        }
    }
    static func spec(_ kp: WritableKeyPath<Porto_TContainerSpec, Porto_TUintMap>) -> SimFill {
        .custom(spec: kp, probe: Porto_TUintMap(), kind: .uintMap) { b, v in
            if case .uintMap = v { b.spec[keyPath: kp] = v.uintMapValue }
        }
    }
}
