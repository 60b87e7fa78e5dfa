import CYAML

/// The web configuration file's YAML, read with libyaml's document API (`yaml_parser_load`): a
/// tree of scalars, sequences and mappings, each with the line it starts on.
///
/// What libyaml leaves to its caller is checked here:
/// - nesting: libyaml's loader recurses once per level, so a file nested thousands of levels deep
///   would overflow the stack of the HTTP thread that reloads it; the events are read first (the
///   event parser keeps its own stack) and more than ``maxDepth`` levels is an error;
/// - one document: a second one (`---`) is an error, not silently ignored;
/// - aliases: libyaml points an alias at its anchor's node (no copy), so a "billion laughs" file
///   costs what its text costs, and the walk below only ever goes as deep as the web config does;
/// - duplicate keys in a mapping (libyaml keeps both) are an error, as is an unknown tag, or a NUL
///   character (`"\0"` in double quotes) in a scalar that would cut a path handed to C.
enum WebConfigYAML {
    /// A node of the document; `tree` keeps the whole document alive.
    struct Node {
        fileprivate let tree: Tree
        fileprivate let index: Int
        private var entry: Entry { tree.entries[index] }

        /// The line the node starts on, from 1.
        var line: Int { entry.line }

        /// A scalar's text (whatever its tag, as YAML 1.1 loaders such as Yams give it); nil for a
        /// sequence or a mapping.
        var string: String? {
            if case .scalar(let text, _) = entry.kind { return text }
            return nil
        }

        /// A boolean: `true`/`false` (also `yes`/`no`, `on`/`off`, in the three cases YAML 1.1
        /// allows), plain or tagged `!!bool`; a quoted string is not a boolean.
        var bool: Bool? {
            guard case .scalar(let text, let plain) = entry.kind, plain || entry.tag == Tag.bool,
                  entry.tag == Tag.string || entry.tag == Tag.bool else { return nil }
            if ["true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"].contains(text) { return true }
            if ["false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"].contains(text) { return false }
            return nil
        }

        /// YAML's null: an empty or `~`/`null` plain scalar, or anything tagged `!!null`.
        var isNull: Bool {
            if entry.tag == Tag.null { return true }
            guard case .scalar(let text, let plain) = entry.kind, plain, entry.tag == Tag.string else { return false }
            return ["", "~", "null", "Null", "NULL"].contains(text)
        }

        /// A sequence's items; nil for a scalar or a mapping.
        var sequence: [Node]? {
            guard case .sequence(let items) = entry.kind else { return nil }
            return items.map { Node(tree: tree, index: $0) }
        }

        /// A mapping's pairs in file order (keys are unique); nil for a scalar or a sequence.
        var mapping: [(key: Node, value: Node)]? {
            guard case .mapping(let pairs) = entry.kind else { return nil }
            return pairs.map { (Node(tree: tree, index: $0.key), Node(tree: tree, index: $0.value)) }
        }
    }

    /// Why the text is not a usable YAML document, and where (line and column from 1) when known.
    struct Failure: Error, Equatable {
        var line: Int?
        var column: Int?
        var message: String
    }

    /// Deeper nesting is refused (the web config itself is three levels deep).
    static let maxDepth = 64

    fileprivate enum Kind {
        case scalar(String, plain: Bool)
        case sequence([Int])
        case mapping([(key: Int, value: Int)])
    }

    fileprivate struct Entry {
        var kind: Kind
        var tag: String
        var line: Int
    }

    fileprivate enum Tag {
        static let prefix = "tag:yaml.org,2002:"
        static let string = prefix + "str", null = prefix + "null", bool = prefix + "bool"
        /// The tags a node may carry: YAML's core schema. Anything else (a local `!tag`, `!!binary`,
        /// `!!set`...) means the file was written for another program.
        static let allowed: Set<String> = ["str", "null", "bool", "int", "float", "seq", "map"].reduce(into: []) { $0.insert(prefix + $1) }
        static func shown(_ tag: String) -> String { tag.hasPrefix(prefix) ? "!!" + tag.dropFirst(prefix.count) : tag }
    }

    fileprivate final class Tree {
        let entries: [Entry]
        init(_ entries: [Entry]) { self.entries = entries }
    }

