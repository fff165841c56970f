import ConnectorProtocol
import Foundation

/// Every problem of a schema at once, each with its path (`tables[2].columns.amount`).
public struct InvalidSchema: Error, Sendable, Equatable, CustomStringConvertible {
    /// One broken rule: where (a path into the `schema` result) and what.
    public struct Problem: Sendable, Equatable {
        public let path: String
        public let message: String

        public init(path: String, message: String) {
            self.path = path
            self.message = message
        }
    }

    public let problems: [Problem]

    public init(problems: [Problem]) { self.problems = problems }

    public var description: String {
        "the connector's schema has \(problems.count) problem\(problems.count == 1 ? "" : "s"):\n"
            + problems.map { "  - \($0.path): \($0.message)" }.joined(separator: "\n")
    }
}

/// Reads the result of `schema` into table definitions, collecting every problem instead of stopping at the first.
public enum SchemaValidator {
    /// - Throws: ``InvalidSchema`` listing all problems, in the order they appear in the result.
    /// Under Fivetran naming, names differing only in letter case are one name (they map to the same
    /// lower-case name, said once by the warehouse), so they are not problems here.
    public static func tables(from result: JSONValue, naming: NamingStrategy = .source) throws(InvalidSchema) -> [TableDefinition] {
        let foldsCase = naming == .source
        let mapping = Naming(strategy: naming)
        var problems: [InvalidSchema.Problem] = []
        func problem(_ path: String, _ message: String) { problems.append(.init(path: path, message: message)) }

        guard let tableValues = result["tables"]?.arrayValue else {
            throw InvalidSchema(problems: [.init(path: "tables", message: "the schema result needs a \"tables\" array")])
        }
        var definitions: [TableDefinition] = []
        // Folded (case-insensitive) name -> where it was first declared.
        var seen: [String: (name: String, source: String, index: Int)] = [:]
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
            if let message = NameRules.problem(mapping.table(name), what: "table") { problem("\(path).table", message) }
            var schema: String?
            switch table["schema"] {
            case nil, .null?: break
            case .string(let value)? where !value.trimmingCharacters(in: .whitespaces).isEmpty:
                schema = value
                if let message = NameRules.schemaProblem(mapping.schema(value)) { problem("\(path).schema", message) }
            default:
                problem("\(path).schema", "schema must be a non-empty string naming the destination schema, or be left out")
            }
            // Tables are identified by (schema, name), compared as the warehouse will name them.
            let identity =
                (schema.map { NameRules.folded(mapping.schema($0)) + "." } ?? "") + NameRules.folded(mapping.table(name))
            let shown = (schema.map { NameRules.quoted($0) + "." } ?? "") + NameRules.quoted(name)
            if let previous = seen[identity] {
                problem(
                    "\(path).table",
                    NameRules.same(previous.name, shown)
                        ? "duplicate table \(shown) (already declared at tables[\(previous.index)])"
                        : !foldsCase
                            ? "tables \(previous.name) (tables[\(previous.index)]) and \(shown) both become \(NameRules.quoted(mapping.table(name))) under Fivetran naming; declare one of them"
                            : NameRules.same(NameRules.folded(previous.name), NameRules.folded(shown))
                                ? "table \(shown) differs from \(previous.name) (tables[\(previous.index)]) only in letter case; SQLite names are case-insensitive"
                                : NameRules.collision(name, existing: previous.source, what: "table") + " (tables[\(previous.index)])"
                )
            } else {
                seen[identity] = (shown, name, tableIndex)
            }

            var columns: [(name: String, type: ColumnType)] = []
            var seenColumns: [String: String] = [:]
            switch table["columns"] {
            case nil, .null?: break
            case .object(let columnObject)?:
                for (columnName, typeValue) in columnObject {
                    let columnPath = path + ".columns" + member(columnName)
                    if let message = NameRules.problem(mapping.column(columnName), what: "column") { problem(columnPath, message) }
                    if foldsCase, let previous = seenColumns[NameRules.folded(columnName)] {
                        problem(
                            columnPath,
                            NameRules.same(previous, columnName)
                                ? "duplicate column"
                                : NameRules.same(NameRules.folded(previous), NameRules.folded(columnName))
                                    ? "column \(NameRules.quoted(columnName)) differs from \(NameRules.quoted(previous)) only in letter case; SQLite names are case-insensitive"
                                    : NameRules.collision(columnName, existing: previous, what: "column")
                        )
                    } else {
                        seenColumns[NameRules.folded(columnName)] = columnName
                    }
                    switch columnType(typeValue) {
                    case .success(let type): columns.append((columnName, type))
                    case .failure(let message): problem(columnPath, message.text)
                    }
                }
            default:
                problem("\(path).columns", "columns must be an object mapping names to types")
            }

            var primaryKey: [String] = []
            let keyPath = table["primaryKey"] != nil ? "\(path).primaryKey" : "\(path).primary_key"
            switch table["primaryKey"] ?? table["primary_key"] {
            case nil, .null?: break
            case .array(let elements)?:
                for (keyIndex, element) in elements.enumerated() {
                    let elementPath = "\(keyPath)[\(keyIndex)]"
                    guard let keyName = element.stringValue else {
                        problem(elementPath, "primary-key entries must be column names (strings)")
                        continue
                    }
                    if primaryKey.contains(where: { NameRules.same($0, keyName) }) {
                        problem(elementPath, "column \(NameRules.quoted(keyName)) is listed twice")
                    }
                    if let message = NameRules.problem(mapping.column(keyName), what: "column") {
                        problem(elementPath, message)
                    } else if foldsCase, !columns.contains(where: { NameRules.same($0.name, keyName) }),
                        let sameLetters = columns.first(where: { NameRules.folded($0.name) == NameRules.folded(keyName) })
                    {
                        // An undeclared key column is inferred like any other (a partial declaration);
                        // one that differs from a declared column only in case would be a second
                        // column SQLite takes for the same one.
                        problem(
                            elementPath,
                            "primary-key column \(NameRules.quoted(keyName)) differs from the declared column \(NameRules.quoted(sameLetters.name)) only in letter case; SQLite names are case-insensitive, so use \(NameRules.quoted(sameLetters.name))"
                        )
                    }
                    primaryKey.append(keyName)
                }
                if primaryKey.count > 64 { problem(keyPath, "at most 64 primary-key columns are supported") }
            default:
                problem(keyPath, "primaryKey must be an array of column names")
            }
            for (columnName, type) in columns
            where primaryKey.contains(where: { NameRules.same($0, columnName) })
                && [.json, .binary, .float, .double].contains(type.dataType)
            {
                problem(
                    path + ".columns" + member(columnName),
                    "a primary-key column cannot be \(type.dataType.rawValue); use an integer, DECIMAL, STRING or date/time type")
            }
            definitions.append(TableDefinition(name: name, schema: schema, primaryKey: primaryKey, columns: columns))
        }
        guard problems.isEmpty else { throw InvalidSchema(problems: problems) }
        return definitions
    }

    /// `.name` for plain identifiers, `["odd name"]` otherwise, so every path reads unambiguously.
    static func member(_ name: String) -> String {
        let plain =
            !name.isEmpty
            && name.utf8.allSatisfy { byte in
                (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                    || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
            }
        return plain ? "." + name : "[" + NameRules.quoted(name) + "]"
    }

    struct TypeProblem: Error {
        let text: String
    }

    /// Reads a column type: a type name (any letter case, as Fivetran's SDK accepts) or an object
    /// `{"type": NAME}`, which DECIMAL requires, with `precision` and `scale`.
    static func columnType(_ value: JSONValue) -> Result<ColumnType, TypeProblem> {
        let validNames = DataType.allCases.map(\.rawValue).joined(separator: ", ")
        switch value {
        case .string(let name):
            guard let dataType = DataType(rawValue: name.uppercased()) else {
                return .failure(TypeProblem(text: "unknown type \(NameRules.quoted(name)); use one of \(validNames)"))
            }
            if dataType == .decimal {
                return .failure(
                    TypeProblem(text: "DECIMAL needs precision and scale: {\"type\": \"DECIMAL\", \"precision\": 10, \"scale\": 2}"))
            }
            return .success(ColumnType(dataType))
        case .object(let object):
            guard let name = object["type"]?.stringValue, let dataType = DataType(rawValue: name.uppercased()) else {
                let got = object["type"].map { ", got \(JSONWriter.string($0))" } ?? ""
                return .failure(TypeProblem(text: "a type object needs \"type\", one of \(validNames)\(got)"))
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
}
