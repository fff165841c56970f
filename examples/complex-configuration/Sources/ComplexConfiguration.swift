import ConnectorProtocol
import ConnectorSDK

/// Turns configuration strings into a list, an integer, a boolean and a dictionary.
///
/// Configuration values arrive as strings (that is what a configuration form can hold); the
/// ``Configuration`` accessors convert them and fail with a message that names the key and the bad
/// value. Read and check everything first, before sending a single row.
@main
struct ComplexConfiguration: Connector {
    var name: String { "complex-configuration" }
    var version: String { "1.0.0" }

    /// The settings, parsed and checked once.
    struct Settings {
        var regions: [String]
        var apiQuota: Int
        var useBulkAPI: Bool
        var currencies: [(code: String, rate: Double)]

        init(_ configuration: Configuration) throws {
            regions = try configuration.list("regions")  // "us-east, eu-west" -> ["us-east", "eu-west"]
            apiQuota = try configuration.int("api_quota")  // "12" -> 12
            useBulkAPI = try configuration.bool("use_bulk_api", default: false)  // "true" -> true
            currencies = try configuration.object("currencies").map { member in  // "{\"EUR\": 0.875}" -> ["EUR": 0.875]
                guard let rate = member.value.doubleValue else {
                    throw ConnectorError.configuration("currencies.\(member.key) must be a number, got \(JSONWriter.string(member.value))")
                }
                return (member.key, rate)
            }
            guard apiQuota > 0 else { throw ConnectorError.configuration("api_quota must be at least 1, got \(apiQuota)") }
        }
    }

    func schema(configuration: Configuration) throws -> [TableDefinition] {
        [
            TableDefinition(
                name: "price", primaryKey: ["region", "currency"],
                columns: [
                    ("region", ColumnType(.string)), ("currency", ColumnType(.string)), ("amount", ColumnType(.double)),
                    ("fetched_in_bulk", ColumnType(.boolean)),
                ])
        ]
    }

    func update(configuration: Configuration, state: JSONValue, operations: Operations) throws {
        let settings = try Settings(configuration)
        var calls = 0
        for region in settings.regions {
            // The bulk API prices every currency in one call; without it, each currency costs a call.
            let cost = settings.useBulkAPI ? 1 : settings.currencies.count
            guard calls + cost <= settings.apiQuota else {
                Log.warning("api_quota \(settings.apiQuota) reached; skipping region \(region) and the rest")
                break
            }
            calls += cost
            let basePrice = EmulatedPriceAPI.basePrice(region: region)
            for currency in settings.currencies {
                try operations.upsert(
                    "price",
                    [
                        "region": .string(region), "currency": .string(currency.code), "amount": .double(basePrice * currency.rate),
                        "fetched_in_bulk": .bool(settings.useBulkAPI),
                    ])
            }
        }
        try operations.checkpoint(["api_calls_last_sync": .integer(calls)])
    }
}

/// The emulated source: a base price in USD per region.
enum EmulatedPriceAPI {
    static func basePrice(region: String) -> Double {
        ["us-east": 100, "eu-west": 80, "ap-south": 64][region] ?? 50
    }
}
