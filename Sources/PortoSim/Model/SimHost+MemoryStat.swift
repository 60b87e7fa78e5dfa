
extension SimHost {
    /// What `Get` of the raw knob `memory.stat` answers (docs/porto.md §3.1, §7.1): the file as the
    /// kernel writes it, with its trailing newline, from the container's effective memory cgroup
    /// (its own, or its nearest owning ancestor's). Cgroup v1 (``SimOptions/cgroupV2`` false):
    /// the cgroup's own pages, then the `total_` keys of its subtree; v2: one set of keys, which
    /// covers the subtree.
    ///
    /// The keys give back exactly what the derived properties answer, by portod's formulas
    /// (docs/porto.md §7.1): anon_usage = total_inactive_anon + total_active_anon +
    /// total_unevictable (+ total_swap, absent: no swap accounting), cache_usage =
    /// total_inactive_file + total_active_file, shmem_usage = total_shmem, mlock_usage =
    /// total_unevictable, minor_faults = total_pgfault − total_pgmajfault, major_faults =
    /// total_pgmajfault, memory_reclaimed = total_pgpgout × 4096 (v2: `anon`, `shmem`, keys without
    /// the prefix, and no pgpgout). So that this holds, shmem stays off the LRU lists here (the
    /// kernel keeps it on the anon ones); `rss` + `cache` is memory_usage, as in the kernel.
    ///
    /// `ownOffsets` is ``memoryOwnOffsets(_:)`` when one request reads many containers.
    func memoryStat(_ ctx: SimContext, ownOffsets: [Int: [UInt64]]? = nil) -> Result<String, SimError> {
        let c = ctx.c
        // portod reads knobs from the cgroup, which exists in every state but stopped (and, here,
        // starting, whose cgroups are still being made).
        guard c.hasRuntime else {
            return .failure(SimError(code: .invalidState, message: "Not available in stopped state: memory.stat"))
        }
        let world = ctx.world
        let owner = world.owner(of: ctx.i, .memory)
        let total = MemoryFigures(world: world, at: owner, minus: nil)
        if options.cgroupV2 { return .success(total.v2Text) }
        let own = MemoryFigures(world: world, at: owner, minus: (ownOffsets ?? memoryOwnOffsets(world))[owner])
        var limit = UInt64.max
        var at = owner
        while at > 0 {
            if let l = world.containers[at].memoryLimit, l > 0, world.containers[at].controllers.contains(.memory) {
                limit = min(limit, l)
            }
            at = world.parents[at]
        }
        // PAGE_COUNTER_MAX pages on 64-bit: what an unlimited cgroup shows.
        let hierarchicalLimit = limit == UInt64.max ? 9_223_372_036_854_771_712 : limit
        var text = own.v1Lines(prefix: "")
        text += "hierarchical_memory_limit \(hierarchicalLimit)\n"
        text += total.v1Lines(prefix: "total_")
        return .success(text)
    }

    /// For each memory-cgroup owner, the hierarchical slot values of the memory-owning cgroups
    /// right under it (running ones: stopped subtrees are not added up, ``SimWorld``): subtracted
    /// from its own hierarchical values they leave the pages charged to the cgroup itself.
    func memoryOwnOffsets(_ world: SimWorld) -> [Int: [UInt64]] {
        var out: [Int: [UInt64]] = [:]
        for j in world.containers.indices.dropFirst() {
            let c = world.containers[j]
            guard c.hasRuntime, c.controllers.contains(.memory) else { continue }
            let parentOwner = world.owner(of: world.parents[j], .memory)
            var sums = out[parentOwner] ?? [UInt64](repeating: 0, count: SimSlots.count)
            for slot in MemoryFigures.slots { sums[slot] &+= world.value(j, slot) }
            out[parentOwner] = sums
        }
        return out
    }
}

/// The figures one memory.stat is written from.
private struct MemoryFigures {
    static let slots = [
        SimSlots.anonUsage, SimSlots.cacheUsage, SimSlots.shmemUsage, SimSlots.mlockUsage, SimSlots.writeback,
        SimSlots.minorFaults, SimSlots.majorFaults, SimSlots.reclaimed,
    ]

