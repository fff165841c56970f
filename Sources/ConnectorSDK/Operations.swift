public import ConnectorProtocol

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Sends a connector's changes to the host: upserts, updates, deletes, truncates and checkpoints.
///
/// Operations are batched into `records` messages; a batch is flushed when it is full, before
/// every checkpoint and when `update` returns. Writing blocks while the host is busy (pipe
/// backpressure), which is the protocol's flow control. Safe to use from several tasks at once,
/// checkpoints included: each waits for the answer to its own request. After the host sends
/// `cancel` (or closes stdin), every call throws ``ConnectorError`` with code `cancelled`.
public final class Operations: Sendable {
    let channel: ProtocolChannel

    /// The tables the host asked for (`run --tables`), `nil` for every table. Set only for a
    /// connector whose ``Connector/selectsTables`` is `true`.
    public let selectedTables: [TableIdentity]?

    /// The host's folder for staged file uploads (`update`'s `fileStaging`), `nil` when it gave none.
    let fileStaging: String?

    init(channel: ProtocolChannel, selectedTables: [TableIdentity]? = nil, fileStaging: String? = nil) {
        self.channel = channel
        self.selectedTables = selectedTables
        self.fileStaging = fileStaging
    }

    /// Whether the host wants the operations of `table` (in destination schema `schema`, `nil` for
    /// the default one): `true` for every table when none were selected.
    public func isSelected(_ table: String, schema: String? = nil) -> Bool {
        guard let selectedTables else { return true }
        return selectedTables.contains(TableIdentity(table: table, schema: schema))
    }

    /// Inserts the row, or replaces the whole row with the same primary key. Columns left out become NULL.
    public func upsert(_ table: String, _ data: JSONObject) throws(ConnectorError) {
        try send("upsert", table, dataKey: "data", data)
    }

    /// Changes only the named columns of an existing row; `data` must carry the primary key.
    public func update(_ table: String, _ data: JSONObject) throws(ConnectorError) {
        try send("update", table, dataKey: "data", data)
    }

    /// Marks the row with these primary-key values deleted (soft delete).
    public func delete(_ table: String, keys: JSONObject) throws(ConnectorError) {
        try send("delete", table, dataKey: "keys", keys)
    }

    /// Marks every row of `table` written before this call deleted.
    public func truncate(_ table: String) throws(ConnectorError) {
        try truncate(table, schema: nil)
    }

    /// Upserts into `table` of the destination schema `schema` (Fivetran's `schema=`; `nil`: the
    /// default one). `binary` holds values of columns that are bytes: they are sent base64-encoded
    /// with a `types` hint, so an undeclared such column is BINARY rather than STRING.
    public func upsert(_ table: String, schema: String?, _ data: JSONObject, binary: [String: [UInt8]] = [:]) throws(ConnectorError) {
        try send("upsert", table, schema: schema, dataKey: "data", data, binary: binary)
    }

    /// Updates the named columns of a row of `table` in the destination schema `schema`.
    public func update(_ table: String, schema: String?, _ data: JSONObject, binary: [String: [UInt8]] = [:]) throws(ConnectorError) {
        try send("update", table, schema: schema, dataKey: "data", data, binary: binary)
    }

    /// Upserts a row with a file attached (Fivetran's `FileUpload`, PROTOCOL.md 6.11): the bytes are
    /// written to the host's staging folder now and stored under
    /// `files/storage/<schema>/<table>/<file.path>` when the next checkpoint commits; the row's
    /// file-path column holds `file.path`.
    /// - Throws: ``ConnectorError`` when the file cannot be staged or its size is not `expectedBytes`.
    public func upsert(
        _ table: String, schema: String? = nil, _ data: JSONObject, binary: [String: [UInt8]] = [:], file: FileUpload
    ) throws(ConnectorError) {
        let staged = try stage(file, op: "upsert", table: table)
        try send("upsert", table, schema: schema, dataKey: "data", data, binary: binary, file: staged)
    }

    /// Updates the named columns of a row and attaches a file to it (see ``upsert(_:schema:_:binary:file:)``).
    public func update(
        _ table: String, schema: String? = nil, _ data: JSONObject, binary: [String: [UInt8]] = [:], file: FileUpload
    ) throws(ConnectorError) {
        let staged = try stage(file, op: "update", table: table)
        try send("update", table, schema: schema, dataKey: "data", data, binary: binary, file: staged)
    }

    /// Deletes the row with these key values from `table` in the destination schema `schema`.
    public func delete(_ table: String, schema: String?, keys: JSONObject) throws(ConnectorError) {
        try send("delete", table, schema: schema, dataKey: "keys", keys)
    }

