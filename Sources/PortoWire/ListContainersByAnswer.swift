/// A ListContainersBy answer kept as the bytes portod sent (``PortoClient/callRaw(_:timeout:)``),
/// read one container at a time.
///
/// At 10,000 containers the answer is about 14 MB of bytes and many times that once decoded
/// into `[Porto_TContainer]`. Here only the bytes are kept: a first pass walks the wire format
/// (``WireReader``: `TPortoResponse.ListContainersBy` (232) -> `containers` (1) -> `spec` (1) ->
/// `name` (1) and `net` (63)) and notes each container's name and byte range, and
/// ``container(_:scratch:)`` then decodes one `TContainer` at a time, so that the decoded
/// messages of all containers never exist at once.
///
/// ``entries`` are in the order portod sent them (by name for a single `***` filter,
/// docs/porto.md §2.3); any other order a reader wants is the reader's to make.
///
/// The result is what decoding the whole answer gives: the same containers, fields merged as a
/// protobuf decoder merges repeated occurrences (a later `name` wins, `net` occurrences merge, a
/// field with an unexpected wire type is skipped as an unknown field). Malformed bytes throw
/// ``PortoError/decode(_:)``; fields other than these are not looked at until
/// ``container(_:scratch:)`` decodes them.
///
/// ```swift
/// let answer = try ListContainersByAnswer(try client.callRaw(request))
/// var scratch: [UInt8] = []
/// for entry in answer.entries {
///     let container = try answer.container(entry, scratch: &scratch)   // one at a time
/// }
/// ```
public struct ListContainersByAnswer: Sendable {
    public struct Entry: Sendable {
        /// `spec.name` as a decoder would give it ("" when absent).
        public let name: String
        /// The `TContainer` message's bytes in ``ListContainersByAnswer/bytes``.
        public let range: Range<Int>
        /// What `spec.net` says of the network namespace, when asked for (`withNet`) and present.
        public let net: NetSummary?
    }

    /// The part of a container's `net` (TContainerNetConfig) that decides whose network counters
    /// it reads: `inherited` and the first option's `opt` ("inherited", "host", "L3", ...), read
    /// from the wire (a decoded message per container cost more than the rest of its reading).
    public struct NetSummary: Sendable, Equatable {
        public var inherited: Bool
        /// `cfg[0].opt`, nil without options.
        public var firstOption: String?

        public init(inherited: Bool, firstOption: String?) {
            self.inherited = inherited
            self.firstOption = firstOption
        }

        /// The same summary of a decoded `net`.
        public init(_ net: Porto_TContainerNetConfig) {
            self.init(inherited: net.inherited, firstOption: net.cfg.first?.opt)
        }
    }

    /// The encoded TPortoResponse.
    public let bytes: [UInt8]
    /// The containers, in portod's order.
    public private(set) var entries: [Entry] = []

    /// Walks `bytes` (an encoded TPortoResponse). The envelope is not checked here
    /// (``ResponseEnvelope``). With `withNet`, each entry also has its container's `spec.net`
    /// (for deciding network ownership before any container is decoded).
    public init(_ bytes: [UInt8], withNet: Bool = false) throws(PortoError) {
        self.bytes = bytes
        var top = WireReader(bytes)
        while let field = try top.next() {
            guard field.number == 232, case .bytes(let list) = field.value else { continue }
            var containers = WireReader(bytes, list)
            while let item = try containers.next() {
                guard item.number == 1, case .bytes(let range) = item.value else { continue }
                let (name, net) = try Self.nameAndNet(bytes, range, wantNet: withNet)
                entries.append(Entry(name: name, range: range, net: net))
            }
        }
    }

    /// Decodes the container of `entry`. `scratch` is a buffer reused between calls.
    public func container(_ entry: Entry, scratch: inout [UInt8]) throws(PortoError) -> Porto_TContainer {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: bytes[entry.range])
        do {
            return try Porto_TContainer(serializedBytes: scratch)
        } catch {
            throw .decode("ListContainersBy container \"\(entry.name)\" (\(entry.range.count) bytes) is not a TContainer: \(error)")
        }
    }

    /// A container's `spec.name` and network mode, read from its bytes without decoding it.
    private static func nameAndNet(
        _ bytes: [UInt8], _ range: Range<Int>, wantNet: Bool
    ) throws(PortoError) -> (String, NetSummary?) {
        var name = ""
        var net: NetSummary?
        var container = WireReader(bytes, range)
        while let field = try container.next() {
            guard field.number == 1, case .bytes(let specRange) = field.value else { continue }
            var spec = WireReader(bytes, specRange)
            while let f = try spec.next() {
                switch f.number {
                case 1:
                    guard case .bytes(let r) = f.value else { break }
                    name = try spec.string(r)
                case 63 where wantNet:
                    // Occurrences merge as a decoder merges them: `cfg` entries concatenate (the
                    // first stays first), a later `inherited` wins.
                    guard case .bytes(let r) = f.value else { break }
                    var summary = net ?? NetSummary(inherited: false, firstOption: nil)
                    var config = WireReader(bytes, r)
                    while let g = try config.next() {
                        switch (g.number, g.value) {
                        case (1, .bytes(let option)):
                            var opt = ""
                            var fields = WireReader(bytes, option)
                            while let h = try fields.next() {
                                if h.number == 1, case .bytes(let o) = h.value { opt = try fields.string(o) }
                            }
                            if summary.firstOption == nil { summary.firstOption = opt }
                        case (2, .varint(let v)):
                            summary.inherited = v != 0
                        default:
                            break
                        }
                    }
                    net = summary
                default:
                    break
                }
            }
        }
        return (name, net)
    }
}
