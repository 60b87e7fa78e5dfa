/// Something that happens to the synthetic host on purpose, for tests and demos
/// (`SimHost.inject(_:)`).
public enum SimEvent: Sendable, Equatable {
    /// The kernel OOM-kills a task in the named container. The kill is counted by the container
    /// that owns the memory cgroup the task lived in (the container itself, or its nearest ancestor
    /// owning `memory`, docs/porto.md §3.3): its `oom_kills` goes up by one, and `oom_kills_total` goes
    /// up by one on it and on every ancestor including "/". GetSystem `container_oom` goes up by one.
    case oomKill(String)
    /// The kernel OOM-kills the named container's main task: the kill is counted as by `oomKill`
    /// (in the nearest owner of a memory cgroup), and the container dies from it: `dead` with
    /// `oom_killed` and exit code -99 (docs/porto.md §3.3, §3.4); its descendants die with it (SIGKILL).
    case oomExit(String)
    /// A start of the named container fails: it ends up `stopped` with `start_error` set, and
    /// GetSystem `container_start_failed` goes up by one. Its descendants are stopped too.
    case failStart(String)
    /// portod restarts: `porto_starts` + 1, `porto_uptime` starts again from 0; GetSystem counters
    /// persist (they live in /run/portod.stat, docs/porto.md §5.1), containers are untouched.
    case restart
    /// Moves the named container to a state the way portod would: stopping a container stops its
    /// subtree (counters reset on the next start), pausing freezes its subtree's counters, `dead`
    /// records an exit (code 1), `running` (re)starts it if it was not running.
    case setState(String, SimState)
    /// portod respawns the named container (dead, or running and killed): it starts again with
    /// `start_time` now and `respawn_count` + 1. portod keeps the cgroups, so cgroup counters and
    /// `oom_kills` carry on; the network namespace is recreated, so its device counters restart
    /// from 0 (docs/porto.md §3.4). Descendants are stopped; their usage stays in the container's
    /// hierarchical counters.
    case respawn(String)
}

/// The lifecycle states of a Porto container (docs/porto.md §3.3 `state`).
public enum SimState: String, Sendable, CaseIterable {
    case stopped, starting, running, stopping, paused, dead, meta, respawning
}
