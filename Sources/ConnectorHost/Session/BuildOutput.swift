import Foundation
import Synchronization

/// The output of a connector's build step, shown only when the build did something.
///
/// A build that finds nothing to do (`swift build` of an up-to-date product, a virtual environment
/// whose requirements did not change) prints nothing on the console: its lines are held back and
/// dropped. They are shown when the build changed its artifact (``LaunchPlan/buildArtifact``), when
/// the build has no artifact to look at and printed something, or as soon as it has run for
/// ``liveAfter`` seconds (a build that takes that long is doing work, and its progress should show).
/// A failed build's last lines are in its error message instead.
///
/// Lines arrive on the build's reader threads; ``waiting()`` and ``finish(succeeded:)`` on the sync's.
final class BuildOutput: Sendable {
    private struct Held {
        var lines: [String] = []
        var live = false
    }

    /// Seconds after which a running build's output is shown as it comes.
    static let liveAfter = 3.0

    private let console: any SyncConsole
    private let header: String
    private let artifact: String?
    private let artifactBefore: Date?
    private let started = Date()
    private let held = Mutex(Held())

    init(console: any SyncConsole, plan: LaunchPlan) {
        self.console = console
        header = "building \(plan.name): \(plan.buildSummary ?? (plan.buildCommand ?? []).joined(separator: " "))"
        artifact = plan.buildArtifact
        artifactBefore = plan.buildArtifact.flatMap(Self.modificationDate)
    }

    /// A line of the build's output.
    func line(_ text: String) {
        let live = held.withLock { held -> Bool in
            if !held.live { held.lines.append(text) }
            return held.live
        }
        if live { console.note("  " + text) }
    }

    /// Called while the build runs: shows the output from now on once the build has run for a while.
    func waiting() {
        guard Date().timeIntervalSince(started) >= Self.liveAfter else { return }
        goLive()
    }

    /// The build ended: shows the held lines if it built something.
    func finish(succeeded: Bool) {
        guard succeeded else { return }
        let lines = held.withLock { $0.lines }
        let built: Bool
        if let artifact {
            built = Self.modificationDate(artifact) != artifactBefore
        } else {
            built = !lines.isEmpty
        }
        if built { goLive() }
    }

    private func goLive() {
        let lines = held.withLock { held -> [String]? in
            guard !held.live else { return nil }
            held.live = true
            defer { held.lines = [] }
            return held.lines
        }
        guard let lines else { return }
        console.note(header)
        for line in lines { console.note("  " + line) }
    }

    private static func modificationDate(_ path: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }
}
