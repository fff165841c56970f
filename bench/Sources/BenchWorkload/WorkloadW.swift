/// Workload W: an exact port of `/work/shared/bench/workload_w.h` (see `bench/workload/workload_w.py`,
/// which documents the algorithm, and `bench/workload/check_ports.sh`, which checks this port).
///
/// One splitmix64 generator seeded with 42, never reset between rows; exactly seven draws per row in
/// the reference order. `amount` and `score` come from one IEEE division of an exact integer, so they
/// are bit-identical to the C and Python values.
public struct WorkloadW {
    /// The ten column names of table `items`, in order.
    public static let columns = [
        "id", "name", "email", "amount", "count", "active", "created_at", "category", "score", "note",
    ]
    /// The ten category words.
    public static let categories = [
        "electronics", "books", "clothing", "home", "garden", "toys", "sports", "beauty", "grocery", "automotive",
    ]

    /// One row of W.
    public struct Row: Equatable, Sendable {
        public var id: Int64
        public var name: String
        public var email: String
        public var amount: Double
        public var count: Int64
        public var active: Bool
        public var createdAt: String
        public var category: String
        public var score: Double
        public var note: String
    }

    private var state: UInt64
    private var nextID: Int64 = 1

    /// A generator positioned before row 1.
    public init(seed: UInt64 = 42) { state = seed }

    /// The next splitmix64 draw.
    @inline(__always)
    public mutating func draw() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The next row (row 1 first).
    public mutating func next() -> Row {
        let id = nextID
        nextID += 1
        let name = Self.letters(draw(), pairs: 6)
        let email = Self.letters(draw(), pairs: 4, suffix: "@example.com")
        var r = draw()
        let amount = Double(r % 10_000_000) / 100.0
        let count = Int64((r >> 24) % 1000)
        let active = (r >> 40) & 1 == 1
        let category = Self.categories[Int((r >> 41) % 10)]
        r = draw()
        let createdAt = Self.formatUTC(1_704_067_200 + Int64(r % 31_536_000))
        let score = Double((r >> 25) % 1_000_000) / 10000.0
        let note = Self.note(draw(), draw(), draw())
        return Row(
            id: id, name: name, email: email, amount: amount, count: count, active: active, createdAt: createdAt,
            category: category, score: score, note: note)
    }

    // MARK: Formatting

    /// `PAIRS[k]` of the reference: first letter `k % 26`, second `(k / 26) % 26`.
    @inline(__always)
    static func pair(_ index: UInt64) -> (UInt8, UInt8) {
        (UInt8(ascii: "a") + UInt8(index % 26), UInt8(ascii: "a") + UInt8((index / 26) % 26))
    }

    @inline(__always)
    static func fillPairs(_ buffer: UnsafeMutableBufferPointer<UInt8>, at start: Int, _ r: UInt64, pairs: Int) {
        for j in 0..<pairs {
            let (first, second) = pair((r >> UInt64(10 * j)) & 1023)
            buffer[start + 2 * j] = first
            buffer[start + 2 * j + 1] = second
        }
    }

    static func letters(_ r: UInt64, pairs: Int, suffix: StaticString = "") -> String {
        let length = 2 * pairs + suffix.utf8CodeUnitCount
        return String(unsafeUninitializedCapacity: length) { buffer in
            fillPairs(buffer, at: 0, r, pairs: pairs)
            for index in 0..<suffix.utf8CodeUnitCount { buffer[2 * pairs + index] = suffix.utf8Start[index] }
            return length
        }
    }

    /// 10 letters, a space, 10 letters, a space, 8 letters.
    static func note(_ first: UInt64, _ second: UInt64, _ third: UInt64) -> String {
        String(unsafeUninitializedCapacity: 30) { buffer in
            fillPairs(buffer, at: 0, first, pairs: 5)
            buffer[10] = UInt8(ascii: " ")
            fillPairs(buffer, at: 11, second, pairs: 5)
            buffer[21] = UInt8(ascii: " ")
            fillPairs(buffer, at: 22, third, pairs: 4)
            return 30
        }
    }

    /// Epoch seconds (>= 0) as `YYYY-MM-DDTHH:MM:SSZ` (H. Hinnant's civil_from_days, as in the header).
    public static func formatUTC(_ seconds: Int64) -> String {
        let days = seconds / 86400
        let secondOfDay = seconds % 86400
        let z = days + 719_468
        let era = z / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        var year = yearOfEra + era * 400
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        if month <= 2 { year += 1 }
        return String(unsafeUninitializedCapacity: 20) { buffer in
            func put2(_ at: Int, _ value: Int64) {
                buffer[at] = UInt8(ascii: "0") + UInt8(value / 10)
                buffer[at + 1] = UInt8(ascii: "0") + UInt8(value % 10)
            }
            put2(0, year / 100)
            put2(2, year % 100)
            buffer[4] = UInt8(ascii: "-")
            put2(5, month)
            buffer[7] = UInt8(ascii: "-")
            put2(8, day)
            buffer[10] = UInt8(ascii: "T")
            put2(11, secondOfDay / 3600)
            buffer[13] = UInt8(ascii: ":")
            put2(14, secondOfDay / 60 % 60)
            buffer[16] = UInt8(ascii: ":")
            put2(17, secondOfDay % 60)
            buffer[19] = UInt8(ascii: "Z")
            return 20
        }
    }
}
