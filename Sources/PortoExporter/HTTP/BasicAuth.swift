import CCrypt
import CGlibc
import CGnuTLS
import Dispatch
import FoundationEssentials
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// HTTP Basic authentication against bcrypt hashes (libxcrypt's `crypt_rn`), as the
/// exporter-toolkit does it, hardened against floods:
///
/// - The hash is computed for unknown users too (against a fixed dummy hash), so the time taken
///   does not tell whether a user exists.
/// - The computed hash is compared with the stored one in constant time.
/// - Results (good and bad) are cached per credential, keyed by HMAC-SHA256 of user and password
///   under a key drawn at start-up, so a repeated credential costs one HMAC instead of a bcrypt
///   run (~50-100 ms at cost 10), and the cache never holds a password. The cache is bounded and
///   emptied whenever the users change.
/// - bcrypt never runs on the caller's (libmicrohttpd's) thread: a credential that is not cached
///   waits in a queue for one of `maxConcurrentHashes` hashing threads, and the caller is told
///   later. The exporter-toolkit hashes on the serving goroutine, so a flood of distinct wrong
///   passwords delays every scrape; here a cached credential is answered at once whatever the
///   queue holds, so a failed password costs its sender, not the other scrapers.
/// - The queue is fair between clients (one address's attempts take turns with the others', not
///   a place each) and bounded per client and in total: beyond that, an attempt is refused at
///   once (``Outcome/busy``) without hashing. The same credential waiting twice is hashed once.
public final class BasicAuth: Sendable {
    public enum Outcome: Sendable, Equatable {
        case allowed, denied
        /// Too many attempts are waiting to be hashed: refused without checking.
        case busy
    }
    public typealias Completion = @Sendable (Outcome) -> Void
    /// crypt(3): the hash of a password with the method and salt of a setting, nil on failure.
    public typealias PasswordHasher = @Sendable (_ password: String, _ setting: String) -> String?

    /// A credential waiting for a hashing thread, and everyone waiting for its outcome.
    private struct Pending {
        var password: String
        var stored: String?
        var generation: UInt64
        var completions: [Completion]
    }

    private struct State {
        var cache: [Digest: (Outcome, UInt64)] = [:]
        var cacheOrder: [Digest] = []
        var hashes = 0
        var pending: [Waiting: Pending] = [:]
    /// Credentials waiting, per client address, and the clients in turn order.
        var queues: [String: [Waiting]] = [:]
        var turns: [String] = []
        var running = 0
    }
    private let state = Mutex(State())

    private let cacheLimit: Int
    private let maxConcurrentHashes: Int
    private let maxQueuedPerClient: Int
    private let maxQueued: Int
    private let hasher: PasswordHasher
    private let key: [UInt8]
    /// Hashed against when the user is unknown, at the usual cost, so timing does not tell.
    private static let dummyHash = bcryptHash("porto-exporter: no such user", cost: 10) ?? "$2b$10$......................"

    struct Digest: Hashable { var a: UInt64, b: UInt64, c: UInt64, d: UInt64 }
    /// A credential checked against one user table.
    private struct Waiting: Hashable { var digest: Digest, generation: UInt64 }

    public init(cacheLimit: Int = 1024, maxConcurrentHashes: Int = 2, maxQueuedPerClient: Int = 16, maxQueued: Int = 256,
                hasher: @escaping PasswordHasher = { BasicAuth.crypt($0, setting: $1) }) {
        self.cacheLimit = cacheLimit
        self.maxConcurrentHashes = max(1, maxConcurrentHashes)
        self.maxQueuedPerClient = maxQueuedPerClient
        self.maxQueued = maxQueued
        self.hasher = hasher
        var key = [UInt8](repeating: 0, count: 32)
        _ = key.withUnsafeMutableBytes { getrandom($0.baseAddress, $0.count, 0) }
        self.key = key
    }

    /// How many bcrypt hashes were computed (cache misses), for tests and self-checks.
    public var hashCount: Int { state.withLock { $0.hashes } }

    /// Checks an `Authorization` header value against `users` (user → bcrypt hash) for the client
    /// at `client` (its address). `generation` identifies the user table: cached results from
    /// another generation are ignored. Returns the outcome when it is known without hashing;
    /// otherwise nil, and `completion` is called with it later, on a hashing thread.
    public func check(authorization: String?, users: [String: String], generation: UInt64, client: String,
                      completion: @escaping Completion) -> Outcome? {
        guard let (user, password) = Self.parse(authorization) else { return .denied }
        let digest = hmac(user: user, password: password)
        let (known, startWorker): (Outcome?, Bool) = state.withLock { s in
            if let (outcome, cachedGeneration) = s.cache[digest], cachedGeneration == generation { return (outcome, false) }
            let waiting = Waiting(digest: digest, generation: generation)
            if s.pending[waiting] != nil {
                s.pending[waiting]!.completions.append(completion)
                return (nil, false)
            }
            let queued = s.queues[client]?.count ?? 0
            if queued >= maxQueuedPerClient || s.pending.count >= maxQueued { return (.busy, false) }
            s.pending[waiting] = Pending(password: password, stored: users[user], generation: generation, completions: [completion])
            if queued == 0 { s.turns.append(client) }
            s.queues[client, default: []].append(waiting)
            guard s.running < maxConcurrentHashes else { return (nil, false) }
            s.running += 1
            return (nil, true)
        }
        if startWorker {
            DispatchQueue.global().async { [self] in work() }
        }
        return known
    }

