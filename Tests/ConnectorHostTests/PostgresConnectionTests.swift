import ConnectorHost
import Foundation
import Testing

/// The libpq wrapper against a real server: statements, parameters, COPY, errors, secrets.
@Suite("PostgreSQL connection", .enabled(if: TestPostgres.shouldRun))
struct PostgresConnectionTests {
    @Test("parameters go as text, NULL as nil, and results come back as the server's text")
    func parameters() throws {
        let schema = try TestSchema()
        let rows = try schema.connection.query("SELECT $1::bigint + 1, $2::text, $3::text IS NULL", ["41", "it's \"quoted\"", nil])
        #expect(rows == [["42", "it's \"quoted\"", "t"]])
    }

    @Test("a failed statement reports the SQLSTATE, the server's message and the statement")
    func serverError() throws {
        let schema = try TestSchema()
        #expect {
            try schema.connection.execute("SELECT * FROM \"no_such_table\"")
        } throws: { error in
            let failure = error as! PostgresError
            return failure.sqlState == .undefinedTable
                && failure.description
                    == #"PostgreSQL error 42P01: relation "no_such_table" does not exist — in: SELECT * FROM "no_such_table""#
        }
    }

    @Test("COPY text rows keep tabs, newlines, backslashes, NULLs, bytes and doubles exactly")
    func copyRoundTrip() throws {
        let schema = try TestSchema()
        let table = schema.qualified("copied")
        try schema.connection.execute(
            "CREATE SCHEMA \(quoteIdentifier(schema.name)); CREATE TABLE \(table) (n bigint, t text, b bytea, d double precision)")
        var buffer = PostgresCopyBuffer()
        let bytes: [UInt8] = [0, 9, 10, 92, 255]
        let text = "tab\there\nnew line \\ back\\slash \r é"
        for (index, value) in [text, ""].enumerated() {
            buffer.appendInteger(index == 0 ? Int64.min : Int64.max)
            buffer.appendText(value)
            bytes.withUnsafeBytes { buffer.appendBytea($0) }
            buffer.appendDouble(index == 0 ? 0.1 : -1.7976931348623157e308)
            buffer.endRow()
        }
        buffer.appendNull()
        buffer.appendNull()
        buffer.appendNull()
        buffer.appendNull()
        buffer.endRow()
        try schema.connection.beginCopy("COPY \(table) FROM STDIN")
        try buffer.send(on: schema.connection)
        #expect(try schema.connection.endCopy() == 3)
        let rows = try schema.rows("SELECT n::text, t, encode(b, 'hex'), d::text FROM \(table) ORDER BY n NULLS LAST")
        #expect(
            rows == [
                [String(Int64.min), text, "00090a5cff", "0.1"], [String(Int64.max), "", "00090a5cff", "-1.7976931348623157e+308"],
                ["NULL", "NULL", "NULL", "NULL"],
            ])
    }

    @Test("a COPY the server refuses fails at its end with the server's message, and the connection stays usable")
    func copyFailure() throws {
        let schema = try TestSchema()
        let table = schema.qualified("numbers")
        try schema.connection.execute("CREATE SCHEMA \(quoteIdentifier(schema.name)); CREATE TABLE \(table) (n integer)")
        try schema.connection.beginCopy("COPY \(table) FROM STDIN")
        var buffer = PostgresCopyBuffer()
        buffer.appendText("not a number")
        buffer.endRow()
        try buffer.send(on: schema.connection)
        #expect {
            try schema.connection.endCopy()
        } throws: { error in
            (error as! PostgresError).sqlState?.rawValue == "22P02"
        }
        #expect(try schema.connection.scalar("SELECT count(*) FROM \(table)") == "0")
    }

    @Test("a destination URI is shown without its password, in the user part or as a parameter")
    func addressHidesPassword() throws {
        let address = try PostgresAddress("postgresql://loader:s3cr%40t@db.example.com:5433/warehouse?sslmode=require&password=other")
        #expect(address.description == "postgresql://loader:***@db.example.com:5433/warehouse?sslmode=require&password=***")
        #expect(Set(address.secrets) == ["s3cr%40t", "s3cr@t", "other"])
        #expect(try PostgresAddress("postgres://localhost/db").description == "postgres://localhost/db")
        #expect(throws: PostgresAddressError.self) { try PostgresAddress("mysql://localhost/db") }
    }

    @Test("a refused login names the user, never the password")
    func refusedLogin() throws {
        guard let passwordURI = try TestPostgres.server.get().passwordURI else {
            print("skipped: the server from CONNECTOR_HOST_TEST_POSTGRES has no CONNECTOR_HOST_TEST_POSTGRES_PASSWORD_URI")
            return
        }
        let withWrongPassword = passwordURI.replacingOccurrences(
            of: #"//[^:@/]*:[^@]*@"#, with: "//postgres:wrong-Pa55word@", options: .regularExpression)
        #expect {
            _ = try PostgresConnection(address: try PostgresAddress(withWrongPassword), applicationName: "connector-host-tests")
        } throws: { error in
            let text = "\(error)"
            return text.contains(#"password authentication failed for user "postgres""#) && !text.contains("wrong-Pa55word")
        }
        // The right password works over TCP.
        let connection = try PostgresConnection(address: try PostgresAddress(passwordURI), applicationName: "connector-host-tests")
        #expect(try connection.scalar("SELECT 1") == "1")
    }
}
