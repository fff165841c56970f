import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Security: names are data, secrets stay hidden, files are private")
struct SecurityTests {
    static let injection = #"x"; DROP TABLE t; --"#
    static let long = String(repeating: "L", count: 1000)
    static let unicode = "名前 🚀"
    static let combining = "Ω\u{301}"

    @Test("table and column names are always quoted identifiers: injection, 1,000 characters and unicode are just names")
    func quotedIdentifiers() throws {
        let tables: [JSONValue] = [
            table(Self.injection, primaryKey: [#"id"; --"#], columns: [#"id"; --"#: "LONG", "v'al": "STRING"]),
            table("t", primaryKey: ["id"], columns: ["id": "LONG"]),
            table(Self.long, primaryKey: [Self.long], columns: [Self.long: "LONG"]),
            table(Self.unicode, primaryKey: ["键"], columns: ["键": "STRING", Self.combining: "STRING"]),
        ]
        let ops: JSONValue = [
            ["op": "upsert", "table": "t", "data": ["id": 1]],
            [
                "op": "upsert", "table": .string(Self.injection),
                "data": [#"id"; --"#: 1, "v'al": #"a'b"c"#, #"new"col); DROP TABLE t; --"#: 1],
            ],
            ["op": "upsert", "table": .string(Self.injection), "data": [#"id"; --"#: 2, "v'al": "two"]],
            ["op": "update", "table": .string(Self.injection), "data": [#"id"; --"#: 1, "v'al": "z"]],
            ["op": "delete", "table": .string(Self.injection), "keys": [#"id"; --"#: 2]],
            ["op": "upsert", "table": .string(Self.long), "data": [Self.long: 5, Self.long + "2": "new"]],
            ["op": "upsert", "table": .string(Self.unicode), "data": ["键": "k", Self.combining: "x", "列🙂": true]],
            ["op": "delete", "table": .string(Self.unicode), "keys": ["键": "k"]],
        ]
        let fixture = try ConnectorFixture.hostile([
            "tables": .array(tables), "update": [["records": ops], ["checkpoint": ["c": 1]], ["reply": true]],
        ])
        let (report, _) = fixture.sync()
        #expect(report.failure == nil, "\(report.failure?.message ?? "")")
        #expect(try fixture.rows(#"SELECT "id" FROM "t""#) == [["1"]])
        #expect(
            try fixture.rows(
                #"SELECT "name" FROM "sqlite_master" WHERE "type" = 'table' AND "name" NOT LIKE '\_connector\_%' ESCAPE '\' AND "name" != 'sqlite_sequence' ORDER BY "name""#
            )
            .map { $0[0] } == [Self.long, "t", Self.injection, Self.unicode])
        #expect(
            try fixture.rows(
                #"SELECT "id""; --", "v'al", "new""col); DROP TABLE t; --", "_connector_deleted" FROM "x""; DROP TABLE t; --" ORDER BY 1"#)
                == [["1", "z", "1", "0"], ["2", "two", "NULL", "1"]])
        #expect(
            try fixture.rows("SELECT \(quoteIdentifier(Self.long)), \(quoteIdentifier(Self.long + "2")) FROM \(quoteIdentifier(Self.long))")
                == [["5", "new"]])
        #expect(
            try fixture.rows(
                "SELECT \(quoteIdentifier("键")), \(quoteIdentifier(Self.combining)), \"列🙂\", \"_connector_deleted\" FROM \(quoteIdentifier(Self.unicode))"
            )
                == [["k", "x", "1", "1"]])

        // A second run widens and truncates through the same names.
        try fixture.script([
            "tables": .array(tables),
            "update": [
                [
                    "records": [
                        ["op": "truncate", "table": .string(Self.injection)],
                        ["op": "upsert", "table": .string(Self.unicode), "data": ["键": "k2", "列🙂": 2.5]],
                    ]
                ],
                ["checkpoint": ["c": 2]], ["reply": true],
            ],
        ])
        #expect(fixture.sync().0.failure == nil)
        #expect(try fixture.rows(#"SELECT count(*) FROM "x""; DROP TABLE t; --" WHERE "_connector_deleted" = 1"#) == [["2"]])
        #expect(try fixture.rows("SELECT \"列🙂\" FROM \(quoteIdentifier(Self.unicode)) ORDER BY 1") == [["1.0"], ["2.5"]])
        #expect(try fixture.rows(#"SELECT "id" FROM "t""#) == [["1"]])
    }

    @Test("tables named like SQLite's own (sqlite_master, SQLITE_sequence) are refused, in the schema and in operations")
    func sqliteReservedNames() throws {
        let fixture = try ConnectorFixture.hostile(["tables": [table("sqlite_master", primaryKey: ["id"], columns: ["id": "LONG"])]])
        let (report, _) = fixture.sync()
        #expect(
            report.failure?.message.hasPrefix(
                #"the connector's schema has 1 problem:"# + "\n"
                    + #"  - tables[0].table: table name "sqlite_master" uses SQLite's reserved prefix sqlite_ (in any letter case); rename the table"#
            )
                == true, "\(report.failure?.message ?? "")")
        try fixture.script([
            "tables": [], "update": [["records": [["op": "upsert", "table": "SQLITE_sequence", "data": ["id": 1]]]], ["reply": true]],
        ])
        let (second, _) = fixture.sync()
        #expect(
            second.failure?.message.hasPrefix(
                #"invalid operation: operation #1 (stdout line 3), table "SQLITE_sequence": table name "SQLITE_sequence" uses SQLite's reserved prefix sqlite_ (in any letter case); rename the table"#
            ) == true, "\(second.failure?.message ?? "")")
    }

    /// A configuration whose secrets the connector leaks everywhere it can.
    static let secretConfiguration: JSONValue = [
        "apiKey": "sk-live-0123456789", "database": ["host": "db.example", "password": #"p"ss\w0rd"#],
        "endpoint": "https://internal.example/x7",
        "region": "eu-west-1", "__secrets": ["endpoint"],
    ]

    static let secretValues = ["sk-live-0123456789", #"p"ss\w0rd"#, #"p\"ss\\w0rd"#, "https://internal.example/x7"]

    @Test("configuration secrets never reach the console, the error, the history, the report or inspect")
    func secretsStayHidden() throws {
        var configuration = Self.secretConfiguration.objectValue!
        configuration["tables"] = [itemsTable]
        configuration["update"] = [
            [
                "send": [
                    "method": "log", "params": ["level": "info", "message": "calling https://internal.example/x7 with sk-live-0123456789"],
                ]
            ],
            ["stderr": #"connecting with password p"ss\w0rd"#],
            ["rows": ["items", 1, 2]], ["checkpoint": ["cursor": "sk-live-0123456789", "token": "abc123"]],
            ["send": ["method": "sk-live-0123456789", "params": [:]]],
            ["records": [["op": "upsert", "table": "items", "data": ["id": "sk-live-0123456789", "value": #"p"ss\w0rd"#]]]],
            ["reply": true],
        ]
        let fixture = try ConnectorFixture(command: ["python3", hostileScript], configuration: .object(configuration))
        let run = try runCLI(["run", fixture.path])
        #expect(run.status == 1)
        #expect(run.stderr.contains("[fixture INFO] calling ******** with ********"))
        #expect(run.stderr.contains("[fixture] connecting with password ********"))
        #expect(run.stderr.contains(#"ignoring unknown notification "********" from the connector"#))
        #expect(
            run.stderr.contains(#"the operation: {"op":"upsert","table":"items","data":{"id":"********","value":"********"}}"#),
            "\(run.stderr)")
        #expect(run.stdout.contains(#"state.json = {"cursor":"********","token":"********"}"#), "\(run.stdout)")
        let json = try runCLI(["run", fixture.path, "--json"])
        let inspect = try runCLI(["inspect", fixture.path])
        let inspectJSON = try runCLI(["inspect", fixture.path, "--json"])
        let history = try fixture.rows(#"SELECT coalesce("error", '') FROM "_connector_syncs""#).map { $0[0] }.joined(separator: "\n")
        for output in [run.stdout, run.stderr, json.stdout, json.stderr, inspect.stdout, inspectJSON.stdout, history] {
            for secret in Self.secretValues { #expect(!output.contains(secret), "\(secret) leaked in: \(output)") }
        }
        #expect(inspect.status == 0)
    }

    @Test("secret-looking keys are recognised however they are written; short values are not masked")
    func secretKeys() {
        for key in [
            "password", "PGPASSWORD", "api_key", "apiKey", "API-KEY", "clientSecret", "AWS_ACCESS_KEY_ID", "refresh_token", "key", "auth",
            "MYSQL_PWD",
        ] {
            #expect(Redaction.looksSecret(key), "\(key)")
        }
        for key in ["region", "page_size", "keyspace", "primary_key", "monkey", "host", "user"] {
            #expect(!Redaction.looksSecret(key), "\(key)")
        }
        let values = Redaction.secretValues(in: ["token": "ab", "nested": ["apiKey": "long-enough"], "list": ["password": ["abc", 12345]]])
        #expect(values == ["long-enough", "12345", "abc"])
    }

    @Test("the connector's environment withholds variables that look secret unless passed by name")
    func environmentPolicy() throws {
        let fixture = try ConnectorFixture.hostile([
            "initialize": [
                ["env": ["GITHUB_TOKEN", "DATABASE_URL", "PASSED_TOKEN", "MANIFEST_SECRET", "PLAIN_SETTING"]], ["reply": true],
            ],
            "update": [["reply": true]],
        ])
        try fixture.write(
            "connector.json",
            JSONWriter.string(["name": "fixture", "command": ["python3", .string(hostileScript)], "passEnvironment": ["MANIFEST_SECRET"]]))
        let run = try runCLI(
            ["run", fixture.path, "--pass-env", "PASSED_TOKEN"],
            environment: [
                "GITHUB_TOKEN": "ghp_0123", "DATABASE_URL": "postgres://app:pw@db/app", "PASSED_TOKEN": "tok", "MANIFEST_SECRET": "ms",
                "PLAIN_SETTING": "1",
            ])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(
            run.stderr.contains(
                """
                [fixture] env GITHUB_TOKEN unset
                [fixture] env DATABASE_URL unset
                [fixture] env PASSED_TOKEN=tok
                [fixture] env MANIFEST_SECRET=ms
                [fixture] env PLAIN_SETTING=1
                """), "\(run.stderr)")
    }

    @Test("withheld variables: secret-looking names and URLs with a password")
    func withheldVariables() {
        #expect(HostEnvironment.isWithheld(name: "AWS_SECRET_ACCESS_KEY", value: "x"))
        #expect(HostEnvironment.isWithheld(name: "SSH_AUTH_SOCK", value: "/tmp/agent"))
        #expect(HostEnvironment.isWithheld(name: "HTTPS_PROXY", value: "http://me:pw@proxy:3128"))
        #expect(!HostEnvironment.isWithheld(name: "HTTPS_PROXY", value: "http://proxy:3128"))
        #expect(!HostEnvironment.isWithheld(name: "PATH", value: "/usr/bin:/bin"))
        #expect(!HostEnvironment.isWithheld(name: "DOCS", value: "see https://example.com/a:b@c"))
        let environment = HostEnvironment.forChild(
            extra: ["EXTRA": "1"], passing: ["NPM_TOKEN"], from: ["HOME": "/home/me", "NPM_TOKEN": "n", "GH_TOKEN": "g"])
        #expect(environment == ["EXTRA=1", "HOME=/home/me", "NPM_TOKEN=n"])
    }

    @Test("the warehouse, its -wal and -shm files, the state file and the lock are user-only")
    func filePermissions() throws {
        let files = [
            "files/warehouse.db", "files/warehouse.db-wal", "files/warehouse.db-shm", "files/state.json", "files/warehouse.db.lock",
        ]
        let fixture = try ConnectorFixture.hostile([
            "update": [
                ["rows": ["items", 1, 3]], ["checkpoint": ["c": 3]], ["statFiles": .array(files.map(JSONValue.string))], ["reply": true],
            ]
        ])
        let (report, console) = fixture.sync()
        #expect(report.failure == nil)
        #expect(console.all.filter { $0.hasPrefix("[fixture] mode ") } == files.map { "[fixture] mode \($0) 0o600" })
        var info = stat()
        #expect(stat(fixture.path + "/files", &info) == 0 && info.st_mode & 0o777 == 0o700)
        for file in ["files/warehouse.db", "files/state.json", "files/warehouse.db.lock"] {
            #expect(stat(fixture.path + "/" + file, &info) == 0 && info.st_mode & 0o777 == 0o600, "\(file)")
        }
    }
}
