/// A snapshot shared by every scrape that joined one collection. It is immutable: each scrape
/// renders its own answer from it as libmicrohttpd sends it (``ResponseStream``), so concurrent
/// scrapes share the samples and hold one chunk of text each, never a whole body.
public final class SharedScrape: Sendable {
    public let snapshot: any ScrapeSnapshot

    init(_ snapshot: any ScrapeSnapshot) { self.snapshot = snapshot }
}
