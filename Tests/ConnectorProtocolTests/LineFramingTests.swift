import Foundation
import Testing

@testable import ConnectorProtocol

#if canImport(Glibc)
    import Glibc
#endif

/// A pipe whose write end the test feeds by hand.
private struct Pipe {
    let read: Int32
    let write: Int32

    init() {
        var ends: [Int32] = [0, 0]
        precondition(pipe(&ends) == 0)
        read = ends[0]
        write = ends[1]
    }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(write, $0.baseAddress, $0.count) }
    }

    func closeWrite() { close(write) }
}

@Suite("Line framing")
struct LineFramingTests {
    @Test("lines split across reads are joined, and CRLF endings are accepted")
    func partialReadsAndCRLF() throws {
        let pipe = Pipe()
        let reader = LineReader(fileDescriptor: pipe.read, readSize: 4096)
        pipe.send("{\"a\":")
        pipe.send("1}\r\n{\"b\"")
        pipe.send(":2}\n")
        pipe.closeWrite()
        #expect(try reader.nextLine().map { String(decoding: $0, as: UTF8.self) } == "{\"a\":1}")
        #expect(try reader.nextLine().map { String(decoding: $0, as: UTF8.self) } == "{\"b\":2}")
        #expect(try reader.nextLine() == nil)
        #expect(reader.lineNumber == 2)
    }

    @Test("a line larger than the buffer grows it")
    func longLine() throws {
        let pipe = Pipe()
        let reader = LineReader(fileDescriptor: pipe.read, readSize: 4096)
        let long = String(repeating: "x", count: 3_000_000)
        let writer = Thread {
            pipe.send(long + "\nshort\n")
            pipe.closeWrite()
        }
        writer.start()
        #expect(try reader.nextLine()?.count == 3_000_000)
        #expect(try reader.nextLine().map { String(decoding: $0, as: UTF8.self) } == "short")
        #expect(try reader.nextLine() == nil)
    }

    @Test("a line over the limit is an error naming the line")
    func lineTooLong() {
        let pipe = Pipe()
        let reader = LineReader(fileDescriptor: pipe.read, maximumLineLength: 10_000, readSize: 4096)
        pipe.send("ok\n" + String(repeating: "y", count: 20_000))
        pipe.closeWrite()
        #expect(throws: Never.self) { _ = try reader.nextLine() }
        #expect(throws: LineReadError.lineTooLong(line: 2, limit: 10_000)) { _ = try reader.nextLine() }
    }

    @Test("bytes without a final newline at EOF are reported as a partial line")
    func partialLineAtEOF() {
        let pipe = Pipe()
        let reader = LineReader(fileDescriptor: pipe.read)
        pipe.send("{\"complete\":1}\n{\"cut")
        pipe.closeWrite()
        #expect(throws: Never.self) { _ = try reader.nextLine() }
        #expect(throws: LineReadError.partialLineAtEOF(line: 2, prefix: Array("{\"cut".utf8))) { _ = try reader.nextLine() }
    }

    @Test("a silent writer makes the reader time out")
    func timeout() {
        let pipe = Pipe()
        let reader = LineReader(fileDescriptor: pipe.read)
        #expect(throws: LineReadError.timedOut) { _ = try reader.nextLine(timeout: 0.05) }
        pipe.closeWrite()
    }

    @Test("the writer writes whole messages as lines")
    func writer() throws {
        let pipe = Pipe()
        try LineWriter(fileDescriptor: pipe.write).send(.notification(method: "log", params: ["level": "info", "message": "hi"]))
        pipe.closeWrite()
        let reader = LineReader(fileDescriptor: pipe.read)
        let line = try #require(try reader.nextLine())
        #expect(try Message.decode(line: line) == .notification(method: "log", params: ["level": "info", "message": "hi"]))
    }
}

@Suite("Writing to a pipe nobody reads")
struct BrokenPipeTests {
    @Test("a write to a pipe whose reader is gone is an EPIPE error, and no SIGPIPE is left pending or delivered")
    func brokenPipeIsAnError() throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        close(ends[0])
        defer { close(ends[1]) }
        #expect(throws: LineWriteError(errno: EPIPE)) { try LineWriter(fileDescriptor: ends[1]).write(Array("line\n".utf8)) }
        var pending = sigset_t()
        sigpending(&pending)
        #expect(sigismember(&pending, SIGPIPE) == 0)
        var mask = sigset_t()
        pthread_sigmask(SIG_SETMASK, nil, &mask)
        #expect(sigismember(&mask, SIGPIPE) == 0, "the thread's signal mask is restored")
    }
}
