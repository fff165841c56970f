import ConnectorProtocol
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What `connector-host replay FILE` needs to know.
public struct ReplayOptions: Sendable {
    /// The recording (`run --record FILE`).
    public var recording: String
    /// The warehouse and state to replay into; by default beside the recording
    /// (`NAME.warehouse.db` and `NAME.state.json` for `NAME.jsonl`).
    public var files: WorkspaceFiles
    /// A PostgreSQL destination to replay into instead of the SQLite warehouse (the schema defaults
    /// to the recorded connector's name, as for `run`).
    public var postgres: PostgresTarget?
    /// Whether the state is mirrored to ``files``' state file too: by default only for SQLite (as for `run`).
    public var mirrorsState: Bool?

    public init(recording: String, warehouse: String? = nil, state: String? = nil) {
        self.recording = FilePaths.absolute(recording)
        let url = URL(fileURLWithPath: self.recording)
        let folder = url.deletingLastPathComponent().path
        let stem = url.deletingPathExtension().lastPathComponent
        files = WorkspaceFiles(
            directory: folder, warehouse: warehouse ?? folder + "/\(stem).warehouse.db", state: state ?? folder + "/\(stem).state.json")
    }
}

/// Applies a recording again without starting the connector: the recorded connector's lines are
/// fed to a real sync (the same session, validation and warehouse code as `run`) as if a connector
/// attached over two pipes wrote them, and the host's own messages are compared with the recorded
/// ones (same methods; the `update` state) instead of being answered.
public enum ReplayRunner {
    /// Replays `options.recording`.
    /// - Returns: the sync's report, and the differences between the host's messages and the
    ///   recorded ones (empty when the host asked exactly what it asked when recording).
    /// - Throws: a usage failure when the file is not a recording.
    public static func run(_ options: ReplayOptions, console: any SyncConsole) throws(SyncFailure) -> (
        report: SyncReport, differences: [String]
    ) {
        let recording = try Recording(path: options.recording)
        var toHost: [Int32] = [-1, -1]
        var fromHost: [Int32] = [-1, -1]
        guard pipe(&toHost) == 0, pipe(&fromHost) == 0 else {
            throw SyncFailure(.launch, "cannot create the pipes to replay through: \(String(cString: strerror(errno)))")
        }
        for fd in toHost + fromHost { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var sync = SyncOptions(directory: URL(fileURLWithPath: options.recording).deletingLastPathComponent().path, files: options.files)
        sync.attached = AttachedConnector(input: toHost[0], output: fromHost[1])
        sync.build = false
        sync.naming = recording.naming
        sync.fivetranConnector = recording.fivetran
        sync.tables = recording.tables
        sync.limit = recording.limit
        sync.connectorName = recording.connector
        sync.postgres = options.postgres
        sync.mirrorsState = options.mirrorsState
        let player = ReplayPlayer(entries: recording.entries, output: toHost[1], input: fromHost[0])
        let thread = Thread { player.play() }
        thread.stackSize = 1 << 20
        thread.start()
        let report = SyncRunner.run(sync, console: console)
        // The host is done: closing its ends wakes a player still writing (EPIPE) or reading (EOF).
        // The host closes its output itself once it started the session (as for any attached
        // connector), so that end is closed here only if it is still this pipe's.
        close(toHost[0])
        if isSamePipe(fromHost[1], as: fromHost[0]) { close(fromHost[1]) }
        player.finished.wait()
        return (report, player.differences)
    }
}

/// Whether `fd` is still open on the pipe whose other end is `other` (not closed, nor reused for another file).
private func isSamePipe(_ fd: Int32, as other: Int32) -> Bool {
    var mine = stat()
    var theirs = stat()
    guard fstat(fd, &mine) == 0, fstat(other, &theirs) == 0 else { return false }
    return (mine.st_mode & S_IFMT) == S_IFIFO && mine.st_ino == theirs.st_ino && mine.st_dev == theirs.st_dev
}

/// A recording read back: its header and its entries.
struct Recording {
    var connector: String
    var naming: NamingStrategy?
    var fivetran: Bool?
    var tables: [String]?
    var limit: Int?
    var entries: [JSONValue]

