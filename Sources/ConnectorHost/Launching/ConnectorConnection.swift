import ConnectorProtocol

/// A started connector: the child process, a line reader on its stdout, a line writer on its stdin,
/// and a thread draining its stderr.
///
/// Shared by the sync (``SyncRunner``) and the conformance suite (``ConformanceSuite``), which
/// talk to the connector differently but start and wire it the same way. Confined to the thread
/// that created it, except for the stderr thread, which only calls `stderrLine`.
final class ConnectorConnection {
    let process: ChildProcess
    let reader: LineReader
    let writer: LineWriter
    let stderr: StderrCollector

    /// Starts the plan's command in the plan's directory, with the plan's extra environment (and the
    /// host's, without the variables ``HostEnvironment`` withholds).
    /// - Parameters:
    ///   - maximumLineLength: the longest stdout line accepted.
    ///   - redactor: masks the configuration's secrets in stderr lines before a long one is cut.
    ///   - stderrLine: called on the stderr thread for every line the connector writes there.
    /// - Throws: ``SpawnError``.
    init(plan: LaunchPlan, maximumLineLength: Int, redactor: Redactor, stderrLine: @escaping @Sendable (String) -> Void)
        throws(SpawnError)
    {
        process = try ChildProcess(
            arguments: plan.arguments, directory: plan.directory,
            environment: HostEnvironment.forChild(extra: plan.environment, passing: Set(plan.passEnvironment)))
        stderr = StderrCollector(fileDescriptor: process.errorOutput, redactor: redactor, sink: stderrLine)
        reader = LineReader(fileDescriptor: process.output, maximumLineLength: maximumLineLength)
        // The connector's own exit ends the conversation, even while a process it started holds its pipes.
        reader.exitDescriptor = process.exitDescriptor
        var writer = LineWriter(fileDescriptor: process.input)
        writer.exitDescriptor = process.exitDescriptor
        self.writer = writer
    }
}
