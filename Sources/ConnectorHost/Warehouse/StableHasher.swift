/// A 128-bit FNV-1a hash with length-prefixed inputs: stable across runs and platforms (unlike
/// Swift's `Hasher`, which is seeded per process).
struct StableHasher {
    private var high: UInt64 = 0x6C62_272E_07BB_0142
    private var low: UInt64 = 0x62B8_2175_6295_C58D

    mutating func combine(_ text: String) {
        var length = UInt64(text.utf8.count)
        for _ in 0..<8 {
            mix(UInt8(truncatingIfNeeded: length))
            length >>= 8
        }
        for byte in text.utf8 { mix(byte) }
    }

    fileprivate mutating func mix(_ byte: UInt8) {
        low ^= UInt64(byte)
        // Multiply the 128-bit state by the FNV-128 prime 2^88 + 0x13B.
        let product = low.multipliedFullWidth(by: 0x13B)
        let newHigh = high &* 0x13B &+ product.high &+ (low << 24)
        low = product.low
        high = newHigh
    }

    var hexDigest: String {
        let highText = String(high, radix: 16)
        let lowText = String(low, radix: 16)
        return String(repeating: "0", count: 16 - highText.count) + highText + String(repeating: "0", count: 16 - lowText.count) + lowText
    }
}

extension StableHasher {
    /// Adds `bytes`, length-prefixed like ``combine(_:)``.
    mutating func combine(bytes: [UInt8]) {
        var length = UInt64(bytes.count)
        for _ in 0..<8 {
            mix(UInt8(truncatingIfNeeded: length))
            length >>= 8
        }
        for byte in bytes { mix(byte) }
    }
}
