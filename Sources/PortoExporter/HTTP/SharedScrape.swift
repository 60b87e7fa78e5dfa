import PortoWire

/// A snapshot shared by every scrape that joined one collection, and the answers rendered from
/// it: the scrapes that ask for the same format and encoding share one rendering
/// (``SharedAnswer``), rendered and compressed once as the fastest of them sends it.
///
/// Scrapes are handed the snapshot together when the collection ends; until
/// ``handOutDone()``, every chunk rendered is kept so that each of them gets the whole answer
/// (the ``ScrapeCoordinator`` calls it once every waiting scrape has its answer; a snapshot made
/// elsewhere, as in tests, keeps its chunks until it is freed). An answer asked for after the
/// hand-out is rendered for that reader alone.
///
/// When the last scrape holding it is answered, the snapshot is freed with its answers, and the
/// memory glibc keeps from them is handed back (``MallocArenas/trimAfterRelease()``).
public final class SharedScrape: @unchecked Sendable {
    public var snapshot: any Snapshot { storage! }
    private var storage: (any Snapshot)?
    private let lock = Lock()
    private var answers: [Key: SharedAnswer] = [:]
    private var handedOut = false

    private struct Key: Hashable {
        var format: ExpositionFormat
        var gzip: Bool
    }

    init(_ snapshot: any Snapshot) { storage = snapshot }

    deinit {
        // Freed here, before the trim, rather than after this body like stored properties.
        answers.removeAll()
        storage = nil
        MallocArenas.trimAfterRelease()
    }

    /// The answer in `format`, gzip-compressed when `gzip` (unless zlib cannot start: then the
    /// identity answer).
    func answer(_ format: ExpositionFormat, gzip: Bool) -> SharedAnswer {
        lock.withLock {
            if gzip, let answer = answer(Key(format: format, gzip: true)) { return answer }
            return answer(Key(format: format, gzip: false))!
        }
    }

    /// Called with `lock` held.
    private func answer(_ key: Key) -> SharedAnswer? {
        if handedOut {
            return SharedAnswer(snapshot, format: key.format, gzip: key.gzip, held: false)
        }
        if let answer = answers[key] { return answer }
        guard let answer = SharedAnswer(snapshot, format: key.format, gzip: key.gzip, held: true) else { return nil }
        answers[key] = answer
        return answer
    }

    /// Every scrape of the collection has attached to its answer: chunks that all of them have
    /// sent may be dropped from now on.
    func handOutDone() {
        let held: [SharedAnswer] = lock.withLock {
            handedOut = true
            return Array(answers.values)
        }
        for answer in held { answer.release() }
    }

    /// The answers rendered, by format and encoding (tests).
    var answerCounts: [(format: ExpositionFormat, gzip: Bool, chunks: Int, heldBytes: Int)] {
        lock.withLock { answers.map { ($0.key.format, $0.key.gzip, $0.value.counts.made, $0.value.counts.heldBytes) } }
    }
}
