import ConnectorProtocol
import Dispatch
import Foundation
import Synchronization
import Testing

@testable import ConnectorSDK

/// A connector for the runtime test: two rows, a log line, a checkpoint.
private struct TwoRows: Connector {
    var name: String { "two-rows" }
    var version: String { "2.0.0" }

    func schema(configuration: Configuration) throws -> [TableDefinition] {
        [
            TableDefinition(
                name: "t", primaryKey: ["id"],
                columns: [("id", ColumnType(.long)), ("price", ColumnType(.decimal, precision: 10, scale: 2))])
        ]
    }

    func update(configuration: Configuration, state: JSONValue, operations: Operations) throws {
        let start = state["cursor"]?.int64Value ?? 0
        Log.info("from \(start)")
        try operations.upsert("t", ["id": .number(JSONNumber(start + 1)), "price": "1.50"])
        try operations.upsert("t") { row in
            row.field("id", start + 2)
            row.field("note", "tab\there")
        }
        try operations.checkpoint(["cursor": .number(JSONNumber(start + 2))])
        try operations.delete("t", keys: ["id": .number(JSONNumber(start + 1))])
        try operations.truncate("t")
    }
}

/// A connector that writes every kind of field through the row writer, for upsert, update and delete.
private struct RowWriterFields: Connector {
    func schema(configuration: Configuration) throws -> [TableDefinition] { [] }
    func update(configuration: Configuration, state: JSONValue, operations: Operations) throws {
        try operations.upsert("t") { row in
            row.field("min", Int64.min)
            row.field("max", Int.max)
            row.field("zero", 0)
            row.field("negative", -42)
            row.field("tenth", 0.1)
            row.field("whole", 1570.0)
            row.field("tiny", 1e-7)
            row.field("huge", -1e300)
            row.field("nan", Double.nan)
            row.field("yes", true)
            row.field("no", false)
            row.field("text", "quote\" back\\ \u{1} é")
            row.field("json", JSONValue.null)
        }
        try operations.update("t") { row in
            row.field("id", 7)
            row.field("score", 2.5)
        }
        try operations.delete("t") { row in row.field("id", 7) }
    }
}

/// A connector with a secret under a name the host would not guess.
private struct SecretKeyed: Connector {
    var name: String { "keyed" }
    var secretKeys: [String] { ["pin"] }
    func schema(configuration: Configuration) throws -> [TableDefinition] { [] }
    func update(configuration: Configuration, state: JSONValue, operations: Operations) throws {}
}

private struct FailingConnector: Connector {
    func schema(configuration: Configuration) throws -> [TableDefinition] { [] }
    func update(configuration: Configuration, state: JSONValue, operations: Operations) throws {
        _ = try configuration.int("page_size")
    }
}

/// The host's end of the pipes to an in-process connector runtime, used from one thread.
private final class HostEnd {
    let input: Int32
    let reader: LineReader
    /// Every line the connector wrote, in order.
    var lines: [String] = []

    init(input: Int32, output: Int32) {
        self.input = input
        reader = LineReader(fileDescriptor: output)
    }

    func send(_ line: String) {
        try? LineWriter(fileDescriptor: input).write(Array((line + "\n").utf8))
    }

    /// The connector's next line, or nil at its end or after `timeout` seconds.
    func next(timeout: Double = 60) -> String? {
        guard let line = try? reader.nextLine(timeout: timeout) else { return nil }
        let text = String(decoding: line, as: UTF8.self)
        lines.append(text)
        return text
    }

    /// Reads until a line with `"id":N` and a member `member` ("method", "result" or "error"); false at
    /// the end of output or on timeout.
    func readUntil(id: Int64, _ members: [String], timeout: Double = 60) -> Bool {
        while let line = next(timeout: timeout) {
            guard let message = try? JSONParser.parse(Array(line.utf8)), message["id"]?.int64Value == id else { continue }
            if members.contains(where: { message[$0] != nil }) { return true }
        }
        return false
    }

    func closeInput() { close(input) }
}

/// A task executor with one thread of its own: the runtime under test runs there, so tests that
/// block the shared cooperative pool (whole syncs, conformance runs) cannot starve it for minutes.
private final class ThreadExecutor: TaskExecutor {
    private let jobs = Mutex<[UnownedJob]>([])
    private let available = DispatchSemaphore(value: 0)

