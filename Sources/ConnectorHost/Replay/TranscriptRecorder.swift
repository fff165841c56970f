import ConnectorProtocol

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes a sync's whole exchange to a file (`run --record FILE`) in the transcript format of
/// protocol/conformance/README.md, with the configuration's secret values masked in every line
/// (and those of the `secretKeys` the connector declares: the handshake waits for the header, so it
/// is masked knowing them).
///
/// The first line is the header, written once the sync knows how its warehouse names things;
/// entries before it (the handshake) wait in memory. Confined to the sync's thread. Costs nothing
/// when not recording: the session holds no recorder then.
final class TranscriptRecorder {
    private let descriptor: Int32
    private let secretMask: SecretMask
    /// Entries before the header, not yet masked: (prefix, body).
    private var pending: [(String, String)] = []
    private var headerWritten = false
    let path: String
    /// The first write error, reported once at the end of the sync.
    private(set) var failure: String?

    /// Creates (or truncates) `path`, readable by its owner only.
    /// - Throws: a message naming the file when it cannot be created.
    init(path: String, secretMask: SecretMask) throws(SyncFailure) {
        self.path = path
        self.secretMask = secretMask
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else {
            throw SyncFailure(
                .configuration, "cannot write the recording \(path): \(String(cString: strerror(errno))); choose another --record FILE",
                isUsageError: true)
        }
    }

    deinit { close(descriptor) }

    /// The header: `{"recording": 1, "connector", "host", "options": {...}}`; writes what waited for it.
    func start(connector: String, options: JSONObject) {
        guard !headerWritten else { return }
        headerWritten = true
        let header: JSONValue = [
            "recording": 1, "connector": .string(connector), "host": SyncRunner.host.json, "options": .object(options),
        ]
        let redactor = secretMask.redactor
        append(Array(redactor.mask(JSONWriter.string(header)).utf8))
        for (prefix, body) in pending { append(Array((prefix + redactor.mask(body) + "}").utf8)) }
        pending = []
    }

    /// A message the host sends.
    func host(_ message: Message) {
        entry(#"{"dir":"host->connector","message":"#, JSONWriter.string(message.json))
    }

    /// A line the connector wrote: a message, or an `invalid` entry when it is not JSON.
    func connector(_ line: UnsafeBufferPointer<UInt8>) {
        if (try? JSONParser.parse(line, maximumDepth: 512)) != nil {
            entry(#"{"dir":"connector->host","message":"#, String(decoding: line, as: UTF8.self))
        } else {
            entry(#"{"dir":"connector->host","invalid":"#, JSONWriter.string(.string(String(decoding: line, as: UTF8.self))))
        }
    }

    /// The host closed the connector's stdin.
    func closedInput() { entry(#"{"dir":"host->connector","close":"#, #""stdin""#) }

    private func entry(_ prefix: String, _ body: String) {
        guard headerWritten else { return pending.append((prefix, body)) }
        append(Array((prefix + secretMask.redactor.mask(body) + "}").utf8))
    }

    private func append(_ line: [UInt8]) {
        guard failure == nil else { return }
        var bytes = line
        bytes.append(0x0A)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                failure = "the recording \(path) could not be written (\(String(cString: strerror(errno)))); it is incomplete"
                return
            }
            offset += written
        }
    }
}
