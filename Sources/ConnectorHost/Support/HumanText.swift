import ConnectorProtocol
import Foundation

/// Short human-readable renderings shared by the sync, conformance and warehouse messages.
enum HumanText {
    /// The first 100 bytes of `bytes` as a quoted string (non-printable bytes as `\xNN`), with the
    /// total length when cut, the secrets of `redactor` masked first (``Redactor/preview(_:limit:)``).
    static func preview<Bytes: Collection<UInt8>>(_ bytes: Bytes, masking redactor: Redactor) -> String {
        redactor.preview(bytes)
    }

    /// Whether a scalar must not reach a terminal as is: C0 controls (tab included), DEL, C1 controls,
    /// and the invisible characters that reorder or break a line (bidirectional overrides and
    /// isolates, the line and paragraph separators).
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: true
        case 0x061C, 0x200E, 0x200F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    /// Text that came from outside the host (a connector's log, stderr, error message, name) made
    /// safe to print: every control character but the tab is escaped (`\n`, `\r`, `\x1B`,
    /// `\u{202E}`), so it can neither start a line of its own (forging `error:` or `outcome:`), nor
    /// move the cursor, colour or retitle the terminal.
    /// - Parameter keepingLineBreaks: keep `\n` (for a message the host composed of lines, whose
    ///   embedded connector text escaped its own line breaks already).
    static func escapingControls(_ text: String, keepingLineBreaks: Bool = false) -> String {
        func kept(_ scalar: Unicode.Scalar) -> Bool { !isControl(scalar) || scalar == "\t" || (keepingLineBreaks && scalar == "\n") }
        guard !text.unicodeScalars.allSatisfy(kept) else { return text }
        var result = ""
        result.reserveCapacity(text.utf8.count + 16)
        for scalar in text.unicodeScalars {
            guard !kept(scalar) else {
                result.unicodeScalars.append(scalar)
                continue
            }
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            default:
                result +=
                    scalar.value < 0x80
                    ? "\\x" + String(scalar.value, radix: 16, uppercase: true).leftPadded(to: 2)
                    : "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            }
        }
        return result
    }

    /// A name or value as a JSON string, for messages (quotes and every control character escaped).
    static func quoted(_ text: String) -> String { escapingControls(JSONWriter.string(.string(text))) }

    /// A duration for messages: "5 s", "0.5 s".
    static func seconds(_ value: Double) -> String {
        guard value.isFinite, value.magnitude < 1e15 else { return value.isNaN ? "? s" : String(format: "%.0f s", value) }
        return value == value.rounded() ? "\(Int(value)) s" : String(format: "%.1f s", value)
    }

    /// A duration option made safe to wait on, whatever a caller passed: NaN becomes `fallback`,
    /// a negative value 0, and anything beyond a year (infinity included) a year. Waits are
    /// bounded, and no conversion of it to an integer can trap.
    static func boundedSeconds(_ value: Double, fallback: Double) -> Double {
        if value.isNaN { return fallback }
        return min(max(value, 0), maximumSeconds)
    }

    /// The longest duration option: a year (as the command line allows).
    static let maximumSeconds: Double = 365 * 24 * 3600
}

extension String {
    /// The string with zeros in front up to `width` characters.
    func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
