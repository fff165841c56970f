import ConnectorHost
import Foundation

/// How the text of an option's value becomes a typed value, with the usage error that says what to
/// type when it cannot.
///
/// Every number is checked finite and bounded here, before it reaches the library: a timeout of
/// `inf` or `1e300` is a usage error, not a trap converting seconds to milliseconds.
struct ValueParser<Value> {
    /// Parses `text`, given to the option `--name`.
    let parse: (_ text: String, _ name: String) throws(UsageError) -> Value
}

extension ValueParser where Value == String {
    /// Any text (a path, a name); kept as typed.
    static var text: ValueParser {
        ValueParser { text, _ in text }
    }
}

/// The longest duration an option takes: a year. Longer is a typo, and would overflow the
/// millisecond arithmetic of `poll`.
let maximumSeconds: Double = 365 * 86_400

extension ValueParser where Value == Double {
    /// A duration in seconds: finite, greater than 0, at most a year.
    static var seconds: ValueParser {
        ValueParser { text, name throws(UsageError) in
            guard let value = Double(text), value.isFinite, value > 0, value <= maximumSeconds else {
                throw UsageError(
                    "--\(name) takes a number of seconds greater than 0 and at most \(Int(maximumSeconds)) (a year), e.g. --\(name) 30; not \"\(text)\""
                )
            }
            return value
        }
    }
}

extension ValueParser where Value == Double {
    /// A duration: seconds, or numbers with units `s`, `m`, `h`, `d` (`90`, `90s`, `15m`, `1h30m`,
    /// `1.5h`, `1d`); greater than 0, at most a year.
    static var duration: ValueParser {
        ValueParser { text, name throws(UsageError) in
            guard let value = parseDuration(text), value > 0, value <= maximumSeconds else {
                throw UsageError(
                    "--\(name) takes a duration such as 30s, 15m, 1h30m or 1d (a bare number is seconds), more than 0 and at most a year; not \"\(text)\""
                )
            }
            return value
        }
    }

    /// `text` as seconds, or `nil` when it is not a duration.
    static func parseDuration(_ text: String) -> Double? {
        if let seconds = Double(text), seconds.isFinite { return seconds }
        var total = 0.0
        var number = ""
        for character in text {
            if character.isNumber || character == "." {
                number.append(character)
                continue
            }
            let unit: Double
            switch character {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86_400
            default: return nil
            }
            guard let value = Double(number), value.isFinite else { return nil }
            total += value * unit
            number = ""
        }
        return number.isEmpty && !text.isEmpty ? total : nil
    }
}

extension ValueParser where Value == Int {
    /// A whole number within `range`; `unit` names what it counts, for the message ("bytes").
    static func integer(_ range: ClosedRange<Int>, unit: String? = nil) -> ValueParser {
        ValueParser { text, name throws(UsageError) in
            guard let value = Int(text), range.contains(value) else {
                let what = unit.map { "a whole number of \($0)" } ?? "a whole number"
                throw UsageError("--\(name) takes \(what) from \(range.lowerBound) to \(range.upperBound), not \"\(text)\"")
            }
            return value
        }
    }
}

extension ValueParser where Value == [String] {
    /// A comma-separated list; blanks around names and empty items are dropped.
    static var commaSeparated: ValueParser {
        ValueParser { text, _ in
            text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
    }
}

extension ValueParser where Value == PostgresAddress {
    /// A `postgresql://` URI; the message never repeats it (it may hold a password).
    static var postgresURI: ValueParser {
        ValueParser { text, name throws(UsageError) in
            do throws(PostgresAddressError) { return try PostgresAddress(text) } catch {
                throw UsageError("--\(name): \(error.message)")
            }
        }
    }
}

extension ValueParser {
    /// One of a fixed set of words; `choices` is how the message lists them ("debug, info, warning or error").
    static func choice(_ choices: String, _ parse: @escaping (String) -> Value?) -> ValueParser {
        ValueParser { text, name throws(UsageError) in
            guard let value = parse(text) else { throw UsageError("--\(name) takes \(choices), not \"\(text)\"") }
            return value
        }
    }
}