    /// The same, waiting for the outcome on the caller's thread (tests and tools).
    public func check(authorization: String?, users: [String: String], generation: UInt64, client: String = "") -> Outcome {
        final class Later: Sendable {
            let outcome = Mutex(Outcome.denied)
            let done = DispatchSemaphore(value: 0)
        }
        let later = Later()
        if let now = check(authorization: authorization, users: users, generation: generation, client: client, completion: { outcome in
            later.outcome.withLock { $0 = outcome }
            later.done.signal()
        }) {
            return now
        }
        later.done.wait()
        return later.outcome.withLock { $0 }
    }

    /// A hashing thread: takes the waiting credentials, one client's at a time in turn, until
    /// none is left.
    private func work() {
        while true {
            let next: (Waiting, Pending)? = state.withLock { s in
                guard !s.turns.isEmpty else {
                    s.running -= 1
                    return nil
                }
                let client = s.turns.removeFirst()
                let waiting = s.queues[client]!.removeFirst()
                if s.queues[client]!.isEmpty { s.queues[client] = nil } else { s.turns.append(client) }
                return (waiting, s.pending[waiting]!)
            }
            guard let (waiting, job) = next else { return }
            let computed = hasher(job.password, job.stored ?? Self.dummyHash)
            let outcome: Outcome = if let stored = job.stored, let computed, Self.constantTimeEqual(Array(computed.utf8), Array(stored.utf8)) { .allowed } else { .denied }
            let completions: [Completion] = state.withLock { s in
                s.hashes += 1
                if s.cache.count >= cacheLimit, !s.cacheOrder.isEmpty {
                    s.cache[s.cacheOrder.removeFirst()] = nil
                }
                if s.cache.updateValue((outcome, job.generation), forKey: waiting.digest) == nil { s.cacheOrder.append(waiting.digest) }
                return s.pending.removeValue(forKey: waiting)?.completions ?? []
            }
            for completion in completions { completion(outcome) }
        }
    }

    /// Whether a string has the shape of a bcrypt hash: `$2a$`, `$2b$` or `$2y$`, a two-digit
    /// cost, then 53 characters of bcrypt's base64 (22 of salt, 31 of hash).
    public static func isBcryptHash(_ hash: String) -> Bool {
        let bytes = Array(hash.utf8)
        guard bytes.count == 60, bytes[0] == UInt8(ascii: "$"), bytes[1] == UInt8(ascii: "2"),
              [UInt8(ascii: "a"), UInt8(ascii: "b"), UInt8(ascii: "y")].contains(bytes[2]),
              bytes[3] == UInt8(ascii: "$"), bytes[6] == UInt8(ascii: "$"),
              let cost = Int(String(decoding: bytes[4...5], as: UTF8.self)), (4...31).contains(cost)
        else { return false }
        return bytes[7...].allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "/")
        }
    }

    /// Decodes `Basic <base64(user:password)>`; nil for anything else. The scheme is
    /// case-insensitive; the user may not contain a colon, the password may. A NUL byte anywhere
    /// is refused: crypt(3) would stop reading the password there.
    static func parse(_ header: String?) -> (String, String)? {
        guard let header, header.utf8.count <= 4096 else { return nil }
        let trimmed = header.trimmingSpaces()
        guard trimmed.count > 6, trimmed.prefix(6).lowercased() == "basic " else { return nil }
        let encoded = trimmed.dropFirst(6).trimmingSpaces()
        guard let data = Data(base64Encoded: encoded), !data.contains(0), let text = String(data: data, encoding: .utf8),
              let colon = text.firstIndex(of: ":")
        else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }

    /// The bcrypt (or any crypt(5)) hash of `password` with the salt and cost in `setting`.
    public static func crypt(_ password: String, setting: String) -> String? {
        var output = [CChar](repeating: 0, count: 256)
        guard CCrypt_crypt(password, setting, &output, output.count) == 0 else { return nil }
        return String(decoding: output.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A bcrypt hash of `password` with a fresh random salt (tests, and `--web.hash-password` if
    /// it ever exists). Cost 4 is the fastest bcrypt allows.
    public static func bcryptHash(_ password: String, cost: UInt = 10) -> String? {
        var setting = [CChar](repeating: 0, count: 128)
        guard CCrypt_bcrypt_setting(UInt(cost), &setting, setting.count) == 0 else { return nil }
        return crypt(password, setting: String(decoding: setting.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for i in 0..<max(a.count, b.count) {
            difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return difference == 0
    }

    private func hmac(user: String, password: String) -> Digest {
        var message = Array(user.utf8)
        message.append(0)
        message.append(contentsOf: password.utf8)
        var out = [UInt64](repeating: 0, count: 4)
        _ = key.withUnsafeBytes { k in
            message.withUnsafeBytes { m in
                out.withUnsafeMutableBytes { o in
                    gnutls_hmac_fast(GNUTLS_MAC_SHA256, k.baseAddress, k.count, m.baseAddress, m.count, o.baseAddress)
                }
            }
        }
        return Digest(a: out[0], b: out[1], c: out[2], d: out[3])
    }
}
