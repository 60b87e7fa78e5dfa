import Synchronization

/// When each container's cgroups were made, for the `_created` of cgroup counters
/// (docs/porto.md §3.4): a stop and start makes new cgroups (counters from 0), a respawn keeps
/// them (counters carry on), and both move `start_time`. portod gives no "cgroups created" time,
/// so it is followed from one collection to the next:
///
/// * a container seen with `respawn_count` 0 has never respawned: its cgroups date from `start_time`;
/// * a new `start_time` with a higher `respawn_count` is a respawn: the time stays;
/// * any other new `start_time` is a stop and start: the new `start_time`;
/// * a container first seen after respawns, whose cgroups may be older than its `start_time`,
///   gets no `_created` until its next stop and start (unknown is left out, never guessed).
///
/// Collections are serialised by ``CollectorSet``; the mutex only makes that checkable.
final class CreatedTimes: Sendable {
    private struct Entry {
        var creation: UInt64?
        var start: UInt64
        var respawns: UInt64?
        var cgroups: UInt64?
        var generation: UInt64
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var generation: UInt64 = 0
    }

    private let state = Mutex(State())

    func beginCollection() {
        state.withLock { $0.generation &+= 1 }
    }

    /// Forgets the containers not seen in this collection (destroyed, or filtered out).
    func endCollection() {
        state.withLock { s in
            let generation = s.generation
            if s.entries.values.contains(where: { $0.generation != generation }) {
                s.entries = s.entries.filter { $0.value.generation == generation }
            }
        }
    }

    /// The time the container's current cgroups were made, or nil when unknown or never started.
    func cgroupTime(name: String, creation: UInt64?, start: UInt64?, respawns: UInt64?) -> UInt64? {
        guard let start else { return nil }
        return state.withLock { s in
            let generation = s.generation
            var cgroups: UInt64?
            if let old = s.entries[name], old.creation == creation {
                if old.start == start {
                    cgroups = old.cgroups
                } else if let r = respawns, let before = old.respawns, r > before {
                    cgroups = old.cgroups  // respawned: portod kept the cgroups
                } else {
                    cgroups = start  // stopped and started: new cgroups
                }
            } else {
                cgroups = respawns == 0 ? start : nil
            }
            s.entries[name] = Entry(creation: creation, start: start, respawns: respawns, cgroups: cgroups, generation: generation)
            return cgroups
        }
    }
}
