extension SimHost {
    /// Applies an event (see `SimEvent`). Returns false, changing nothing, when the named
    /// container does not exist (churn containers cannot be named) or the event makes no sense
    /// for it (an OOM kill in a container without runtime, a state change under a parent that is
    /// not running).
    @discardableResult
    public func inject(_ event: SimEvent) -> Bool {
        let now = options.clock.now
        return lock.withLock {
            // Worlds in use by other requests share the container instances: edit copies.
            statics = statics.map { $0.copy() }
            let applied: Bool
            switch event {
            case .restart:
                system.portoStarts += 1
                system.portoStart = now
                system.clientCount = 0
                applied = true
            case .oomKill(let name):
                applied = oomKill(name, now: now)
            case .oomExit(let name):
                // Dead first (refused for a container that cannot die), then the kill is counted.
                applied = setState(name, .dead, now: now) && oomKill(name, now: now)
                if applied, let i = staticIndex[name] { statics[i].exit = .oom }
            case .failStart(let name):
                applied = failStart(name, now: now)
            case .setState(let name, let state):
                applied = setState(name, state, now: now)
            case .respawn(let name):
                applied = respawn(name, now: now)
            }
            if applied {
                mutations += 1
                cachedWorld = nil
            }
            return applied
        }
    }

    // MARK: - Helpers (lock held)

    private func staticParent(_ i: Int) -> Int? {
        statics[i].parentName.flatMap { staticIndex[$0] }
    }

    /// Indices of the container and all its descendants.
    private func subtree(_ i: Int) -> [Int] {
        let name = statics[i].name
        if name == "/" { return Array(statics.indices) }
        let prefix = name + "/"
        return statics.indices.filter { $0 == i || statics[$0].name.hasPrefix(prefix) }
    }

    private func oomKill(_ name: String, now: UInt64) -> Bool {
        guard let i = staticIndex[name], i != staticIndex["/"], statics[i].hasRuntime else { return false }
        // The kill happens in the memory cgroup the task lives in: the nearest owner of memory.
        var owner = i
        while !statics[owner].controllers.contains(.memory), let p = staticParent(owner) { owner = p }
        statics[owner].oomKills += 1
        var at: Int? = owner
        while let j = at {
            statics[j].oomKillsTotal += 1
            at = staticParent(j)
        }
        system.injectedOOM += 1
        return true
    }

    /// Stops the subtree at `i`: its counters go into the parent's carry (hierarchical counters
    /// never go down), and they restart from zero on the next start.
    private func stopSubtree(_ i: Int, now: UInt64) {
        resetCounters(i, now: now)
        for j in subtree(i) {
            markStopped(j, now: now)
            statics[j].changeTime = now
        }
    }

    /// Container `j` stopped at `now`: no run, no exit, no OOM kills, no carried counters.
    private func markStopped(_ j: Int, now: UInt64) {
        statics[j].state = .stopped
        statics[j].startTime = nil
        statics[j].stopTime = now
        statics[j].deathTime = nil
        statics[j].exit = nil
        statics[j].oomKills = 0
        statics[j].rootPid = 0
        statics[j].carry = [:]
        statics[j].pausedSeconds = 0
        statics[j].firstRun = false
    }

    /// Moves the subtree's accumulated counters into the nearest ancestor's carry.
    private func resetCounters(_ i: Int, now: UInt64) {
        guard let parent = staticParent(i) else { return }
        let world = currentWorld(now: now)
        guard let w = world.index[statics[i].name], world.containers[w].hasRuntime else { return }
        for slot in 0..<SimSlots.counterCount {
            let amount = world.value(w, slot)
            if amount > 0 { statics[parent].carry[slot, default: 0] &+= amount }
        }
    }

    /// See ``SimEvent/respawn(_:)``: the subtree's counters so far become the container's own
    /// carry, and its run (which drives the netns device counters) starts again.
    private func respawn(_ name: String, now: UInt64) -> Bool {
        guard let i = staticIndex[name], name != "/", statics[i].hasRuntime else { return false }
        let parentState = staticParent(i).map { statics[$0].state } ?? .meta
        guard parentState == .running || parentState == .meta else { return false }
        let world = currentWorld(now: now)
        guard let w = world.index[name] else { return false }
        var carry: [Int: UInt64] = [:]
        for slot in 0..<SimSlots.counterCount {
            let amount = world.value(w, slot)
            if amount > 0 { carry[slot] = amount }
        }
        for j in subtree(i) where j != i { markStopped(j, now: now) }
        let c = statics[i]
        c.carry = carry
        c.firstRun = false  // the bases are in the carry now
        c.state = .running
        c.startTime = now
        c.stopTime = nil
        c.pausedSeconds = 0
        c.deathTime = nil
        c.exit = nil
        c.respawnCount += 1
        c.rootPid = Int32(truncatingIfNeeded: 1000 + (now % 100_000))
        c.changeTime = now
        system.containerStarted += 1
        return true
    }

    private func failStart(_ name: String, now: UInt64) -> Bool {
        guard let i = staticIndex[name], name != "/" else { return false }
        stopSubtree(i, now: now)
        statics[i].startError = "InvalidCommand:(No such file or directory: \(statics[i].command))"
        system.containerStartFailed += 1
        return true
    }

    private func setState(_ name: String, _ state: SimState, now: UInt64) -> Bool {
        guard let i = staticIndex[name], name != "/" else { return false }
        let parentState = staticParent(i).map { statics[$0].state } ?? .meta
        let current = statics[i].state
        switch state {
        case .stopped:
            stopSubtree(i, now: now)
        case .starting:
            stopSubtree(i, now: now)
            statics[i].state = .starting
        case .running, .meta, .stopping, .respawning:
            guard parentState == .running || parentState == .meta else { return false }
            if current == .paused {
                for j in subtree(i) where statics[j].state == .paused {
                    statics[j].pausedSeconds += now - (statics[j].stopTime ?? now)
                    statics[j].stopTime = nil
                    statics[j].state = .running
                }
            } else if !statics[i].isActive && current != .meta {
                if current == .dead { stopSubtree(i, now: now) }
                statics[i].startTime = now
                statics[i].stopTime = nil
                statics[i].pausedSeconds = 0
                statics[i].rootPid = Int32(truncatingIfNeeded: 1000 + (now % 100_000))
                statics[i].startError = nil
                system.containerStarted += 1
            }
            statics[i].state = state
        case .paused:
            guard statics[i].isActive || current == .meta else { return false }
            for j in subtree(i) where statics[j].isActive || statics[j].state == .meta {
                statics[j].state = .paused
                statics[j].stopTime = now
            }
        case .dead:
            guard statics[i].hasRuntime, current != .dead else { return false }
            for j in subtree(i) where statics[j].hasRuntime && statics[j].state != .dead {
                if statics[j].state == .paused {
                    statics[j].pausedSeconds += now - (statics[j].stopTime ?? now)
                }
                statics[j].state = .dead
                statics[j].deathTime = now
                statics[j].stopTime = now
                statics[j].exit = j == i ? .exitCode(1) : .signal(9)
                statics[j].rootPid = 0
            }
        }
        statics[i].changeTime = now
        return true
    }
}
