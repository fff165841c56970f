import Testing

@testable import ConnectorHost

/// Fivetran's default naming, checked name by name against what the Fivetran Connector SDK 3.0
/// itself produces for the same names (the expected values were taken from it).
@Suite("Fivetran naming of tables, columns and schemas")
struct NamingTests {
    static let cases: [(source: String, column: String, table: String, schema: String)] = [
        ("createdAt", column: "created_at", table: "created_at", schema: "createdat"),
        ("val1", column: "val_1", table: "val_1", schema: "val1"),
        ("A", column: "a", table: "a", schema: "a"),
        ("Ünïcode", column: "unicode", table: "unicode", schema: "_n_code"),
        ("_Hidden", column: "_hidden", table: "hidden", schema: "_hidden"),
        ("__1x", column: "_1_x", table: "_1_x", schema: "__1x"),
        ("userID", column: "user_id", table: "user_id", schema: "userid"),
        ("HTTPServer", column: "httpserver", table: "httpserver", schema: "httpserver"),
        ("some thing", column: "some_thing", table: "some_thing", schema: "some_thing"),
        ("Straße", column: "stra_e", table: "stra_e", schema: "stra_e"),
        ("naïve café", column: "naive_cafe", table: "naive_cafe", schema: "na_ve_caf_"),
        ("1abc", column: "_1_abc", table: "_1_abc", schema: "1abc"),
        ("abc123def", column: "abc_123_def", table: "abc_123_def", schema: "abc123def"),
        ("a__b", column: "a_b", table: "a_b", schema: "a__b"),
        ("_", column: "_", table: "_", schema: "_"),
        ("__", column: "_", table: "_", schema: "__"),
        ("", column: "", table: "", schema: ""),
        ("x.y", column: "x_y", table: "x_y", schema: "x_y"),
        ("a-b", column: "a_b", table: "a_b", schema: "a_b"),
        ("日本", column: "_", table: "_", schema: "__"),
        ("ABC", column: "abc", table: "abc", schema: "abc"),
        ("camelCaseXML", column: "camel_case_xml", table: "camel_case_xml", schema: "camelcasexml"),
        ("é", column: "e", table: "e", schema: "_"),
        ("_fivetran_synced", column: "_fivetran_synced", table: "fivetran_synced", schema: "_fivetran_synced"),
        ("__abc__", column: "_abc_", table: "abc_", schema: "__abc__"),
        ("A1B2", column: "a_1_b_2", table: "a_1_b_2", schema: "a1b2"),
        ("ID", column: "id", table: "id", schema: "id"),
        ("Id", column: "id", table: "id", schema: "id"),
        ("price$", column: "price_", table: "price_", schema: "price_"),
        ("  spaced  ", column: "_spaced_", table: "spaced_", schema: "__spaced__"),
        ("tab\tname", column: "tab_name", table: "tab_name", schema: "tab_name"),
        ("Ωmega", column: "_mega", table: "mega", schema: "_mega"),
        ("ﬁle", column: "_le", table: "le", schema: "_le"),
        ("a1_2b", column: "a_1_2_b", table: "a_1_2_b", schema: "a1_2b"),
        ("_1a", column: "_1_a", table: "_1_a", schema: "_1a"),
        ("Crème Brûlée", column: "creme_brulee", table: "creme_brulee", schema: "cr_me_br_l_e"),
        ("orderID_2", column: "order_id_2", table: "order_id_2", schema: "orderid_2"),
        ("__9lives", column: "_9_lives", table: "_9_lives", schema: "__9lives"),
        ("a_1", column: "a_1", table: "a_1", schema: "a_1"),
        ("1_a", column: "_1_a", table: "_1_a", schema: "1_a"),
        ("x__1", column: "x_1", table: "x_1", schema: "x__1"),
        ("ÀÉÎ", column: "aei", table: "aei", schema: "___"),
        ("über_Größe", column: "uber_gro_e", table: "uber_gro_e", schema: "_ber_gr__e"),
        ("Ĳssel", column: "_ssel", table: "ssel", schema: "_ssel"),
        ("café-au-lait.v2", column: "cafe_au_lait_v_2", table: "cafe_au_lait_v_2", schema: "caf__au_lait_v2"),
    ]

    @Test("each name maps as Fivetran maps it: snake_case words and digits, accents stripped, tables without leading underscores")
    func fivetranNames() {
        for (source, column, table, schema) in Self.cases {
            #expect(FivetranNames.column(source) == column, "column \(source)")
            #expect(FivetranNames.table(source) == table, "table \(source)")
            #expect(FivetranNames.schema(source) == schema, "schema \(source)")
        }
    }

    @Test("source naming keeps every name as sent")
    func sourceNames() {
        let naming = Naming(strategy: .source)
        for (source, _, _, _) in Self.cases {
            #expect(naming.table(source) == source && naming.column(source) == source && naming.schema(source) == source)
        }
    }

    @Test("--naming reads Fivetran's spellings in any letter case")
    func strategyArgument() {
        #expect(NamingStrategy(argument: "FIVETRAN") == .fivetran)
        #expect(NamingStrategy(argument: "Source_Naming") == .source)
        #expect(NamingStrategy(argument: "snake") == nil)
    }
}
