import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

/// The state a user gives is honoured, as `fivetran debug` honours it: a hand-edited state.json or a
/// `--state FILE` is the start state, and every run says where its start state came from.
@Suite("Where a run's start state comes from")
struct StateSourceTests {
    static let showState: JSONObject = ["update": [["stderrState": true], ["reply": true]]]

    @Test("a hand-edited state.json wins over the warehouse's last checkpoint, run after run until a checkpoint")
    func editedStateFileWins() throws {
        let fixture = try ConnectorFixture.seeded(then: Self.showState)
        try fixture.write("files/state.json", #"{"c": 1}"#)
        for _ in 1...2 {
            let (report, console) = fixture.sync()
            #expect(report.failure == nil)
            #expect(console.all.contains(#"[fixture] state: {"c":1}"#), "\(console.all)")
            #expect(
                console.all.contains(
                    #"start state: {"c":1} from \#(fixture.statePath), which differs from the last checkpoint {"c":3}: a state file you edit or give with --state wins"#
                ), "\(console.all)")
        }
        try fixture.script(["update": [["stderrState": true], ["checkpoint": ["c": 2]], ["reply": true]]])
        #expect(fixture.sync().0.failure == nil)
        #expect(fixture.stateFile() == #"{"c":2}"#)
        let (_, console) = fixture.sync()
        #expect(console.all.contains(#"start state: {"c":2}, the last checkpoint (mirrored in \#(fixture.statePath))"#), "\(console.all)")
    }

    @Test("--state FILE is read as the start state and updated at each checkpoint")
    func stateOption() throws {
        let fixture = try ConnectorFixture.seeded(then: ["update": [["stderrState": true], ["checkpoint": ["c": 7]], ["reply": true]]])
        let given = fixture.path + "/given-state.json"
        try #"{"c":6}"#.write(toFile: given, atomically: true, encoding: .utf8)
        let (report, console) = fixture.sync { $0.files = WorkspaceFiles(directory: fixture.path, state: given) }
        #expect(report.failure == nil)
        #expect(console.all.contains(#"[fixture] state: {"c":6}"#), "\(console.all)")
        #expect(
            console.all.contains(
                #"start state: {"c":6} from \#(given), which differs from the last checkpoint {"c":3}: a state file you edit or give with --state wins"#
            ))
        #expect((try String(contentsOfFile: given, encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines) == #"{"c":7}"#)
    }

    @Test("without a checkpoint, the state file is the start state; with neither, the run says it is a first sync")
    func firstSync() throws {
        let fixture = try ConnectorFixture.hostile(Self.showState)
        let (_, first) = fixture.sync()
        #expect(first.all.contains("start state: {} (a first sync: no checkpoint yet and no state file)"), "\(first.all)")
        try fixture.write("files/state.json", #"{"c":4,"token":"s3cr3t"}"#)
        let (_, second) = fixture.sync()
        #expect(second.all.contains(#"[fixture] state: {"c":4,"token":"s3cr3t"}"#), "\(second.all)")
        #expect(
            second.all.contains(
                #"start state: {"c":4,"token":"********"} from \#(fixture.statePath) (the warehouse has no checkpoint yet)"#),
            "values under secret-looking keys are masked: \(second.all)")
    }
}