    var anon, cache, shmem, mlock, writeback, minor, major, reclaimed: UInt64

    init(world: SimWorld, at i: Int, minus offsets: [UInt64]?) {
        func v(_ slot: Int) -> UInt64 {
            let value = world.value(i, slot)
            guard let offsets else { return value }
            return value >= offsets[slot] ? value - offsets[slot] : 0
        }
        anon = v(SimSlots.anonUsage)
        cache = v(SimSlots.cacheUsage)
        shmem = v(SimSlots.shmemUsage)
        mlock = min(v(SimSlots.mlockUsage), anon)
        writeback = v(SimSlots.writeback)
        minor = v(SimSlots.minorFaults)
        major = v(SimSlots.majorFaults)
        reclaimed = v(SimSlots.reclaimed)
    }

    var inactiveAnon: UInt64 { (anon - mlock) / 4 }
    var activeAnon: UInt64 { anon - mlock - inactiveAnon }
    var inactiveFile: UInt64 { cache / 3 }
    var activeFile: UInt64 { cache - inactiveFile }
    var pgpgout: UInt64 { reclaimed / 4096 }

    /// The v1 keys, in the kernel's order (memcg1_stat_format), with `prefix` (`total_`).
    func v1Lines(prefix: String) -> String {
        let pgpgin = pgpgout &+ (anon &+ cache &+ shmem) / 4096
        let lines: [(String, UInt64)] = [
            ("cache", cache &+ shmem), ("rss", anon), ("rss_huge", 0), ("shmem", shmem),
            ("mapped_file", cache / 4), ("dirty", writeback / 2), ("writeback", writeback),
            ("workingset_refault_anon", 0), ("workingset_refault_file", major),
            ("pgpgin", pgpgin), ("pgpgout", pgpgout), ("pgfault", minor &+ major), ("pgmajfault", major),
            ("inactive_anon", inactiveAnon), ("active_anon", activeAnon),
            ("inactive_file", inactiveFile), ("active_file", activeFile), ("unevictable", mlock),
        ]
        var text = ""
        for (key, value) in lines { text += "\(prefix)\(key) \(value)\n" }
        return text
    }

    /// The v2 keys, in the kernel's order (memory_stat_format). No pgpgout: portod's
    /// memory_reclaimed is 0 on v2.
    var v2Text: String {
        let lines: [(String, UInt64)] = [
            ("anon", anon), ("file", cache &+ shmem), ("kernel", 0), ("kernel_stack", 0), ("pagetables", 0),
            ("sec_pagetables", 0), ("percpu", 0), ("sock", 0), ("vmalloc", 0), ("shmem", shmem),
            ("file_mapped", cache / 4), ("file_dirty", writeback / 2), ("file_writeback", writeback),
            ("swapcached", 0), ("anon_thp", 0), ("file_thp", 0), ("shmem_thp", 0),
            ("inactive_anon", inactiveAnon), ("active_anon", activeAnon),
            ("inactive_file", inactiveFile), ("active_file", activeFile), ("unevictable", mlock),
            ("slab_reclaimable", 0), ("slab_unreclaimable", 0), ("slab", 0),
            ("workingset_refault_anon", 0), ("workingset_refault_file", major),
            ("workingset_activate_anon", 0), ("workingset_activate_file", 0),
            ("workingset_restore_anon", 0), ("workingset_restore_file", 0), ("workingset_nodereclaim", 0),
            ("pgscan", 0), ("pgsteal", 0), ("pgfault", minor &+ major), ("pgmajfault", major),
            ("pgrefill", 0), ("pgactivate", 0), ("pgdeactivate", 0), ("pglazyfree", 0), ("pglazyfreed", 0),
            ("thp_fault_alloc", 0), ("thp_collapse_alloc", 0),
        ]
        var text = ""
        for (key, value) in lines { text += "\(key) \(value)\n" }
        return text
    }
}