    init() {
        Thread { [self] in
            while true {
                available.wait()
                // Each job signals once and so does stop(): a wake with no job left is stop's.
                guard let job = jobs.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { return }
                job.runSynchronously(on: asUnownedTaskExecutor())
            }
        }.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        jobs.withLock { $0.append(job) }
        available.signal()
    }

    /// Ends the thread once the jobs enqueued so far ran.
    func stop() { available.signal() }
}

/// Runs `connector` in-process over two pipes while `host` plays the host on a thread of its own
/// (blocking reads, off the cooperative pool); returns the runtime's exit status and the lines it wrote.
private func converse<C: Connector>(_ connector: C, host: @escaping @Sendable (HostEnd) -> Void) async throws -> (
    status: Int32, lines: [String]
) {
    var toConnector: [Int32] = [0, 0]
    var fromConnector: [Int32] = [0, 0]
    #expect(pipe(&toConnector) == 0 && pipe(&fromConnector) == 0)
    let (hostInput, hostOutput) = (toConnector[1], fromConnector[0])
    let hostDone = DispatchSemaphore(value: 0)
    let hostLines = Mutex<[String]>([])
    Thread {
        let end = HostEnd(input: hostInput, output: hostOutput)
        host(end)
        end.closeInput()
        while end.next() != nil {}
        hostLines.withLock { $0 = end.lines }
        hostDone.signal()
    }.start()
    let executor = ThreadExecutor()
    let runtime = ConnectorRuntime(connector: connector, input: toConnector[0], output: fromConnector[1])
    let status = await withTaskExecutorPreference(executor) { await runtime.run() }
    executor.stop()
    close(fromConnector[1])
    await withCheckedContinuation { continuation in
        DispatchQueue.global().async {
            hostDone.wait()
            continuation.resume()
        }
    }
    close(toConnector[0])
    close(fromConnector[0])
    return (status, hostLines.withLock { $0 })
}

/// Plays `input` to `connector` as a host would: a response line is sent only once the connector
/// has sent the request it answers; stdin is closed once every request of `input` is answered.
private func converse<C: Connector>(_ connector: C, _ input: [String]) async throws -> (status: Int32, lines: [String]) {
    try await converse(connector) { host in
        var requests: [Int64] = []
        for line in input {
            let message = try? JSONParser.parse(Array(line.utf8))
            if let id = message?["id"]?.int64Value {
                if message?["method"] != nil {
                    requests.append(id)
                } else if !host.readUntil(id: id, ["method"]) {
                    return
                }
            }
            host.send(line)
        }
        for id in requests
        where !host.lines.contains(where: { $0.contains("\"id\":\(id),\"result\"") || $0.contains("\"id\":\(id),\"error\"") }) {
            guard host.readUntil(id: id, ["result", "error"]) else { return }
        }
    }
}

/// Checkpoints from two threads at once (the class doc permits any number of tasks or threads).
private struct ConcurrentCheckpoints: Connector {
    func schema(configuration: Configuration) throws -> [TableDefinition] { [] }
    func update(configuration: Configuration, state: JSONValue, operations: Operations) async throws {
        let failures = Mutex<[String]>([])
        let done = DispatchGroup()
        for thread in 1...2 {
            done.enter()
            Thread {
                do { try operations.checkpoint(["thread": .number(JSONNumber(thread))]) } catch {
                    failures.withLock { $0.append("thread \(thread): \(error)") }
                }
                done.leave()
            }.start()
        }
        await withCheckedContinuation { continuation in done.notify(queue: .global()) { continuation.resume() } }
        if let failure = failures.withLock({ $0.first }) { throw ConnectorError(.sourceError, failure) }
    }
}

/// Upserts for 20 s without a checkpoint, sleeping between rows (`sleeping`) or not (`busy`).
private struct LongUpdate: Connector {
    let sleeping: Bool
    init() { sleeping = true }
    init(sleeping: Bool) { self.sleeping = sleeping }

    func schema(configuration: Configuration) throws -> [TableDefinition] { [] }
    func update(configuration: Configuration, state: JSONValue, operations: Operations) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        var id: Int64 = 0
        while ContinuousClock.now < deadline {
            id += 1
            try operations.upsert("t") { $0.field("id", id) }
            if sleeping { try await Task.sleep(for: .milliseconds(5)) }
        }
    }
}

private let initializeLine =
    #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":1,"host":{"name":"test","version":"0"},"configuration":{}}}"#
private let updateLine = #"{"jsonrpc":"2.0","id":2,"method":"update","params":{"configuration":{},"state":{}}}"#

