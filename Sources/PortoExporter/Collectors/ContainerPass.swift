/// What the ListContainersBy pass learnt of each container it wrote, in the order written, for
/// the requests that follow it in the same collection (memory.stat, the slower groups).
final class ContainerPass {
    struct Entry {
        let name: String
        let labels: Labels
        /// ``ContainersCollector/inheritedMask(_:_:)``.
        let inherited: UInt8
        /// `start_time`, when asked and answered.
        let startTime: UInt64?
        /// The times of `_created` the pass used (nil: `_created` is off).
        let created: LaterTimes.Times?
        /// `memory_usage`, when asked and answered (a container with runtime values).
        let memoryUsage: UInt64?

        var ownsMemory: Bool { inherited & ContainersCollector.bit("memory") == 0 }
    }

    private(set) var entries: [Entry] = []

    func note(
        _ name: String, labels: Labels, inherited: UInt8, startTime: UInt64?,
        created: (start: UInt64?, creation: UInt64?, cgroup: UInt64?)?, memoryUsage: UInt64?
    ) {
        entries.append(Entry(
            name: name, labels: labels, inherited: inherited, startTime: startTime,
            created: created.map { LaterTimes.Times(start: $0.start, creation: $0.creation, cgroup: $0.cgroup) },
            memoryUsage: memoryUsage))
    }
}

/// The `_created` times of containers written after the pass, as the pass worked them out.
final class LaterTimes: Sendable {
    struct Times: Sendable {
        let start: UInt64?
        let creation: UInt64?
        let cgroup: UInt64?
    }

    let times: [String: Times]

    init(_ times: [String: Times]) { self.times = times }
}
