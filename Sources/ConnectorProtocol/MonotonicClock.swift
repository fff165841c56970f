#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Seconds on the monotonic clock: the one clock of deadlines and durations in the host and the SDK.
package func monotonicSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

/// A timeout in seconds as poll(2) takes it: milliseconds rounded up, -1 (wait forever) for `nil`
/// or infinity, 0 for NaN or a negative value, and at most `Int32.max` (24 days; a longer wait
/// polls again). Never traps, whatever the seconds.
package func pollMilliseconds(_ seconds: Double?) -> Int32 {
    guard let seconds else { return -1 }
    if seconds.isNaN || seconds <= 0 { return 0 }
    if seconds == .infinity { return -1 }
    let milliseconds = (seconds * 1000).rounded(.up)
    return milliseconds >= Double(Int32.max) ? Int32.max : Int32(milliseconds)
}
