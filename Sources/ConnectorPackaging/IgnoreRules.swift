/// One line of a `.gitignore` file, parsed.
public struct IgnorePattern: Sendable, Equatable {
    /// `!pattern`: re-includes what an earlier pattern excluded.
    public var isNegated: Bool
    /// `pattern/`: matches folders only.
    public var matchesDirectoriesOnly: Bool
    /// A pattern with a `/` at its start or in its middle is matched against the path from the
    /// `.gitignore`'s folder; one without is matched against the last component at any depth.
    public var isAnchored: Bool
    /// The glob, without the `!`, the leading `/` and the trailing `/`.
    public var glob: [UInt8]
    /// The folder of the `.gitignore` that holds the pattern, relative to the root ("" for the root).
    public var base: String

    /// Parses one line, or returns `nil` for a blank line or a comment.
    ///
    /// The rules are git's (gitignore(5)): `#` starts a comment, `\#` and `\!` are literal, trailing
    /// spaces are dropped unless escaped with `\`, a trailing CR is dropped (CRLF files), leading
    /// spaces are kept.
    public init?(line: Substring, base: String = "") {
        var bytes = Array(line.utf8)
        if bytes.last == 0x0D { bytes.removeLast() }
        guard !bytes.isEmpty, bytes[0] != UInt8(ascii: "#") else { return nil }
        // Trailing spaces go unless the last one is escaped.
        while bytes.last == 0x20 {
            if bytes.count >= 2 && bytes[bytes.count - 2] == UInt8(ascii: "\\") {
                // "\ " at the end: keep the space, drop the backslash's escaping role later in matching.
                break
            }
            bytes.removeLast()
        }
        guard !bytes.isEmpty else { return nil }
        isNegated = bytes[0] == UInt8(ascii: "!")
        if isNegated { bytes.removeFirst() }
        matchesDirectoriesOnly = bytes.last == UInt8(ascii: "/") && !(bytes.count >= 2 && bytes[bytes.count - 2] == UInt8(ascii: "\\"))
        if matchesDirectoriesOnly { bytes.removeLast() }
        guard !bytes.isEmpty else { return nil }
        isAnchored = bytes.contains(UInt8(ascii: "/"))
        if bytes.first == UInt8(ascii: "/") { bytes.removeFirst() }
        guard !bytes.isEmpty else { return nil }
        glob = bytes
        self.base = base
    }

    /// Whether the pattern matches `path` (relative to the root, `/`-separated), or `nil` when the
    /// path is not under the pattern's folder.
    func matches(path: [UInt8], name: [UInt8], isDirectory: Bool) -> Bool {
        if matchesDirectoriesOnly && !isDirectory { return false }
        if !isAnchored { return Wildmatch.match(glob, name) }
        var relative = path[...]
        if !base.isEmpty {
            let prefix = Array(base.utf8) + [UInt8(ascii: "/")]
            guard relative.starts(with: prefix) else { return false }
            relative = relative.dropFirst(prefix.count)
        }
        return Wildmatch.match(glob, Array(relative))
    }
}

/// The `.gitignore` patterns in force while walking a folder, in the order git applies them: the
/// last pattern that matches a path decides, and patterns of a nested `.gitignore` come after its
/// parents' (so they win).
public struct IgnoreRules: Sendable {
    public private(set) var patterns: [IgnorePattern] = []

    public init() {}

    /// Adds the lines of a `.gitignore` found in folder `base` (relative to the root, "" for the root).
    public mutating func add(gitignore text: String, base: String = "") {
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if let pattern = IgnorePattern(line: line, base: base) { patterns.append(pattern) }
        }
    }

    /// Adds one pattern line, as if written in the root `.gitignore` before the user's lines.
    public mutating func add(_ line: String) {
        if let pattern = IgnorePattern(line: Substring(line)) { patterns.append(pattern) }
    }

    /// Whether `path` (relative to the root) is excluded. Only patterns of `.gitignore` files in the
    /// path's own ancestors apply; a nested `.gitignore`'s patterns never reach outside its folder.
    /// As in git, a file inside an excluded folder stays excluded whatever later patterns say: the
    /// walk does not enter excluded folders.
    public func isIgnored(_ path: String, isDirectory: Bool) -> Bool { decision(for: path, isDirectory: isDirectory) ?? false }

    /// What the last matching pattern says about `path`: `true` excluded, `false` re-included (`!`),
    /// `nil` when no pattern matches.
    public func decision(for path: String, isDirectory: Bool) -> Bool? {
        let pathBytes = Array(path.utf8)
        let name = Array((path.split(separator: "/").last ?? Substring(path)).utf8)
        for pattern in patterns.reversed() {
            if !pattern.base.isEmpty && !path.hasPrefix(pattern.base + "/") { continue }
            if pattern.matches(path: pathBytes, name: name, isDirectory: isDirectory) { return !pattern.isNegated }
        }
        return nil
    }
}

/// Git's glob matching for `.gitignore` patterns (wildmatch with WM_PATHNAME): `*` and `?` never
/// match `/`; `**` between slashes (or at either end) matches any number of folders; `[...]`
/// classes with ranges, `!`/`^` negation and `[:alpha:]`-style names; `\` escapes the next byte.
///
/// Written from gitignore(5) and glob(7); the abort results keep patterns with many stars linear
/// instead of exponential, as in git's own matcher.
enum Wildmatch {
    private enum Result { case match, noMatch, abortAll, abortToDoubleStar }

    static func match(_ pattern: [UInt8], _ text: [UInt8]) -> Bool {
        pattern.withUnsafeBufferPointer { p in
            text.withUnsafeBufferPointer { t in matchFrom(p, 0, t, 0) == .match }
        }
    }

