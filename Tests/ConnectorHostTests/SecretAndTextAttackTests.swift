import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

/// Attacks on what the host prints: secrets that should stay hidden (whole or in part) and connector
/// text that should never drive the terminal.
@Suite("Secrets stay hidden whole and in part; connector text cannot forge lines")
struct SecretAndTextAttackTests {
    /// 29 characters, non-ASCII included, with nothing in common with the host's own text.
    static let secret = "Zq7-pässwörd-Xk9-Wm2-Lr5-Tn8!"

    /// The pieces of `secret` (8 characters or more) that `text` shows: raw, as `\xNN` escapes of
    /// its UTF-8, or JSON-escaped.
    static func leaks(of secret: String = secret, in text: String) -> [String] {
        let characters = Array(secret)
        var found: [String] = []
        for start in 0...(characters.count - 8) {
            let piece = String(characters[start..<start + 8])
            let escapedBytes = piece.utf8.map { byte in
                byte >= 0x20 && byte < 0x7F ? String(UnicodeScalar(byte)) : "\\x" + String(byte, radix: 16, uppercase: true)
            }.joined()
            let json = String(JSONWriter.string(.string(piece)).dropFirst().dropLast())
            for form in Set([piece, escapedBytes, json]) where text.contains(form) { found.append(form) }
        }
        return found
    }

    /// Runs the CLI with `--json`, then `inspect` (text and JSON): everything a user sees.
    static func everythingShown(_ fixture: ConnectorFixture) throws -> String {
        let run = try runCLI(["run", fixture.path, "--json"])
        let inspect = try runCLI(["inspect", fixture.path])
        let inspectJSON = try runCLI(["inspect", fixture.path, "--json"])
        let history = try fixture.history().flatMap { $0 }.joined(separator: "\n")
        return [run.stdout, run.stderr, inspect.stdout, inspect.stderr, inspectJSON.stdout, history].joined(separator: "\n")
    }

