/// Validation and normalisation of date and time values, on bytes.
enum TemporalValues {
    /// Checks `YYYY-MM-DD`.
    static func isNaiveDate(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        bytes.count == 10 && dateFields(bytes) != nil
    }

    /// Normalises `YYYY-MM-DD[T ]HH:MM:SS[.f{1,9}]` to the `T` form; `nil` if invalid.
    static func naiveDateTime(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard bytes.count >= 19, dateFields(bytes) != nil, bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: " "),
            timeFields(bytes, at: 11) != nil
        else { return nil }
        let fractionEnd = fractionLength(bytes, at: 19)
        guard let fractionEnd, 19 + fractionEnd == bytes.count else { return nil }
        var result = Array(bytes)
        result[10] = UInt8(ascii: "T")
        return result
    }

    /// Normalises an RFC 3339 timestamp with `Z` or a `±HH:MM` offset to UTC with `Z`; `nil` if invalid.
    /// Already-normalised input (the common case) is recognised without arithmetic.
    static func utcDateTime(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard bytes.count >= 20, let date = dateFields(bytes),
            bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: " ") || bytes[10] == UInt8(ascii: "t"),
            let time = timeFields(bytes, at: 11), let fraction = fractionLength(bytes, at: 19)
        else { return nil }
        let zoneStart = 19 + fraction
        let zoneLength = bytes.count - zoneStart
        var offsetMinutes = 0
        if zoneLength == 1 && (bytes[zoneStart] == UInt8(ascii: "Z") || bytes[zoneStart] == UInt8(ascii: "z")) {
            offsetMinutes = 0
        } else if zoneLength == 6, bytes[zoneStart] == UInt8(ascii: "+") || bytes[zoneStart] == UInt8(ascii: "-"),
            bytes[zoneStart + 3] == UInt8(ascii: ":"), let hours = twoDigits(bytes, zoneStart + 1),
            let minutes = twoDigits(bytes, zoneStart + 4), hours < 24, minutes < 60
        {
            offsetMinutes = (hours * 60 + minutes) * (bytes[zoneStart] == UInt8(ascii: "-") ? -1 : 1)
        } else {
            return nil
        }
        let fractionBytes = Array(bytes[19..<zoneStart])
        if offsetMinutes == 0 {
            var result = Array(bytes[0..<zoneStart])
            result[10] = UInt8(ascii: "T")
            result.append(UInt8(ascii: "Z"))
            return result
        }
        // Shift to UTC through days since the epoch.
        var days = daysFromCivil(year: date.year, month: date.month, day: date.day)
        var minuteOfDay = time.hour * 60 + time.minute - offsetMinutes
        while minuteOfDay < 0 {
            minuteOfDay += 1440
            days -= 1
        }
        while minuteOfDay >= 1440 {
            minuteOfDay -= 1440
            days += 1
        }
        let civil = civilFromDays(days)
        guard civil.year >= 0, civil.year <= 9999 else { return nil }  // shifted out of the four-digit years
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        appendDateTime(&result, civil, secondOfDay: minuteOfDay * 60 + time.second)
        result.append(contentsOf: fractionBytes)
        result.append(UInt8(ascii: "Z"))
        return result
    }

    /// Whether `bytes` is exactly `YYYY-MM-DDTHH:MM:SSZ` or with a fraction before `Z`: storable as is.
    @inline(__always)
    static func isCanonicalUTC(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        bytes.count >= 20 && bytes[10] == UInt8(ascii: "T") && bytes[bytes.count - 1] == UInt8(ascii: "Z")
            && dateFields(bytes) != nil && timeFields(bytes, at: 11) != nil
            && fractionLength(bytes, at: 19) == bytes.count - 20
    }

    private static func twoDigits(_ bytes: UnsafeBufferPointer<UInt8>, _ at: Int) -> Int? {
        let high = bytes[at] &- UInt8(ascii: "0")
        let low = bytes[at + 1] &- UInt8(ascii: "0")
        guard high < 10, low < 10 else { return nil }
        return Int(high) * 10 + Int(low)
    }

    private static func dateFields(_ bytes: UnsafeBufferPointer<UInt8>) -> (year: Int, month: Int, day: Int)? {
        guard bytes.count >= 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            let century = twoDigits(bytes, 0), let yearOfCentury = twoDigits(bytes, 2),
            let month = twoDigits(bytes, 5), let day = twoDigits(bytes, 8)
        else { return nil }
        let year = century * 100 + yearOfCentury
        guard month >= 1, month <= 12, day >= 1, day <= daysIn(month: month, year: year) else { return nil }
        return (year, month, day)
    }

    private static func timeFields(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int) -> (hour: Int, minute: Int, second: Int)? {
        guard bytes.count >= start + 8, bytes[start + 2] == UInt8(ascii: ":"), bytes[start + 5] == UInt8(ascii: ":"),
            let hour = twoDigits(bytes, start), let minute = twoDigits(bytes, start + 3),
            let second = twoDigits(bytes, start + 6), hour < 24, minute < 60, second < 61
        else { return nil }
        return (hour, minute, second)
    }

    /// The length of an optional `.digits` fraction (1 to 9 digits) at `start`; `nil` when malformed.
    private static func fractionLength(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int) -> Int? {
        guard start < bytes.count, bytes[start] == UInt8(ascii: ".") else { return 0 }
        var end = start + 1
        while end < bytes.count, bytes[end] &- UInt8(ascii: "0") < 10 { end += 1 }
        let digits = end - start - 1
        return digits >= 1 && digits <= 9 ? digits + 1 : nil
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 (H. Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146097 + dayOfEra - 719468
    }

    static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let dayOfEra = z - era * 146097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func appendDigits(_ output: inout [UInt8], _ value: Int, width: Int) {
        var digits: [UInt8] = []
        var remaining = value
        for _ in 0..<width {
            digits.append(UInt8(ascii: "0") + UInt8(remaining % 10))
            remaining /= 10
        }
        output.append(contentsOf: digits.reversed())
    }

    /// The current UTC time as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    static func nowUTC() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return format(epochMilliseconds: Int(spec.tv_sec) * 1000 + Int(spec.tv_nsec) / 1_000_000)
    }

    /// Appends `YYYY-MM-DDTHH:MM:SS` (no fraction, no zone).
    static func appendDateTime(_ output: inout [UInt8], _ civil: (year: Int, month: Int, day: Int), secondOfDay: Int) {
        appendDigits(&output, civil.year, width: 4)
        output.append(UInt8(ascii: "-"))
        appendDigits(&output, civil.month, width: 2)
        output.append(UInt8(ascii: "-"))
        appendDigits(&output, civil.day, width: 2)
        output.append(UInt8(ascii: "T"))
        appendDigits(&output, secondOfDay / 3600, width: 2)
        output.append(UInt8(ascii: ":"))
        appendDigits(&output, secondOfDay / 60 % 60, width: 2)
        output.append(UInt8(ascii: ":"))
        appendDigits(&output, secondOfDay % 60, width: 2)
    }

    static func format(epochMilliseconds: Int) -> String {
        let seconds = epochMilliseconds / 1000
        let civil = civilFromDays(seconds / 86400)
        let secondOfDay = seconds % 86400
        var output: [UInt8] = []
        appendDateTime(&output, civil, secondOfDay: secondOfDay)
        output.append(UInt8(ascii: "."))
        appendDigits(&output, epochMilliseconds % 1000, width: 3)
        output.append(UInt8(ascii: "Z"))
        return String(decoding: output, as: UTF8.self)
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