    init(path: String) throws(SyncFailure) {
        let bytes: [UInt8]?
        do { bytes = try SafeFile.read(path, limit: 1 << 34) } catch {
            throw SyncFailure(.configuration, "the recording \(path) \(error.description)", isUsageError: true)
        }
        guard let bytes else {
            throw SyncFailure(
                .configuration, "the recording \(path) does not exist; make one with `connector-host run --record FILE`", isUsageError: true
            )
        }
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: true).makeIterator()
        guard let first = lines.next(), let header = try? JSONParser.parse(Array(first)), header["recording"]?.int64Value == 1 else {
            throw SyncFailure(
                .configuration,
                "\(path) is not a connector-host recording (its first line has no \"recording\": 1); make one with `connector-host run --record FILE`",
                isUsageError: true)
        }
        connector = header["connector"]?.stringValue ?? "replay"
        let options = header["options"]
        naming = options?["naming"]?.stringValue.flatMap(NamingStrategy.init(rawValue:))
        fivetran = options?["fivetran"]?.boolValue
        tables = options?["tables"]?.arrayValue?.compactMap(\.stringValue)
        limit = options?["limit"]?.int64Value.map(Int.init)
        entries = []
        var number = 1
        while let line = lines.next() {
            number += 1
            do { entries.append(try JSONParser.parse(Array(line))) } catch {
                throw SyncFailure(
                    .configuration, "the recording \(path) line \(number) is not JSON (\(error)); it was cut or edited", isUsageError: true)
            }
        }
    }
}

/// Plays the connector's side of a recording on a thread of its own: writes the recorded
/// connector lines to the host, and reads (and compares) each host message where the recording
/// has one, so the two sides stay in the recorded order.
final class ReplayPlayer: @unchecked Sendable {
    // @unchecked: `differences` is written by the player's thread only, and read by the caller only
    // after `finished` is signalled (the semaphore orders the accesses).
    private let entries: [JSONValue]
    private let output: Int32
    private let input: Int32
    private(set) var differences: [String] = []
    let finished = DispatchSemaphore(value: 0)

    init(entries: [JSONValue], output: Int32, input: Int32) {
        self.entries = entries
        self.output = output
        self.input = input
    }

    func play() {
        defer {
            close(output)
            // Read on to the host's EOF, so that nothing it writes ever blocks it.
            let rest = LineReader(fileDescriptor: input)
            while (try? rest.nextLine()) != nil {}
            close(input)
            finished.signal()
        }
        let writer = LineWriter(fileDescriptor: output)
        let reader = LineReader(fileDescriptor: input)
        for (index, entry) in entries.enumerated() {
            let direction = entry["dir"]?.stringValue
            if direction == "connector->host" {
                if let message = entry["message"] {
                    guard (try? writer.write(Array((JSONWriter.string(message) + "\n").utf8))) != nil else { return }
                } else if let text = entry["invalid"]?.stringValue {
                    guard (try? writer.write(Array((text + "\n").utf8))) != nil else { return }
                }
                continue
            }
            guard direction == "host->connector", let recorded = entry["message"] else { continue }
            guard let line = try? reader.nextLine(timeout: 120) else {
                // The host stopped (a failure it reports itself) before the recording did.
                return
            }
            compare(try? JSONParser.parse(line), with: recorded, entry: index + 2)
        }
    }

    /// Notes where the host's message differs from the recorded one: its method, or update's state.
    private func compare(_ sent: JSONValue?, with recorded: JSONValue, entry line: Int) {
        let method = recorded["method"]?.stringValue
        let sentMethod = sent?["method"]?.stringValue
        guard method == sentMethod else {
            differences.append(
                "recording line \(line): the host sent \(sentMethod.map { "a \($0) message" } ?? "an answer") where the recording has \(method.map { "a \($0) message" } ?? "an answer")"
            )
            return
        }
        if method == UpdateRequest.method {
            let state = sent?["params"]?["state"] ?? [:]
            let recordedState = recorded["params"]?["state"] ?? [:]
            if state != recordedState && Redaction.maskedJSON(JSONWriter.string(state)) != JSONWriter.string(recordedState) {
                differences.append(
                    "recording line \(line): the host's update state \(Redaction.maskedJSON(JSONWriter.string(state))) differs from the recorded \(JSONWriter.string(recordedState)): the recording started from another state; its operations are applied all the same"
                )
            }
        }
    }
}
