import CConnectorSQLite

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Turns an SQLite failure into one message that names the warehouse file, what the host was doing,
/// and what the user can do about it (free space, fix permissions, close another program).
enum WarehouseProblem {
    /// - Parameters:
    ///   - path: the warehouse file.
    ///   - action: what the host was doing, e.g. "applying stdout line 12".
    static func message(_ error: SQLiteError, path: String, while action: String) -> String {
        let reason = "\(error.message) [SQLite \(error.code)]"
        if [.full, .ioError].contains(error.code.primary), fileSizeLimitReached(path) {
            return
                "the warehouse \(path) reached the file size limit while \(action) (\(reason)); nothing after the last checkpoint was kept. Raise the limit (ulimit -f) and run again"
        }
        switch error.code {
        case .full:
            return
                "the disk is full: the warehouse \(path) could not grow while \(action) (\(reason)); nothing after the last checkpoint was kept. Free some space, or move the warehouse with --warehouse, and run again"
        case .readOnly, .permission:
            return
                "the warehouse \(path) is read-only (\(reason)) while \(action); make the file, its -wal and -shm files and its folder writable (chmod u+w), or choose another file with --warehouse"
        case .busy, .locked:
            return
                "the warehouse \(path) is locked by another program (\(reason)) while \(action); close the program that writes to it (for example a sqlite3 shell with an open transaction) and run again"
        case .corrupt, .notADatabase:
            return
                "the warehouse \(path) is damaged or not an SQLite database (\(reason)) while \(action); move it away, or run `connector-host reset` to start over"
        case .cannotOpen:
            return "cannot open the warehouse \(path) (\(reason)) while \(action); check that its folder exists and is writable"
        case .ioError where [ENOSPC, EDQUOT].contains(error.systemErrno):
            return
                "the disk is full: the warehouse \(path) could not grow while \(action) (\(reason), \(String(cString: strerror(error.systemErrno)))); nothing after the last checkpoint was kept. Free some space, or move the warehouse with --warehouse, and run again"
        case .ioError where error.systemErrno == EROFS:
            return
                "the warehouse \(path) is on a read-only file system (\(reason)) while \(action); choose another file with --warehouse"
        case .ioError:
            return
                "the warehouse \(path) could not be read or written while \(action) (\(reason)); check the disk and the file, then run again"
        default:
            // SQLite's message and code, not the SQL: it holds the connector's names (cut, it could
            // show part of a secret), and it tells the user nothing they can act on.
            return "the warehouse \(path) failed while \(action): \(reason)"
        }
    }

    /// Whether the process has a file size limit (RLIMIT_FSIZE, `ulimit -f`) that the warehouse or
    /// its -wal file has reached. SQLite reports a write past it (EFBIG) as a generic I/O error.
    static func fileSizeLimitReached(_ path: String) -> Bool {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_FSIZE.rawValue), &limit) == 0, limit.rlim_cur < rlim_t(Int64.max) else { return false }  // RLIM_INFINITY is at least Int64.max
        return [path, path + "-wal"].contains { file in
            var info = stat()
            return stat(file, &info) == 0 && UInt64(info.st_size) + 65536 > UInt64(limit.rlim_cur)
        }
    }
}
