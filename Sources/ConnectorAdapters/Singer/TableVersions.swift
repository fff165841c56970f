/// Singer's table versions (ACTIVATE_VERSION) as truncates.
///
/// A tap that reloads a table whole (full-table replication) stamps its records with a new
/// `version` and sends ACTIVATE_VERSION to say that rows of older versions are gone. The adapter
/// sends a `truncate` (soft-deletes every row written before it) just before the first record, or
/// the ACTIVATE_VERSION, of a version this sync has not seen: the rows of the new version that
/// follow are live, the rest are marked deleted, and both commit in the same transaction. A
/// version the tap resumes from its state (`bookmarks.STREAM.version`, the Singer convention) was
/// truncated by the run that started it, so it is not truncated again.
struct TableVersions {
    private var seen: [String: String] = [:]
    private let resumed: [String: String]

    /// - Parameter state: the state the tap starts from.
    init(state: [String: String]) { resumed = state }

    /// Whether `version` (its JSON text) of `stream` needs a truncate first; records it as seen.
    mutating func needsTruncate(stream: String, version: String) -> Bool {
        guard seen[stream] != version else { return false }
        seen[stream] = version
        return resumed[stream] != version
    }
}
