import Foundation

/// The environment a connector (and its build step) gets.
///
/// Connectors are programs the user chose to run, like a build tool: they get the user's
/// environment (PATH, HOME, locale, proxies, SDK paths) — except variables that look like secrets,
/// which a connector has no business reading: names that look secret by the rules of
/// ``Redaction/looksSecret(_:)`` (`GITHUB_TOKEN`, `AWS_SECRET_ACCESS_KEY`, `PGPASSWORD`,
/// `SSH_AUTH_SOCK`, `DB_PASS`, `OPENAI_KEY`, `GH_PAT`, ...) and values that carry a secret: a
/// password in a URL (`postgres://user:pass@host`), a secret-looking parameter in a query or
/// connection string (`?password=...`, `Server=db;Password=...`).
/// A connector that needs one names it in its manifest's `"passEnvironment"` (or the user passes
/// `--pass-env NAME`). The configuration, secrets included, reaches a connector through the
/// protocol only.
public enum HostEnvironment {
    /// The host's environment without withheld variables (unless named in `passing`), plus `extra`,
    /// as sorted `NAME=value` strings.
    public static func forChild(
        extra: [String: String], passing: Set<String> = [], from host: [String: String] = ProcessInfo.processInfo.environment
    ) -> [String] {
        var environment = host.filter { passing.contains($0.key) || !isWithheld(name: $0.key, value: $0.value) }
        for (key, value) in extra { environment[key] = value }
        return environment.map { "\($0.key)=\($0.value)" }.sorted()
    }

    /// Whether a host variable is kept from connectors by default.
    public static func isWithheld(name: String, value: String) -> Bool {
        Redaction.looksSecret(name) || !Redaction.embeddedSecrets(in: value).isEmpty
    }
}