    /// Truncates `table` in the destination schema `schema`.
    public func truncate(_ table: String, schema: String?) throws(ConnectorError) {
        try checkCancelled()
        try write { bytes in
            var writer = JSONWriter()
            writer.appendASCII(#"{"op":"truncate","table":"#)
            writer.writeString(table)
            if let schema {
                writer.appendASCII(#","schema":"#)
                writer.writeString(schema)
            }
            writer.bytes.append(UInt8(ascii: "}"))
            bytes.append(contentsOf: writer.bytes)
        }
    }

    /// Tells the user about something that does not fail the sync (Fivetran's `op.warning`): the host
    /// shows the first ten of a sync and counts them all. Sent after the operations before it.
    public func warning(_ message: String) throws(ConnectorError) {
        try checkCancelled()
        do { try channel.send(.notification(method: Method.warning, params: ["message": .string(message)])) } catch {
            throw ConnectorError(.internalError, "cannot write to the host (errno \(error.errno)); it has stopped the sync")
        }
    }

    /// Upserts a row written field by field, without building a `JSONObject` (the fastest path).
    ///
    /// ```swift
    /// try operations.upsert("items") { row in
    ///     row.field("id", id)
    ///     row.field("name", name)
    /// }
    /// ```
    public func upsert(_ table: String, fields: (inout RowWriter) -> Void) throws(ConnectorError) {
        try sendRow("upsert", table, member: "data", fields)
    }

    /// Updates the named columns of a row written field by field (the fast path of
    /// ``update(_:_:)``); write the primary key among the fields.
    public func update(_ table: String, fields: (inout RowWriter) -> Void) throws(ConnectorError) {
        try sendRow("update", table, member: "data", fields)
    }

    /// Deletes the row whose primary-key values are written field by field (the fast path of
    /// ``delete(_:keys:)``).
    public func delete(_ table: String, keyFields: (inout RowWriter) -> Void) throws(ConnectorError) {
        try sendRow("delete", table, member: "keys", keyFields)
    }

    private func sendRow(_ op: StaticString, _ table: String, member: StaticString, _ fields: (inout RowWriter) -> Void)
        throws(ConnectorError)
    {
        try checkCancelled()
        try write { bytes in
            // Move the batch into the writer and back: a copy would duplicate the whole batch per row.
            var row = RowWriter(bytes: [])
            swap(&row.bytes, &bytes)
            row.beginOperation(op, table: table, member: member)
            fields(&row)
            row.endOperation()
            swap(&row.bytes, &bytes)
        }
    }

    /// Stores `state` together with every operation sent before it, durably, and returns once the
    /// host has acknowledged. After a crash, the next run starts from the last acknowledged state.
    ///
    /// Blocks the calling thread until the answer arrives (the protocol's reader runs on a thread of
    /// its own, so several tasks may wait at once).
    /// - Throws: ``ConnectorError`` when the host refuses (it has stopped the sync), cancels, or
    ///   closes the connection.
    public func checkpoint(_ state: JSONValue) throws(ConnectorError) {
        try checkCancelled()
        let waiter: ResponseWaiter
        do {
            waiter = try channel.sendRequest(CheckpointRequest(state: state))
        } catch { throw ConnectorError(.internalError, "cannot write to the host: errno \(error.errno)") }
        switch waiter.wait() {
        case .answered(.success):
            return
        case .answered(.failure(let error)):
            throw ConnectorError(error.code, "checkpoint refused by the host: \(error.message)")
        case .cancelled:
            throw ConnectorError(.cancelled, "the host cancelled the sync")
        case .closed:
            throw ConnectorError(.cancelled, "the host closed the connection before acknowledging the checkpoint")
        }
    }

    private func send(
        _ op: StaticString, _ table: String, schema: String? = nil, dataKey: StaticString, _ data: JSONObject,
        binary: [String: [UInt8]] = [:], file: JSONValue? = nil
    ) throws(ConnectorError) {
        try checkCancelled()
        var data = data
        // Bytes travel as base64 with a BINARY hint: the type the host infers for an undeclared column.
        for (name, bytes) in binary.sorted(by: { $0.key < $1.key }) { data[name] = .string(Base64Text.encode(bytes)) }
        try write { bytes in
            var writer = JSONWriter()
            swap(&writer.bytes, &bytes)
            writer.appendASCII(#"{"op":""#)
            writer.appendASCII(op)
            writer.appendASCII(#"","table":"#)
            writer.writeString(table)
            if let schema {
                writer.appendASCII(#","schema":"#)
                writer.writeString(schema)
            }
            writer.bytes.append(UInt8(ascii: ","))
            writer.bytes.append(UInt8(ascii: "\""))
            writer.appendASCII(dataKey)
            writer.appendASCII(#"":"#)
            writer.write(.object(data))
            if !binary.isEmpty {
                writer.appendASCII(#","types":"#)
                writer.write(.object(JSONObject(binary.keys.sorted().map { (key: $0, value: .string("BINARY")) })))
            }
            if let file {
                writer.appendASCII(#","file":"#)
                writer.write(file)
            }
            writer.bytes.append(UInt8(ascii: "}"))
            swap(&writer.bytes, &bytes)
        }
    }

    /// Writes `file`'s bytes to a new file of the staging folder; returns the op's `file` member.
    private func stage(_ file: FileUpload, op: String, table: String) throws(ConnectorError) -> JSONValue {
        try checkCancelled()
        let what = "\(op) on \(table): the file \(JSONWriter.string(.string(file.path)))"
        guard !file.path.isEmpty else { throw ConnectorError(.sourceError, "\(op) on \(table): a FileUpload's path is empty") }
        guard let fileStaging else {
            throw ConnectorError(
                .internalError,
                "file uploads need a host that supports them: this host gave no fileStaging folder in the update request (update connector-host)")
        }
        let source = fileStaging + "/upload-\(getpid())-\(Self.uploads.next())"
        let size: Int64
        switch file.content {
        case .bytes(let bytes): size = try StagedFile.store(bytes, to: source, what: what)
        case .copy(let local): size = try StagedFile.storeCopy(of: local, to: source, what: what)
        }
        if let expected = file.expectedBytes, expected != size {
            unlink(source)
            throw ConnectorError(.sourceError, "\(what): expectedBytes is \(expected) but it has \(size) bytes")
        }
        return ["path": .string(file.path), "source": .string(source), "size": .number(JSONNumber(size))]
    }

    /// Numbers the staged files of this process, so two uploads never share a name.
    private static let uploads = UploadCounter()

    private func write(_ encode: (inout [UInt8]) -> Void) throws(ConnectorError) {
        do { try channel.appendOperation(encode) } catch {
            throw ConnectorError(.internalError, "cannot write to the host (errno \(error.errno)); it has stopped the sync")
        }
    }

    private func checkCancelled() throws(ConnectorError) {
        if channel.isCancelled { throw ConnectorError(.cancelled, "the host cancelled the sync") }
    }
}

/// Writes one row's fields straight into the outgoing batch: no intermediate strings or buffers.
public struct RowWriter {
    var bytes: [UInt8]
    private var fieldCount = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func beginOperation(_ op: StaticString, table: String, member: StaticString) {
        JSONWriter.appendASCII(#"{"op":""#, to: &bytes)
        JSONWriter.appendASCII(op, to: &bytes)
        JSONWriter.appendASCII(#"","table":"#, to: &bytes)
        JSONWriter.appendString(table, to: &bytes)
        JSONWriter.appendASCII(#",""#, to: &bytes)
        JSONWriter.appendASCII(member, to: &bytes)
        JSONWriter.appendASCII(#"":{"#, to: &bytes)
    }

    mutating func endOperation() { JSONWriter.appendASCII("}}", to: &bytes) }

    @inline(__always)
    private mutating func key(_ name: String) {
        if fieldCount > 0 { bytes.append(UInt8(ascii: ",")) }
        fieldCount += 1
        JSONWriter.appendString(name, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
    }

    /// Writes an integer field.
    public mutating func field(_ name: String, _ value: Int64) {
        key(name)
        JSONWriter.appendInteger(value, to: &bytes)
    }

    /// Writes an integer field.
    public mutating func field(_ name: String, _ value: Int) { field(name, Int64(value)) }

    /// Writes a double field (shortest round-tripping form; non-finite values are written as null).
    public mutating func field(_ name: String, _ value: Double) {
        key(name)
        JSONWriter.appendDouble(value, to: &bytes)
    }

    /// Writes a boolean field.
    public mutating func field(_ name: String, _ value: Bool) {
        key(name)
        if value { JSONWriter.appendASCII("true", to: &bytes) } else { JSONWriter.appendASCII("false", to: &bytes) }
    }

    /// Writes a string field.
    public mutating func field(_ name: String, _ value: String) {
        key(name)
        JSONWriter.appendString(value, to: &bytes)
    }

    /// Writes any JSON value (use for null, decimals as strings, nested JSON).
    public mutating func field(_ name: String, _ value: JSONValue) {
        key(name)
        var writer = JSONWriter(capacity: 0)
        swap(&writer.bytes, &bytes)
        writer.write(value)
        swap(&writer.bytes, &bytes)
    }
}

extension Operations {
    /// Writes the pending batch now. Connectors rarely need this (checkpoint and the end of update
    /// flush); tests use it to control exactly what reached the host before a crash.
    public func flushForTesting() throws(ConnectorError) {
        do { try channel.flush() } catch { throw ConnectorError(.internalError, "cannot write to the host (errno \(error.errno))") }
    }
}

/// Standard base64 with padding (RFC 4648), as the protocol's BINARY values are sent.
enum Base64Text {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index + 2 < bytes.count {
            let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            for shift in [18, 12, 6, 0] { out.append(alphabet[Int(value >> UInt32(shift) & 63)]) }
            index += 3
        }
        let rest = bytes.count - index
        if rest > 0 {
            let value = UInt32(bytes[index]) << 16 | (rest == 2 ? UInt32(bytes[index + 1]) << 8 : 0)
            out.append(alphabet[Int(value >> 18 & 63)])
            out.append(alphabet[Int(value >> 12 & 63)])
            out.append(rest == 2 ? alphabet[Int(value >> 6 & 63)] : UInt8(ascii: "="))
            out.append(UInt8(ascii: "="))
        }
        return String(decoding: out, as: UTF8.self)
    }
}
