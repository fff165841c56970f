import Foundation
import Testing

@testable import ConnectorPackaging

@Suite(".gitignore rules")
struct IgnoreRulesTests {
    @Test(
        "globs match as git's wildmatch does: *, ?, [...], ** and escapes",
        arguments: [
            ("*.py", "connector.py", true), ("*.py", "connector.pyc", false), ("*.py", "a/b.py", false),
            ("?.txt", "a.txt", true), ("?.txt", "ab.txt", false), ("?", "/", false),
            ("[abc].md", "b.md", true), ("[abc].md", "d.md", false), ("[!abc].md", "d.md", true), ("[^abc].md", "a.md", false),
            ("[a-c]x", "bx", true), ("[a-c]x", "dx", false), ("[]]x", "]x", true), ("[a-]x", "-x", true),
            ("[[:digit:]]*", "7up", true), ("[[:digit:]]*", "up", false), ("[[:upper:][:digit:]]", "Q", true),
            ("\\*.txt", "*.txt", true), ("\\*.txt", "a.txt", false), ("\\#x", "#x", true),
            ("a/*", "a/b", true), ("a/*", "a/b/c", false), ("a/*/c", "a/b/c", true), ("a/*/c", "a/c", false),
            ("**/z", "z", true), ("**/z", "a/b/z", true), ("**/z", "a/bz", false),
            ("a/**", "a/b", true), ("a/**", "a/b/c", true), ("a/**", "a", false),
            ("a/**/b", "a/b", true), ("a/**/b", "a/x/y/b", true), ("a/**/b", "a/xb", false),
            ("a**b", "axyb", true), ("a**b", "ax/yb", false), ("**", "any/thing", true),
            ("*a*a*a*a*a*a*a*a*a*b", String(repeating: "a", count: 60), false),
            ("**/**/**/**/**/**/x", String(repeating: "a/", count: 30) + "y", false),
            ("[unclosed", "[unclosed", false), ("trailing\\", "trailing\\", false),
        ])
    func wildmatch(pattern: String, text: String, expected: Bool) {
        #expect(Wildmatch.match(Array(pattern.utf8), Array(text.utf8)) == expected)
    }

    @Test("lines parse as git reads them: comments, negation, trailing slash and spaces, anchoring, CRLF")
    func parsing() throws {
        #expect(IgnorePattern(line: "# comment") == nil)
        #expect(IgnorePattern(line: "   ") == nil)
        #expect(IgnorePattern(line: "") == nil)
        let negated = try #require(IgnorePattern(line: "!keep.log"))
        #expect(negated.isNegated && !negated.isAnchored && negated.glob == Array("keep.log".utf8))
        let folder = try #require(IgnorePattern(line: "build/"))
        #expect(folder.matchesDirectoriesOnly && !folder.isAnchored && folder.glob == Array("build".utf8))
        let rooted = try #require(IgnorePattern(line: "/build"))
        #expect(rooted.isAnchored && rooted.glob == Array("build".utf8))
        let middle = try #require(IgnorePattern(line: "docs/*.tmp"))
        #expect(middle.isAnchored)
        #expect(try #require(IgnorePattern(line: "name.txt   ")).glob == Array("name.txt".utf8))
        #expect(try #require(IgnorePattern(line: "name.txt\\ ")).glob == Array("name.txt\\ ".utf8))
        #expect(try #require(IgnorePattern(line: "crlf.txt\r")).glob == Array("crlf.txt".utf8))
        #expect(try #require(IgnorePattern(line: "\\!bang")).glob == Array("\\!bang".utf8))
    }

