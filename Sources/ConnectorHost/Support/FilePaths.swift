import Foundation

/// Path helpers shared by every command.
package enum FilePaths {
    /// `path` made absolute against `base` (default: the current directory), with `.` and `..` resolved.
    package static func absolute(_ path: String, relativeTo base: String? = nil) -> String {
        let start = path.hasPrefix("/") ? path : (base ?? FileManager.default.currentDirectoryPath) + "/" + path
        return URL(fileURLWithPath: start).standardizedFileURL.path
    }
}