    @Test("a secret with non-ASCII characters inside a bad stdout line is masked before the line is escaped")
    func nonASCIISecretInBadLine() throws {
        let fixture = try ConnectorFixture.hostile([
            "password": .string(Self.secret), "update": [["rawUTF8": .string("garbage \(Self.secret) here\n")]],
        ])
        let shown = try Self.everythingShown(fixture)
        #expect(Self.leaks(in: shown).isEmpty, "\(Self.leaks(in: shown))")
        #expect(
            shown.contains(#"stdout line 3 is not valid JSON (expected a JSON-RPC object, found 'g' at byte 1): "garbage ******** here""#))
    }

    @Test("a secret straddling the 100-byte line preview is masked before the cut, whole")
    func secretAcrossLinePreviewCut() throws {
        let filler = String(repeating: "x", count: 84)
        for ending in ["\n", ""] {  // a bad line, and a line cut by the connector's exit
            let fixture = try ConnectorFixture.hostile([
                "password": .string(Self.secret),
                "update": [["rawUTF8": .string("{" + filler + Self.secret + " and more" + ending)], ["exit": 0]],
            ])
            let shown = try Self.everythingShown(fixture)
            #expect(Self.leaks(in: shown).isEmpty, "\(Self.leaks(in: shown))")
            #expect(shown.contains(filler + "**"), "\(shown)")
        }
    }

    @Test("a secret straddling the operation cuts (80-byte value, 120-character string, 300-character operation) is masked whole")
    func secretAcrossOperationCuts() throws {
        let cases: [JSONValue] = [
            // The value preview of a value that does not fit (80 bytes).
            ["op": "upsert", "table": "items", "data": ["id": .string(String(repeating: "1", count: 70) + Self.secret)]],
            // A string of the excerpt (120 characters).
            [
                "op": "upsert", "table": "items",
                "data": ["id": 1, "value": .string(String(repeating: "v", count: 110) + Self.secret), "x": [1]],
            ],
            // The excerpt as a whole (300 characters).
            [
                "op": "upsert", "table": "items",
                "data": [
                    "id": "not a number", "a": .string(String(repeating: "a", count: 100)),
                    "b": .string(String(repeating: "b", count: 100)),
                    "c": .string(String(repeating: "c", count: 50) + Self.secret),
                ],
            ],
        ]
        for operation in cases {
            let fixture = try ConnectorFixture.hostile([
                "password": .string(Self.secret),
                "tables": [table("items", primaryKey: ["id"], columns: ["id": "LONG", "value": "STRING", "x": "LONG"])],
                "update": [["records": [operation]]],
            ])
            let shown = try Self.everythingShown(fixture)
            #expect(Self.leaks(in: shown).isEmpty, "\(Self.leaks(in: shown)) in \(shown)")
            #expect(shown.contains("invalid operation: operation #1"), "\(shown)")
        }
    }

    @Test("environment variables with secret-looking names or values are withheld from the connector; others pass")
    func environmentHeuristics() throws {
        let withheld = [
            "DB_PASS": "pw-1", "OPENAI_KEY": "sk-1", "GH_PAT": "ghp_1", "SENTRY_DSN": "https://k@sentry.example/1",
            "DATABASE_URL": "postgres://app:pw@db.example/app", "JDBC_URL": "jdbc:postgresql://db/app?user=app&password=pw2",
            "CONN": "Server=db;User Id=app;Password=pw3;", "MY_API_KEY": "k", "dbPassword": "x",
        ]
        let passed = ["PRIMARY_KEY_COLUMN": "id", "SORT_KEY": "ts", "COMPASS_HOME": "/opt", "KEYBOARD": "us", "MY_PATH": "/x"]
        let names = (Array(withheld.keys) + Array(passed.keys)).sorted()
        let fixture = try ConnectorFixture.hostile(["update": [["env": .array(names.map(JSONValue.string))], ["reply": true]]])
        let result = try runCLI(["run", fixture.path], environment: withheld.merging(passed) { $1 })
        #expect(result.status == 0, "\(result.stderr)")
        for name in withheld.keys.sorted() { #expect(result.stderr.contains("[fixture] env \(name) unset"), "\(name)") }
        for (name, value) in passed { #expect(result.stderr.contains("[fixture] env \(name)=\(value)"), "\(name)") }
    }

    @Test("configuration secrets under new key shapes and inside URLs and connection strings are masked")
    func configurationHeuristics() throws {
        let configuration: JSONObject = [
            "db_pass": "pw-aaaa1", "openai_key": "sk-bbbb2", "gh_pat": "ghp_cccc3",
            "url": "postgres://app:pw-dddd4@db.example/app", "endpoint": "https://api.example/v1?password=pw-eeee5&page=1",
            "connection": "Server=db;User Id=app;Password=pw-ffff6;", "odbc": "DRIVER=x;PWD={pw-gg;gg7};",
            "sort_key": "created_at",
        ]
        var script = configuration
        let leaked = "values: pw-aaaa1 sk-bbbb2 ghp_cccc3 pw-dddd4 pw-eeee5 pw-ffff6 pw-gg;gg7 created_at app@db.example"
        script["update"] = [["send": ["method": "log", "params": ["level": "info", "message": .string(leaked)]]], ["reply": true]]
        let fixture = try ConnectorFixture.hostile(script)
        let (report, console) = fixture.sync()
        #expect(report.failure == nil)
        #expect(
            console.all.contains(
                "[fixture info] values: ******** ******** ******** ******** ******** ******** ******** created_at app@db.example"),
            "\(console.all)")
    }

    @Test("a table or column named with a secret value is masked in the schema-change report, the warning and inspect")
    func secretNamedTable() throws {
        let fixture = try ConnectorFixture.hostile([
            "apiKey": "sk-live-0123456789", "tables": [],
            "update": [
                ["records": [["op": "upsert", "table": "sk-live-0123456789", "data": ["sk-live-0123456789": 1]]]], ["checkpoint": ["c": 1]],
                ["reply": true],
            ],
        ])
        let shown = try Self.everythingShown(fixture)
        #expect(!shown.contains("sk-live-0123456789"))
        #expect(shown.contains(#""********: table created (not in the schema: no primary key, columns inferred)""#), "\(shown)")
        #expect(shown.contains(#"warning: table "********" was not in the schema"#), "\(shown)")
        #expect(shown.contains("  ********: 1 live row"), "\(shown)")
    }

    @Test("control characters in log messages, stderr lines and error answers are escaped: no forged lines, no terminal codes")
    func controlCharactersEscaped() throws {
        let fixture = try ConnectorFixture.hostile([
            "update": [
                ["send": ["method": "log", "params": ["level": "info", "message": "ok\nerror: fake\r\u{1B}[31moutcome: succeeded"]]],
                ["stderr": "progress\routcome: succeeded\u{1B}]0;title\u{07} \u{202E}desrever"],
                ["send": ["id": 3, "error": ["code": -32013, "message": "boom\noutcome: succeeded\u{1B}[2J"]]],
            ]
        ])
        let result = try runCLI(["run", fixture.path])
        #expect(result.status == 1)
        let output = result.stdout + result.stderr
        #expect(!output.contains("\u{1B}") && !output.contains("\r") && !output.contains("\u{07}") && !output.contains("\u{202E}"))
        let lines = output.split(separator: "\n")
        #expect(!lines.contains { $0.hasPrefix("error: fake") })
        #expect(lines.filter { $0.hasPrefix("outcome:") } == ["outcome: FAILED (connectorError); the warehouse is at the last checkpoint"])
        #expect(result.stderr.contains(#"[fixture INFO] ok\nerror: fake\r\x1B[31moutcome: succeeded"#), "\(result.stderr)")
        #expect(result.stderr.contains(#"[fixture] progress\routcome: succeeded\x1B]0;title\x07 \u{202E}desrever"#), "\(result.stderr)")
        #expect(
            result.stderr.contains(
                #"error: the connector failed in update: boom\noutcome: succeeded\x1B[2J [error -32013 (source error)]"#),
            "\(result.stderr)")
    }
}