@Suite("Swift SDK runtime")
struct ConnectorRuntimeTests {
    @Test("a connector run against pipes produces exactly the expected lines")
    func exactLines() async throws {
        let (status, lines) = try await converse(
            TwoRows(),
            [
                #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":1,"host":{"name":"test","version":"0"},"configuration":{}}}"#,
                #"{"jsonrpc":"2.0","id":2,"method":"schema","params":{"configuration":{}}}"#,
                #"{"jsonrpc":"2.0","id":3,"method":"update","params":{"configuration":{},"state":{"cursor":10}}}"#,
                #"{"jsonrpc":"2.0","id":1,"result":{}}"#,
                #"{"jsonrpc":"2.0","id":4,"method":"shutdown","params":{}}"#,
            ])
        #expect(status == 0)
        #expect(
            lines == [
                #"{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":1,"connector":{"name":"two-rows","version":"2.0.0"},"capabilities":{"test":false,"selectTables":false}}}"#,
                #"{"jsonrpc":"2.0","id":2,"result":{"tables":[{"table":"t","primaryKey":["id"],"columns":{"id":"LONG","price":{"type":"DECIMAL","precision":10,"scale":2}}}]}}"#,
                #"{"jsonrpc":"2.0","method":"log","params":{"level":"info","message":"from 10"}}"#,
                #"{"jsonrpc":"2.0","method":"records","params":{"ops":[{"op":"upsert","table":"t","data":{"id":11,"price":"1.50"}},{"op":"upsert","table":"t","data":{"id":12,"note":"tab\there"}}]}}"#,
                #"{"jsonrpc":"2.0","id":1,"method":"checkpoint","params":{"state":{"cursor":12}}}"#,
                #"{"jsonrpc":"2.0","method":"records","params":{"ops":[{"op":"delete","table":"t","keys":{"id":11}},{"op":"truncate","table":"t"}]}}"#,
                #"{"jsonrpc":"2.0","id":3,"result":{}}"#,
                #"{"jsonrpc":"2.0","id":4,"result":{}}"#,
            ])
    }

    @Test("secretKeys are announced in the initialize result, and only when the connector has some")
    func secretKeys() async throws {
        let (status, lines) = try await converse(
            SecretKeyed(), [#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":1,"configuration":{}}}"#])
        #expect(status == 0)
        #expect(
            lines == [
                #"{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":1,"connector":{"name":"keyed","version":"0.0.0"},"capabilities":{"test":false,"selectTables":false},"secretKeys":["pin"]}}"#
            ])
    }

    @Test("the row writer encodes integers, doubles, booleans, strings and JSON values exactly, for upsert, update and delete")
    func rowWriterFields() async throws {
        let (status, lines) = try await converse(
            RowWriterFields(),
            [
                #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":1,"configuration":{}}}"#,
                #"{"jsonrpc":"2.0","id":2,"method":"update","params":{"configuration":{},"state":{}}}"#,
            ])
        #expect(status == 0)
        #expect(
            lines.dropFirst().first
                == #"{"jsonrpc":"2.0","method":"records","params":{"ops":[{"op":"upsert","table":"t","data":{"min":-9223372036854775808,"max":9223372036854775807,"zero":0,"negative":-42,"tenth":0.1,"whole":1570.0,"tiny":1e-07,"huge":-1e+300,"nan":null,"yes":true,"no":false,"text":"quote\" back\\ \u0001 é","json":null}},{"op":"update","table":"t","data":{"id":7,"score":2.5}},{"op":"delete","table":"t","keys":{"id":7}}]}}"#
        )
    }

    @Test("requests before initialize get -32002; unknown methods get -32601; garbage gets -32700")
    func errors() async throws {
        let (status, lines) = try await converse(
            TwoRows(),
            [
                #"{"jsonrpc":"2.0","id":1,"method":"schema","params":{}}"#,
                #"{"jsonrpc":"2.0","id":2,"method":"initialize","params":{"protocolVersion":1}}"#,
                #"{"jsonrpc":"2.0","id":3,"method":"frobnicate","params":{}}"#,
                #"{"jsonrpc":"2.0","method":"no-such-notification","params":{}}"#,
                "not json",
            ])
        #expect(status == 0)
        // A failed expectation, not an index trap that would end the whole test process.
        try #require(lines.count >= 4, "the connector wrote \(lines.count) lines: \(lines)")
        #expect(lines[0] == #"{"jsonrpc":"2.0","id":1,"error":{"code":-32002,"message":"send initialize before schema"}}"#)
        #expect(lines[2] == #"{"jsonrpc":"2.0","id":3,"error":{"code":-32601,"message":"unknown method \"frobnicate\""}}"#)
        #expect(lines[3].hasPrefix(#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"invalid JSON: "#))
        #expect(lines.count == 4)
    }

    @Test("a newer requested version is answered with the version the SDK speaks")
    func versionNegotiation() async throws {
        let (_, lines) = try await converse(
            TwoRows(), [#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":7}}"#])
        #expect(lines.first?.contains(#""protocolVersion":1"#) == true)
    }

    @Test("a configuration error becomes a -32012 answer naming the key")
    func configurationError() async throws {
        let (_, lines) = try await converse(
            FailingConnector(),
            [
                #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":1}}"#,
                #"{"jsonrpc":"2.0","id":2,"method":"update","params":{"configuration":{"page_size":"ten"},"state":{}}}"#,
            ])
        #expect(
            lines.last
                == #"{"jsonrpc":"2.0","id":2,"error":{"code":-32012,"message":"configuration key \"page_size\" must be an integer, got \"ten\""}}"#
        )
    }

    @Test("configuration accessors convert strings and say what is wrong")
    func configurationAccessors() throws {
        let configuration = Configuration(["n": "42", "flag": "TRUE", "list": "a, b,,c", "json": #"{"k":1}"#, "real": true])
        #expect(try configuration.int("n") == 42)
        #expect(try configuration.bool("flag"))
        #expect(try configuration.bool("real"))
        #expect(try configuration.list("list") == ["a", "b", "c"])
        #expect(try configuration.object("json")["k"] == 1)
        #expect(try configuration.string("missing", default: "d") == "d")
        #expect(throws: ConnectorError.self) { try configuration.string("missing") }
        do {
            _ = try configuration.string("missing")
        } catch {
            #expect(error.message == "configuration key \"missing\" is missing; add it to configuration.json")
        }
    }

    @Test("two threads checkpointing at once each get their own answer, whatever order the host answers in")
    func concurrentCheckpoints() async throws {
        let (status, lines) = try await converse(ConcurrentCheckpoints()) { host in
            host.send(initializeLine)
            guard host.readUntil(id: 1, ["result"]) else { return }
            host.send(updateLine)
            var checkpointIDs: [Int64] = []
            while checkpointIDs.count < 2, let line = host.next() {
                let message = try? JSONParser.parse(Array(line.utf8))
                if message?["method"]?.stringValue == "checkpoint", let id = message?["id"]?.int64Value { checkpointIDs.append(id) }
            }
            // The later request first: a reader that drops answers meant for others would lose one.
            for id in checkpointIDs.reversed() { host.send(#"{"jsonrpc":"2.0","id":\#(id),"result":{}}"#) }
            _ = host.readUntil(id: 2, ["result", "error"])
        }
        #expect(status == 0)
        #expect(lines.filter { $0.contains(#""method":"checkpoint""#) }.count == 2)
        #expect(lines.last == #"{"jsonrpc":"2.0","id":2,"result":{}}"#)
    }

    @Test("cancel during a long update reaches the connector at once, not at its next checkpoint", arguments: [true, false])
    func cancelDuringUpdate(sleeping: Bool) async throws {
        let (status, lines) = try await converse(LongUpdate(sleeping: sleeping)) { host in
            host.send(initializeLine)
            guard host.readUntil(id: 1, ["result"]) else { return }
            host.send(updateLine)
            Thread.sleep(forTimeInterval: 0.2)
            host.send(#"{"jsonrpc":"2.0","method":"cancel","params":{"reason":"cancelled by the user"}}"#)
            _ = host.readUntil(id: 2, ["result", "error"])
        }
        #expect(status == 0)
        #expect(lines.last == #"{"jsonrpc":"2.0","id":2,"error":{"code":-32014,"message":"the host cancelled the sync"}}"#)
    }

}

/// A connector using the operations Fivetran's SDK 3.0 has: a destination schema, bytes, a warning.
private struct SchemasAndWarnings: Connector {
    func schema(configuration: Configuration) throws -> [TableDefinition] {
        [TableDefinition(name: "items", schema: "archive", primaryKey: ["id"])]
    }
    func update(configuration: Configuration, state: JSONValue, operations: Operations) throws {
        try operations.upsert("items", schema: "archive", ["id": 1], binary: ["thumbnail": [0, 1, 255]])
        try operations.warning("page 2 was empty")
        try operations.truncate("items", schema: "archive")
    }
}

@Suite("Swift SDK: schemas, bytes and warnings")
struct FivetranOperationsTests {
    @Test("schema-qualified ops carry \"schema\", bytes travel base64 with a BINARY hint, a warning follows the ops before it")
    func lines() async throws {
        let (status, lines) = try await converse(
            SchemasAndWarnings(),
            [
                initializeLine, #"{"jsonrpc":"2.0","id":3,"method":"schema","params":{"configuration":{}}}"#, updateLine,
            ])
        #expect(status == 0)
        #expect(
            Array(lines.dropFirst()) == [
                #"{"jsonrpc":"2.0","id":3,"result":{"tables":[{"table":"items","schema":"archive","primaryKey":["id"],"columns":{}}]}}"#,
                #"{"jsonrpc":"2.0","method":"records","params":{"ops":[{"op":"upsert","table":"items","schema":"archive","data":{"id":1,"thumbnail":"AAH/"},"types":{"thumbnail":"BINARY"}}]}}"#,
                #"{"jsonrpc":"2.0","method":"warning","params":{"message":"page 2 was empty"}}"#,
                #"{"jsonrpc":"2.0","method":"records","params":{"ops":[{"op":"truncate","table":"items","schema":"archive"}]}}"#,
                #"{"jsonrpc":"2.0","id":2,"result":{}}"#,
            ])
    }
}

private struct FileUploads: Connector {
    func schema(configuration: Configuration) throws -> [TableDefinition] { [TableDefinition(name: "docs", primaryKey: ["id"])] }
    func update(configuration: Configuration, state: JSONValue, operations: Operations) throws {
        try operations.upsert("docs", ["id": 1], file: FileUpload(path: "a/one.txt", bytes: Array("one".utf8), expectedBytes: 3))
        try operations.update("docs", schema: "archive", ["id": 1], file: FileUpload(path: "copy.txt", copying: try configuration.string("local")))
        try operations.checkpoint(["n": 1])
        try operations.upsert("docs", ["id": 2], file: FileUpload(path: "x.txt", bytes: Array("four".utf8), expectedBytes: 3))
    }
}

@Suite("Swift SDK: file uploads")
struct FileUploadSDKTests {
    @Test("a file op stages its bytes in the update's fileStaging folder and carries path, source and size; a wrong expectedBytes fails the update")
    func staged() async throws {
        let staging = FileManager.default.temporaryDirectory.appendingPathComponent("sdk-staging-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: staging) }
        let local = staging + ".local"
        try "from disk".write(toFile: local, atomically: true, encoding: .utf8)
        defer { unlink(local) }
        let update = #"{"jsonrpc":"2.0","id":2,"method":"update","params":{"configuration":{"local":"\#(local)"},"state":{},"fileStaging":"\#(staging)"}}"#
        let (status, lines) = try await converse(FileUploads(), [initializeLine, update, #"{"jsonrpc":"2.0","id":1,"result":{}}"#])
        #expect(status == 0)
        let pid = getpid()
        #expect(
            Array(lines.dropFirst()) == [
                #"{"jsonrpc":"2.0","method":"records","params":{"ops":[{"op":"upsert","table":"docs","data":{"id":1},"file":{"path":"a/one.txt","source":"\#(staging)/upload-\#(pid)-1","size":3}},{"op":"update","table":"docs","schema":"archive","data":{"id":1},"file":{"path":"copy.txt","source":"\#(staging)/upload-\#(pid)-2","size":9}}]}}"#,
                #"{"jsonrpc":"2.0","id":1,"method":"checkpoint","params":{"state":{"n":1}}}"#,
                #"{"jsonrpc":"2.0","id":2,"error":{"code":-32013,"message":"upsert on docs: the file \"x.txt\": expectedBytes is 3 but it has 4 bytes"}}"#,
            ], "\(lines)")
        #expect(try String(contentsOfFile: staging + "/upload-\(pid)-1", encoding: .utf8) == "one")
        #expect(try String(contentsOfFile: staging + "/upload-\(pid)-2", encoding: .utf8) == "from disk")
        #expect(!FileManager.default.fileExists(atPath: staging + "/upload-\(pid)-3"), "the refused file is removed")
    }
}
