// The libFuzzer target for what the host reads from a connector: the line reader, the JSON-RPC
// message decoder and the record scanner and applier writing into a scratch SQLite warehouse.
//
// Built by fuzz/run.sh into the ConnectorHost module itself (so it reaches internal types such as
// RecordApplier), with `swiftc -sanitize=fuzzer,address`; never part of `swift build`.
//
// Each input is a connector's stdout: the reader splits it into lines (with a line limit chosen by
// the input's size, so the limit, growth and partial-line paths all run), and every line goes
// where the sync would send it. Properties checked besides "no crash, no hang, bounded memory":
// - a line the tree parser accepts is written back by JSONWriter as text that parses to the same value;
// - a schema result that validates applies to the warehouse or is refused with a SchemaConflict;
// - the record applier either applies a line or throws one of the errors the sync reports.

import ConnectorProtocol
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The scratch warehouse and the input file, kept across inputs (libFuzzer calls in one thread).
final class FuzzHarness {
    nonisolated(unsafe) static let shared = FuzzHarness()

    let warehouse: Warehouse
    let inputFile: Int32
    var sqliteErrors: Set<String> = []
    /// Masks the secret a hostile input may echo, as a sync's redactor would.
    let redactor = Redactor(secrets: ["secret-value"])

    init() {
        // In memory: nothing on disk grows, and each input ends with a rollback to the base schema.
        warehouse = try! Warehouse(path: ":memory:")
        _ = try! warehouse.beginSync(connector: "fuzz")
        let base = try! SchemaValidator.tables(
            from: try! JSONParser.parse(
                #"{"tables":[{"table":"items","primaryKey":["id"],"columns":{"id":"LONG","name":"STRING","price":{"type":"DECIMAL","precision":10,"scale":2},"score":"DOUBLE","flag":"BOOLEAN","small":"SHORT","n":"INT","at":"UTC_DATETIME","day":"NAIVE_DATE","local":"NAIVE_DATETIME","blob":"BINARY","doc":"JSON","xml":"XML","f":"FLOAT"}},{"table":"events","primaryKey":[],"columns":{"kind":"STRING","amount":"LONG"}},{"table":"pairs","primaryKey":["a","b"],"columns":{"a":"STRING","b":"INT","v":"STRING"}}]}"#
            ))
        try! warehouse.apply(schema: base)
        try! warehouse.checkpoint(state: "{}")
        try! warehouse.beginTransaction()
        var template = Array("/tmp/connector-host-fuzz-XXXXXX".utf8CString)
        inputFile = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        precondition(inputFile >= 0)
    }

    func run(_ input: UnsafeBufferPointer<UInt8>) {
        _ = ftruncate(inputFile, 0)
        if let base = input.baseAddress, input.count > 0 { _ = pwrite(inputFile, base, input.count, 0) }
        _ = lseek(inputFile, 0, SEEK_SET)
        let limits = [64, 4096, 1 << 20]
        let reader = LineReader(fileDescriptor: inputFile, maximumLineLength: limits[input.count % 3], readSize: 64)
        let applier = RecordApplier(warehouse: warehouse)
        while true {
            let line: UnsafeBufferPointer<UInt8>?
            do throws(LineReadError) { line = try reader.nextLine(timeout: 5) } catch {
                if case .partialLineAtEOF(_, let prefix) = error { _ = HumanText.preview(prefix, masking: redactor) }
                break
            }
            guard let line else { break }
            handle(line, lineNumber: reader.lineNumber, applier: applier)
        }
        warehouse.rollback()
        applier.resetCaches()
        try! warehouse.beginTransaction()
    }

    private func handle(_ line: UnsafeBufferPointer<UInt8>, lineNumber: Int, applier: RecordApplier) {
        _ = HumanText.preview(line, masking: redactor)
        do {
            if try applier.applyIfRecords(line, lineNumber: lineNumber) == .records { return }
        } catch let error as InvalidOperation {
            _ = error.failure(redacting: redactor).message
        } catch is JSONSyntaxError {
        } catch let error as SQLiteError {
            // The sync reports these as warehouse failures; list each kind once, to review after a run.
            let kind = "\(error.code): \(error.message.prefix(60))"
            if sqliteErrors.insert(kind).inserted { FileHandle.standardError.write(Data("fuzz: SQLite error \(kind)\n".utf8)) }
        } catch {
            fatalError("the record applier threw an unexpected \(type(of: error)): \(error)")
        }
        guard let value = try? JSONParser.parse(line, maximumDepth: 64) else { return }
        let written = JSONWriter.string(value)
        guard let reparsed = try? JSONParser.parse(written) else {
            fatalError("JSONWriter wrote text that does not parse: \(written)")
        }
        precondition(reparsed == value, "JSONWriter changed a value: \(written)")
        _ = Redaction.maskedJSON(written, secrets: ["secret-value"])
        guard let message = try? Message(json: value) else { return }
        let result: JSONValue
        switch message {
        case .response(_, let answer): result = answer
        case .request(_, _, let params), .notification(_, let params): result = params
        case .errorResponse: return
        }
        guard result["tables"] != nil, let tables = try? SchemaValidator.tables(from: result) else { return }
        do { try warehouse.apply(schema: tables) } catch is SchemaConflict {} catch is SQLiteError {} catch {
            fatalError("applying a valid schema threw an unexpected \(type(of: error)): \(error)")
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    FuzzHarness.shared.run(UnsafeBufferPointer(start: data, count: size))
    return 0
}
