import ConnectorProtocol
import Foundation
import Testing

@testable import ConnectorHost

/// `_fivetran_id` of a table without a primary key, as `fivetran debug` 3.0.0 computes it.
@Suite("Fivetran row ids")
struct FivetranRowHashTests {
    @Test("a connector.py's keyless rows get the _fivetran_id fivetran debug 3.0.0 gave them (every kind of value, nulls included)")
    func idsOfTheRealSDK() throws {
        // The ids were read from the DuckDB warehouse `fivetran debug` wrote for this very connector.
        let folder = try ConnectorFixture(files: [
            "connector.py": """
            import datetime, decimal
            from fivetran_connector_sdk import Connector, Operations as op

            def update(configuration, state):
                op.upsert("keyless", {"a": 1, "b": "x", "c": None, "d": 1.5, "e": True, "f": {"k": [1, 2]}, "g": b"\\x00\\x01",
                                      "h": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
                                      "i": datetime.date(2024, 1, 2), "j": decimal.Decimal("1.50"), "camelCol": 7})
                op.upsert("keyless", {"a": 1})
                op.upsert("keyless", {"a": 1})
                op.upsert("greeting", {"message": "hello, world!"})
                op.checkpoint({"done": True})

            connector = Connector(update=update)
            """,
            "configuration.json": "{}",
        ])
        let result = try runCLI(["run", folder.path])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(
            try folder.rows(#"SELECT "_fivetran_id", "a", "camel_col" FROM "keyless" ORDER BY "_fivetran_id""#)
                == [["Tt2/vavn4ylU1F3SGyAa1zVOD5Q=", "1", "7"], ["mK+RIo4EBCSTL7ivPvy7TFMk4mk=", "1", "NULL"]])
        #expect(try folder.rows(#"SELECT "_fivetran_id" FROM "greeting""#) == [["Ia8iIyTlAcLd9SpFdnhUGTK6/O4="]])
    }

    @Test("cells are Python reprs: quotes chosen as Python does, escapes, floats, bytes and json.dumps text")
    func pythonReprs() {
        #expect(FivetranRowHash.pythonRepr("it's") == #""it's""#)
        #expect(FivetranRowHash.pythonRepr(#"say "hi" it's"#) == #"'say "hi" it\'s'"#)
        #expect(FivetranRowHash.pythonRepr("a\\b\n\u{1}é\u{A0}😀") == #"'a\\b\n\x01é\xa0😀'"#)
        #expect(FivetranRowHash.bytesRepr([0, 1, 0x41, 0x27, 0xFF]) == #"b"\x00\x01A'\xff""#)
        #expect(FivetranRowHash.pythonFloat("1.5") == "1.5")
        #expect(FivetranRowHash.pythonFloat("1e16") == "1e+16")
        #expect(FivetranRowHash.pythonFloat("123456789012345.0") == "123456789012345.0")
        #expect(FivetranRowHash.pythonFloat("0.0001") == "0.0001")
        #expect(FivetranRowHash.pythonFloat("0.00001") == "1e-05")
        var dumped = ""
        FivetranRowHash.pythonJSONDumps(try! JSONParser.parse(Array(#"{"b":1,"a":[1,2.5,null,"é"]}"#.utf8)), into: &dumped)
        #expect(dumped == #"{"b": 1, "a": [1, 2.5, null, "\u00e9"]}"#)
        #expect(Base64.encode(SHA1.hash(Array("abc".utf8))) == "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=")
    }
}