    private static let slash = UInt8(ascii: "/")
    private static let star = UInt8(ascii: "*")

    private static func matchFrom(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ t: UnsafeBufferPointer<UInt8>, _ textStart: Int)
        -> Result
    {
        var pi = start
        var ti = textStart
        while pi < p.count {
            let character = p[pi]
            if ti >= t.count && character != star { return .abortAll }
            switch character {
            case UInt8(ascii: "\\"):
                pi += 1
                // A trailing backslash is invalid and matches nothing.
                guard pi < p.count else { return .noMatch }
                if t[ti] != p[pi] { return .noMatch }
            case UInt8(ascii: "?"):
                if t[ti] == slash { return .noMatch }
            case star:
                let runStart = pi
                while pi < p.count && p[pi] == star { pi += 1 }
                let before = runStart > 0 ? p[runStart - 1] : slash
                let after = pi < p.count ? p[pi] : slash
                // `**` counts only between slashes or at an end; elsewhere a run of stars is one `*`.
                let isDoubleStar = pi - runStart >= 2 && before == slash && after == slash
                if pi == p.count {
                    // A trailing `*` matches the rest of a name; a trailing `**` matches everything.
                    if !isDoubleStar && t[ti...].contains(slash) { return .noMatch }
                    return .match
                }
                if isDoubleStar {
                    // `**/rest`: rest matches here (no folder) or just after any later slash.
                    var position = ti
                    while true {
                        let result = matchFrom(p, pi + 1, t, position)
                        if result == .match || result == .abortAll { return result }
                        guard let next = t[position...].firstIndex(of: slash) else { return .abortAll }
                        position = next + 1
                    }
                }
                if p[pi] == slash {
                    // `*/`: the star takes the rest of this name.
                    guard let next = t[ti...].firstIndex(of: slash) else { return .noMatch }
                    ti = next
                    continue
                }
                while true {
                    if ti >= t.count { return .abortAll }
                    let result = matchFrom(p, pi, t, ti)
                    if result != .noMatch { return result }
                    // A `*` cannot cross a slash: only an enclosing `**` can try further on.
                    if t[ti] == slash { return .abortToDoubleStar }
                    ti += 1
                }
            case UInt8(ascii: "["):
                guard let (matched, end) = matchClass(p, pi + 1, t[ti]) else {
                    // An unterminated class matches nothing, as in git.
                    return .abortAll
                }
                if !matched || t[ti] == slash { return .noMatch }
                pi = end
            default:
                if t[ti] != character { return .noMatch }
            }
            pi += 1
            ti += 1
        }
        return ti == t.count ? .match : .noMatch
    }

    /// Matches `byte` against the class starting after `[` at `start`; returns whether it matched
    /// and the index of the closing `]`, or `nil` when the class is not closed.
    private static func matchClass(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ byte: UInt8) -> (Bool, Int)? {
        var pi = start
        guard pi < p.count else { return nil }
        var negated = false
        if p[pi] == UInt8(ascii: "!") || p[pi] == UInt8(ascii: "^") {
            negated = true
            pi += 1
        }
        var matched = false
        var previous: UInt8?
        var first = true
        while pi < p.count {
            var character = p[pi]
            if character == UInt8(ascii: "]") && !first { return (matched != negated, pi) }
            first = false
            if character == UInt8(ascii: "\\") {
                pi += 1
                guard pi < p.count else { return nil }
                character = p[pi]
                if character == byte { matched = true }
                previous = character
            } else if character == UInt8(ascii: "-"), let low = previous, pi + 1 < p.count, p[pi + 1] != UInt8(ascii: "]") {
                pi += 1
                var high = p[pi]
                if high == UInt8(ascii: "\\") {
                    pi += 1
                    guard pi < p.count else { return nil }
                    high = p[pi]
                }
                if low <= byte && byte <= high { matched = true }
                previous = nil
            } else if character == UInt8(ascii: "["), pi + 1 < p.count, p[pi + 1] == UInt8(ascii: ":") {
                guard let close = findClassNameEnd(p, pi + 2) else {
                    if byte == character { matched = true }
                    previous = character
                    pi += 1
                    continue
                }
                let name = String(decoding: p[(pi + 2)..<close], as: UTF8.self)
                if namedClass(name, contains: byte) { matched = true }
                pi = close + 1  // at the `]` of `:]`
                previous = nil
            } else {
                if character == byte { matched = true }
                previous = character
            }
            pi += 1
        }
        return nil
    }

    private static func findClassNameEnd(_ p: UnsafeBufferPointer<UInt8>, _ start: Int) -> Int? {
        var index = start
        while index + 1 < p.count {
            if p[index] == UInt8(ascii: ":") && p[index + 1] == UInt8(ascii: "]") { return index }
            if p[index] == UInt8(ascii: "]") { return nil }
            index += 1
        }
        return nil
    }

    private static func namedClass(_ name: String, contains byte: UInt8) -> Bool {
        let isUpper = byte >= 0x41 && byte <= 0x5A
        let isLower = byte >= 0x61 && byte <= 0x7A
        let isDigit = byte >= 0x30 && byte <= 0x39
        switch name {
        case "alnum": return isUpper || isLower || isDigit
        case "alpha": return isUpper || isLower
        case "blank": return byte == 0x20 || byte == 0x09
        case "cntrl": return byte < 0x20 || byte == 0x7F
        case "digit": return isDigit
        case "graph": return byte > 0x20 && byte < 0x7F
        case "lower": return isLower
        case "print": return byte >= 0x20 && byte < 0x7F
        case "punct": return byte > 0x20 && byte < 0x7F && !(isUpper || isLower || isDigit)
        case "space": return byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
        case "upper": return isUpper
        case "xdigit": return isDigit || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66)
        default: return false
        }
    }
}
