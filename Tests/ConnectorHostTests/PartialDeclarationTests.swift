import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

/// A table's declared columns are a partial declaration (Fivetran's schema(): "for any columns whose
/// names are not provided here, e.g. id, their data types will be inferred"): its other columns,
/// primary-key columns included, are inferred and widened as in an undeclared table.
@Suite("Declared columns are a partial declaration")
struct PartialDeclarationTests {
    @Test("a primary key that is not among the declared columns is created untyped and typed by its first value")
    func undeclaredKeyColumn() throws {
        let fixture = try ConnectorFixture(
            schema: [table("orders", primaryKey: ["id"], columns: ["amount": "DOUBLE"])],
            steps: [
                ["upsert": ["table": "orders", "data": ["id": 1, "amount": 9.5]]],
                ["update": ["table": "orders", "data": ["id": 1, "amount": 10]]],
                ["delete": ["table": "orders", "keys": ["id": 1]]],
            ])
        let (report, _) = fixture.sync()
        #expect(report.failure == nil, "\(report.failure?.message ?? "")")
        #expect(
            report.schemaChanges == [
                "orders: table created with 2 columns, primary key (id)", "orders.id: typed LONG from its first value (inferred)",
            ])
        #expect(
            try fixture.rows(#"SELECT "column_name", "type", "declared" FROM "_connector_columns" ORDER BY "position""#) == [
                ["amount", "DOUBLE", "1"], ["id", "LONG", "0"],
            ])
        #expect(
            try fixture.values(#"SELECT "id", "amount", "_connector_deleted" FROM "orders""#) == [[.integer(1), .real(10), .integer(1)]])
    }

    @Test("undeclared columns of a declared table are added with inferred types and widen; declared ones stay enforced")
    func undeclaredColumnsOfADeclaredTable() throws {
        let fixture = try ConnectorFixture(
            schema: [table("orders", primaryKey: ["id"], columns: ["id": "LONG", "amount": "DOUBLE"])],
            steps: [
                ["upsert": ["table": "orders", "data": ["id": 1, "amount": 1.5, "note": "first", "count": 2]]],
                ["upsert": ["table": "orders", "data": ["id": 2, "amount": 2, "count": 2.5]]],
                ["upsert": ["table": "orders", "data": ["id": 3, "amount": "x"]]],
            ])
        let (report, _) = fixture.sync()
        #expect(
            report.failure?.message.hasPrefix(
                #"invalid operation: operation #3 (stdout line 3), table "orders", column "amount": "x" is not a valid DOUBLE: send a JSON number like 1.5 (or a string holding one)"#
            ) == true,
            "\(report.failure?.message ?? "")")
        try fixture.script(
            schema: [table("orders", primaryKey: ["id"], columns: ["id": "LONG", "amount": "DOUBLE"])],
            steps: [
                ["upsert": ["table": "orders", "data": ["id": 1, "amount": 1.5, "note": "first", "count": 2]]],
                ["upsert": ["table": "orders", "data": ["id": 2, "amount": 2, "count": 2.5]]],
            ])
        let (second, _) = fixture.sync()
        #expect(second.failure == nil, "\(second.failure?.message ?? "")")
        #expect(
            second.schemaChanges == [
                "orders: table created with 2 columns, primary key (id)", "orders.note: column added as STRING (inferred)",
                "orders.count: column added as LONG (inferred)", "orders.count: widened from LONG to DOUBLE (inferred)",
            ])
        #expect(
            try fixture.values(#"SELECT "id", "amount", "note", "count" FROM "orders" ORDER BY "id""#) == [
                [.integer(1), .real(1.5), .text("first"), .real(2)], [.integer(2), .real(2), .null, .real(2.5)],
            ])
    }

    @Test("a primary key missing from an upsert is still an invalid operation, naming the undeclared key column")
    func keyStillRequired() throws {
        let fixture = try ConnectorFixture(
            schema: [table("orders", primaryKey: ["id"], columns: ["amount": "DOUBLE"])],
            steps: [["upsert": ["table": "orders", "data": ["amount": 1]]]])
        let failure = try #require(fixture.sync().0.failure)
        #expect(
            failure.message.hasPrefix(
                #"invalid operation: operation #1 (stdout line 3), table "orders", column "id": the primary-key column "id" is missing; every upsert must carry the full primary key (id)"#
            ), "\(failure.message)")
    }
}
