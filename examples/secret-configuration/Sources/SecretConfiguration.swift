import ConnectorProtocol
import ConnectorSDK

/// Reads credentials from the configuration and keeps them out of every log.
///
/// The connector never prints `api_key` or `passphrase`; it logs only the account name. The host
/// masks secret values anyway, wherever they would appear in its output: values under keys that
/// look secret (`api_key`, `password`, `token`, ...) and values under the keys listed in the
/// configuration's `"__secrets"` array (here `passphrase`, whose name says nothing).
@main
struct SecretConfiguration: Connector {
    var name: String { "secret-configuration" }
    var version: String { "1.0.0" }

    func schema(configuration: Configuration) throws -> [TableDefinition] {
        [
            TableDefinition(
                name: "invoice", primaryKey: ["id"],
                columns: [
                    ("id", ColumnType(.string)), ("account", ColumnType(.string)),
                    ("amount", ColumnType(.decimal, precision: 10, scale: 2)), ("due", ColumnType(.naiveDate)),
                ])
        ]
    }

    func update(configuration: Configuration, state: JSONValue, operations: Operations) throws {
        let account = try configuration.string("account")
        let api = try EmulatedBillingAPI(
            account: account, apiKey: configuration.string("api_key"), passphrase: configuration.string("passphrase"))
        Log.info("authenticated as account \(account)")  // The account, never the credentials.
        let invoices = api.invoices()
        for invoice in invoices {
            try operations.upsert(
                "invoice",
                ["id": .string(invoice.id), "account": .string(account), "amount": .string(invoice.amount), "due": .string(invoice.due)])
        }
        try operations.checkpoint(["synced_invoices": .integer(invoices.count)])
    }
}

/// The emulated source: a billing API that accepts one key and passphrase.
struct EmulatedBillingAPI {
    let account: String

    /// Signs in.
    /// - Throws: a source error that, like some real APIs, echoes the rejected key; the host masks it.
    init(account: String, apiKey: String, passphrase: String) throws(ConnectorError) {
        guard apiKey == "sk-example-7f3a9c2e41d8", passphrase == "correct horse battery staple" else {
            throw ConnectorError(.sourceError, "401 Unauthorized: no account accepts the key \(apiKey)")
        }
        self.account = account
    }

    func invoices() -> [(id: String, amount: String, due: String)] {
        [("INV-001", "120.00", "2024-04-01"), ("INV-002", "75.50", "2024-04-15"), ("INV-003", "1999.99", "2024-05-01")]
    }
}