    /// Parses `bytes` (UTF-8, or UTF-16 with a byte order mark) and returns the document's root
    /// node; nil for a stream without a document (an empty file, or only comments).
    static func parse(_ bytes: [UInt8]) throws(Failure) -> Node? {
        let input = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(bytes.count, 1))
        defer { input.deallocate() }
        _ = input.initialize(from: bytes)
        let text = UnsafeBufferPointer(rebasing: input[..<bytes.count])
        try checkEvents(text)
        let entries = try load(text)
        // libyaml's root is its first node.
        return entries.isEmpty ? nil : Node(tree: Tree(entries), index: 0)
    }

    /// Reads the events once: syntax errors, nesting depth, the number of documents.
    private static func checkEvents(_ text: UnsafeBufferPointer<UInt8>) throws(Failure) {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { throw Failure(message: "libyaml could not start (out of memory)") }
        defer { yaml_parser_delete(&parser) }
        yaml_parser_set_input_string(&parser, text.baseAddress, text.count)
        var depth = 0
        var documents = 0
        while true {
            var event = yaml_event_t()
            guard yaml_parser_parse(&parser, &event) == 1 else { throw failure(parser) }
            defer { yaml_event_delete(&event) }
            let line = Int(event.start_mark.line) + 1
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return
            case YAML_DOCUMENT_START_EVENT:
                documents += 1
                if documents > 1 {
                    throw Failure(line: line, message: "a second YAML document; the web config file must hold one")
                }
            case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                depth += 1
                if depth > maxDepth { throw Failure(line: line, message: "nested more than \(maxDepth) levels deep") }
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                depth -= 1
            default:
                break
            }
        }
    }

    /// Loads the (one) document and copies its nodes.
    private static func load(_ text: UnsafeBufferPointer<UInt8>) throws(Failure) -> [Entry] {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { throw Failure(message: "libyaml could not start (out of memory)") }
        defer { yaml_parser_delete(&parser) }
        yaml_parser_set_input_string(&parser, text.baseAddress, text.count)
        var document = yaml_document_t()
        guard yaml_parser_load(&parser, &document) == 1 else { throw failure(parser) }
        defer { yaml_document_delete(&document) }
        guard yaml_document_get_root_node(&document) != nil, let start = document.nodes.start else { return [] }
        let count = document.nodes.top - start
        var entries: [Entry] = []
        entries.reserveCapacity(count)
        for node in UnsafeBufferPointer(start: start, count: count) {
            let line = Int(node.start_mark.line) + 1
            let tag = node.tag.map { String(cString: $0) } ?? ""
            guard Tag.allowed.contains(tag) else {
                throw Failure(line: line, message: "the tag \(Tag.shown(tag)) is not supported here")
            }
            let kind: Kind
            switch node.type {
            case YAML_SCALAR_NODE:
                let value = UnsafeBufferPointer(start: node.data.scalar.value, count: node.data.scalar.length)
                guard !value.contains(0) else { throw Failure(line: line, message: "a value contains a NUL character") }
                kind = .scalar(String(decoding: value, as: UTF8.self), plain: node.data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
            case YAML_SEQUENCE_NODE:
                let items = node.data.sequence.items
                let list = items.start.map { Array(UnsafeBufferPointer(start: $0, count: items.top - $0)) } ?? []
                kind = .sequence(list.map { Int($0) - 1 })
            case YAML_MAPPING_NODE:
                let pairs = node.data.mapping.pairs
                let list = pairs.start.map { Array(UnsafeBufferPointer(start: $0, count: pairs.top - $0)) } ?? []
                kind = .mapping(list.map { (key: Int($0.key) - 1, value: Int($0.value) - 1) })
            default:
                throw Failure(line: line, message: "libyaml returned an empty node")
            }
            entries.append(Entry(kind: kind, tag: tag, line: line))
        }
        // Duplicate keys (compared as text; a non-scalar key is refused by the web config anyway).
        for entry in entries {
            guard case .mapping(let pairs) = entry.kind else { continue }
            var seen = Set<String>()
            for pair in pairs {
                guard case .scalar(let key, _) = entries[pair.key].kind else { continue }
                guard seen.insert(key).inserted else {
                    throw Failure(line: entries[pair.key].line, message: "duplicate key \"\(key)\"")
                }
            }
        }
        return entries
    }

    /// libyaml's own description of the error: what it found, and what it was reading at the time.
    private static func failure(_ parser: yaml_parser_t) -> Failure {
        let problem = parser.problem.map { String(cString: $0) } ?? "unknown error"
        switch parser.error {
        case YAML_MEMORY_ERROR:
            return Failure(message: "libyaml ran out of memory")
        case YAML_READER_ERROR:
            // Encoding errors: an offset into the bytes, and the offending byte or character.
            var message = "not valid YAML: \(problem)"
            if parser.problem_value != -1 { message += " #" + String(UInt32(bitPattern: parser.problem_value), radix: 16, uppercase: true) }
            message += " at byte \(parser.problem_offset)"
            return Failure(message: message)
        default:   // scanner, parser, composer
            // "while parsing a flow node at line 1, column 20: did not find expected node content"
            var message = "not valid YAML: "
            if let context = parser.context {
                message += "\(String(cString: context)) at line \(parser.context_mark.line + 1), column \(parser.context_mark.column + 1): "
            }
            message += problem
            return Failure(line: Int(parser.problem_mark.line) + 1, column: Int(parser.problem_mark.column) + 1, message: message)
        }
    }
}