    @Test("the last matching pattern decides; a nested file's patterns apply only below its folder")
    func decisions() {
        var rules = IgnoreRules()
        rules.add(gitignore: "*.log\n!keep.log\n/top.txt\n", base: "")
        rules.add(gitignore: "*.txt\n!ok.txt\n", base: "sub")
        #expect(rules.isIgnored("a.log", isDirectory: false))
        #expect(!rules.isIgnored("keep.log", isDirectory: false))
        #expect(rules.isIgnored("x/y/a.log", isDirectory: false))
        #expect(rules.isIgnored("top.txt", isDirectory: false))
        #expect(!rules.isIgnored("x/top.txt", isDirectory: false))
        #expect(!rules.isIgnored("note.txt", isDirectory: false))
        #expect(rules.isIgnored("sub/note.txt", isDirectory: false))
        #expect(!rules.isIgnored("sub/ok.txt", isDirectory: false))
        #expect(rules.isIgnored("sub/deeper/note.txt", isDirectory: false))
        #expect(!rules.isIgnored("subway/note.txt", isDirectory: false))
        #expect(rules.decision(for: "keep.log", isDirectory: false) == false)
        #expect(rules.decision(for: "other.md", isDirectory: false) == nil)
    }

    /// A folder with nested `.gitignore` files that exercise every rule, and the files it holds.
    static let gitFixture: (gitignores: [String: String], files: [String]) = (
        [
            ".gitignore": [
                "# comments and blank lines are skipped", "", "*.log", "!keep.log", "build/", "/rootonly.txt", "docs/**/*.tmp",
                "**/generated", "data/*.csv", "!data/important.csv", "\\#hash.txt", "trailing.txt   ", "[abc]x.py", "*.py[co]",
                "excluded_dir/", "!excluded_dir/inner.txt", "a/**/z.txt", "[!a]b.cfg", "q?.ini", "crlf.md\r",
            ].joined(separator: "\n"),
            "nested/.gitignore": "*.txt\n!important.txt\n/local.md\nsub/\n",
            "nested/x/.gitignore": "!again.txt\n",
        ],
        [
            "app.log", "keep.log", "src/app.log", "src/keep.log", "build/out.o", "src/build/out.o", "rootonly.txt", "src/rootonly.txt",
            "docs/a.tmp", "docs/x/y/b.tmp", "docs/keep.md", "generated/g.py", "src/generated/g.py", "data/a.csv", "data/important.csv",
            "data/sub/b.csv", "#hash.txt", "trailing.txt", "ax.py", "dx.py", "m.pyc", "m.pyo", "m.py", "excluded_dir/inner.txt",
            "excluded_dir/other.txt", "nested/a.txt", "nested/important.txt", "nested/local.md", "nested/x/local.md", "nested/sub/f.py",
            "nested/x/sub/f.py", "nested/x/again.txt", "nested/x/other.txt", "a/z.txt", "a/b/c/z.txt", "a/b/y.txt", "xb.cfg", "ab.cfg",
            "q1.ini", "q12.ini", "crlf.md", "connector.py",
        ]
    )

    @Test("the package's files are exactly the files git does not ignore, in a folder with nested .gitignore files and negations")
    func agreesWithGit() throws {
        guard available("git") else {
            print("skipped: git is not installed")
            return
        }
        let folder = try TemporaryFolder()
        for (path, text) in Self.gitFixture.gitignores { try folder.write(path, text) }
        for path in Self.gitFixture.files { try folder.write(path, "content of \(path)\n") }
        let isolated = ["GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "HOME": folder.path]
        let initialized = try #require(runProgram(["git", "init", "-q", "."], directory: folder.path, environment: isolated))
        #expect(initialized.status == 0, "\(initialized.stderr)")
        let listed = try #require(
            runProgram(["git", "ls-files", "--others", "--exclude-standard", "-z"], directory: folder.path, environment: isolated))
        #expect(listed.status == 0, "\(listed.stderr)")
        let gitFiles = listed.stdout.split(separator: "\0").map(String.init).sorted()

        let ours = try PackageSource.contents(of: folder.path).files.map(\.path).sorted()
        #expect(ours == gitFiles)
        // The expectations written out, so a change in both git and us would still show.
        #expect(
            ours
                == [
                    ".gitignore", "a/b/y.txt", "ab.cfg", "connector.py", "data/important.csv", "data/sub/b.csv",
                    "docs/keep.md", "dx.py", "keep.log", "m.py", "nested/.gitignore", "nested/important.txt", "nested/x/.gitignore",
                    "nested/x/again.txt", "nested/x/local.md", "q12.ini", "src/keep.log", "src/rootonly.txt",
                ].sorted())
    }
}
