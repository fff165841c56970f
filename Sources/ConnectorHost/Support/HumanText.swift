import Foundation

/// Short human-readable renderings shared by the sync, conformance and warehouse messages.
enum HumanText {
    /// The first 100 bytes of `bytes` as a quoted string (non-printable bytes as `\xNN`), with the total length when cut.
    static func preview(_ bytes: UnsafeBufferPointer<UInt8>) -> String { preview(Array(bytes.prefix(100)), total: bytes.count) }

    /// The first 100 of `bytes` as a quoted string; `total` is the length of the whole, when `bytes` is a prefix.
    static func preview(_ bytes: [UInt8], total: Int? = nil) -> String {
        let shown = bytes.prefix(100).map { byte -> String in
            if byte >= 0x20 && byte < 0x7F { return String(UnicodeScalar(byte)) }
            return "\\x" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
        }.joined()
        return "\"\(shown)\"" + ((total ?? bytes.count) > 100 ? "… (\(total ?? bytes.count) bytes)" : "")
    }

    /// A duration for messages: "5 s", "0.5 s".
    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : String(format: "%.1f s", value)
    }
}

extension String {
    /// The string with zeros in front up to `width` characters.
    func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
