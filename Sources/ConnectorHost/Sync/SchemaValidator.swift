import ConnectorProtocol

/// Every problem of a schema at once, each with its path (`tables[2].columns.amount`).
public struct InvalidSchema: Error, Sendable, CustomStringConvertible {
    public struct Problem: Sendable, Equatable {
        public let path: String
        public let message: String
    }

    public let problems: [Problem]

    public var description: String {
        "the schema has \(problems.count) problem\(problems.count == 1 ? "" : "s"):\n"
            + problems.map { "  - \($0.path): \($0.message)" }.joined(separator: "\n")
    }
}

/// Reads the result of `schema` into table definitions, collecting every problem instead of stopping at the first.
public enum SchemaValidator {
    /// - Throws: ``InvalidSchema`` listing all problems.
    public static func tables(from result: JSONValue) throws(InvalidSchema) -> [TableDefinition] {
        var problems: [InvalidSchema.Problem] = []
        func problem(_ path: String, _ message: String) { problems.append(.init(path: path, message: message)) }

        guard let tableValues = result["tables"]?.arrayValue else {
            throw InvalidSchema(problems: [.init(path: "tables", message: "the schema result needs a \"tables\" array")])
        }
        var definitions: [TableDefinition] = []
        var seen: [String: Int] = [:]
        for (tableIndex, tableValue) in tableValues.enumerated() {
            let path = "tables[\(tableIndex)]"
            guard let table = tableValue.objectValue else {
                problem(path, "a table must be an object like {\"table\": \"name\", \"primaryKey\": [...], \"columns\": {...}}")
                continue
            }
            guard let name = table["table"]?.stringValue else {
                problem("\(path).table", "missing table name (a string)")
                continue
            }
            if let message = nameProblem(name, what: "table") { problem("\(path).table", message) }
            if let previous = seen[name] {
                problem("\(path).table", "duplicate table \"\(name)\" (already declared at tables[\(previous)])")
            }
            seen[name] = tableIndex

            var columns: [(name: String, type: ColumnType)] = []
            switch table["columns"] {
            case nil, .null?: break
            case .object(let columnObject)?:
                for (columnName, typeValue) in columnObject {
                    let columnPath = "\(path).columns.\(columnName)"
                    if let message = nameProblem(columnName, what: "column") { problem(columnPath, message) }
                    if columns.contains(where: { $0.name == columnName }) { problem(columnPath, "duplicate column") }
                    switch columnType(typeValue) {
                    case .success(let type): columns.append((columnName, type))
                    case .failure(let message): problem(columnPath, message.text)
                    }
                }
            default:
                problem("\(path).columns", "columns must be an object mapping names to types")
            }

            var primaryKey: [String] = []
            let keyValue = table["primaryKey"] ?? table["primary_key"]
            switch keyValue {
            case nil, .null?: break
            case .array(let elements)?:
                for (keyIndex, element) in elements.enumerated() {
                    guard let keyName = element.stringValue else {
                        problem("\(path).primaryKey[\(keyIndex)]", "primary-key entries must be column names (strings)")
                        continue
                    }
                    if primaryKey.contains(keyName) {
                        problem("\(path).primaryKey[\(keyIndex)]", "column \"\(keyName)\" is listed twice")
                    }
                    if let message = nameProblem(keyName, what: "column") { problem("\(path).primaryKey[\(keyIndex)]", message) }
                    primaryKey.append(keyName)
                }
                if primaryKey.count > 64 { problem("\(path).primaryKey", "at most 64 primary-key columns are supported") }
            default:
                problem("\(path).primaryKey", "primaryKey must be an array of column names")
            }
            if !columns.isEmpty {
                for keyName in primaryKey where !columns.contains(where: { $0.name == keyName }) {
                    problem(
                        "\(path).primaryKey",
                        "primary-key column \"\(keyName)\" is not among the declared columns (\(columns.map(\.name).joined(separator: ", ")))"
                    )
                }
            }
            for (columnName, type) in columns
            where primaryKey.contains(columnName) && [.json, .binary, .float, .double].contains(type.dataType) {
                problem("\(path).columns.\(columnName)", "a primary-key column cannot be \(type.dataType.rawValue)")
            }
            definitions.append(TableDefinition(name: name, primaryKey: primaryKey, columns: columns))
        }
        guard problems.isEmpty else { throw InvalidSchema(problems: problems) }
        return definitions
    }

    struct TypeProblem: Error {
        let text: String
    }

    static func columnType(_ value: JSONValue) -> Result<ColumnType, TypeProblem> {
        let validNames = DataType.allCases.map(\.rawValue).joined(separator: ", ")
        switch value {
        case .string(let name):
            guard let dataType = DataType(rawValue: name.uppercased()) else {
                return .failure(TypeProblem(text: "unknown type \"\(name)\"; use one of \(validNames)"))
            }
            if dataType == .decimal {
                return .failure(
                    TypeProblem(text: "DECIMAL needs precision and scale: {\"type\": \"DECIMAL\", \"precision\": 10, \"scale\": 2}"))
            }
            return .success(ColumnType(dataType))
        case .object(let object):
            guard let name = object["type"]?.stringValue, let dataType = DataType(rawValue: name.uppercased()) else {
                return .failure(TypeProblem(text: "a type object needs \"type\", one of \(validNames)"))
            }
            guard dataType == .decimal else { return .success(ColumnType(dataType)) }
            guard let precision = object["precision"]?.int64Value, (1...38).contains(precision) else {
                return .failure(
                    TypeProblem(
                        text:
                            "DECIMAL precision must be an integer from 1 to 38, got \(object["precision"].map { JSONWriter.string($0) } ?? "nothing")"
                    ))
            }
            guard let scale = object["scale"]?.int64Value, (0...precision).contains(scale) else {
                return .failure(
                    TypeProblem(
                        text:
                            "DECIMAL scale must be an integer from 0 to the precision (\(precision)), got \(object["scale"].map { JSONWriter.string($0) } ?? "nothing")"
                    ))
            }
            return .success(ColumnType(.decimal, precision: Int(precision), scale: Int(scale)))
        default:
            return .failure(TypeProblem(text: "a column type must be a type name or a DECIMAL object, got a JSON \(value.kindName)"))
        }
    }

    static func nameProblem(_ name: String, what: String) -> String? {
        if name.isEmpty { return "empty \(what) name" }
        if name.hasPrefix(systemPrefix) { return "\(what) name \"\(name)\" uses the reserved prefix \(systemPrefix)" }
        if name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return "\(what) name \(JSONWriter.string(.string(name))) contains a control character"
        }
        return nil
    }
}
