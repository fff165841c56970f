import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

/// `inspect --html FILE`: one self-contained page, checked as rendered by headless Chromium
/// (Debian's `chromium`; skipped with a printed reason when it is not installed).
@Suite("inspect --html")
struct InspectHTMLTests {
    @Test("the page shows tables, columns, types, counts, state and charts of the history with the failed sync marked; Chromium renders it")
    func rendersInChromium() throws {
        let fixture = try ConnectorFixture(files: [
            "connector.py": """
            from fivetran_connector_sdk import Connector, Operations as op
            def schema(configuration):
                return [{"table": "orders", "primary_key": ["id"], "columns": {"id": "LONG", "total": "DOUBLE"}}]
            def update(configuration, state):
                for i in range(1, 4):
                    op.upsert("orders", {"id": i, "total": i * 1.5, "note": "<b>&</b>"})
                op.checkpoint({"cursor": 3})
                if configuration.get("fail") == "yes":
                    raise RuntimeError("the source is down")
            connector = Connector(update=update, schema=schema)
            """,
            "configuration.json": "{}",
        ])
        #expect(try runCLI(["run", fixture.path]).status == 0)
        try fixture.write("configuration.json", #"{"fail": "yes"}"#)
        #expect(try runCLI(["run", fixture.path]).status == 1)
        let page = fixture.path + "/page.html"
        let inspect = try runCLI(["inspect", fixture.path, "--html", page])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(inspect.stdout == "wrote \(page)\n")
        let html = try String(contentsOfFile: page, encoding: .utf8)
        #expect(!html.contains("<script") && !html.contains("http://") && !html.contains("https://"), "the page is self-contained")
        #expect(html.contains("&lt;b&gt;") == false, "row values are not on the page, only the shape of the data")

        guard shell(["chromium", "--version"]).status == 0 else {
            print("skipped the rendering check: chromium is not installed (apt-get install chromium)")
            return
        }
        let dom = fixture.path + "/dom.html"
        let shot = fixture.path + "/shot.png"
        let flags = "--headless --no-sandbox --disable-gpu --disable-dev-shm-usage --user-data-dir=\(fixture.path)/chromium"
        let dumped = shell(["sh", "-c", "timeout 120 chromium \(flags) --dump-dom file://\(page) > \(dom) 2>/dev/null"])
        #expect(dumped.status == 0, "\(dumped.output)")
        let rendered = try String(contentsOfFile: dom, encoding: .utf8)
        #expect(rendered.contains("<h3>orders</h3>"))
        #expect(rendered.contains("<span class=\"live\">3</span> live rows"))
        #expect(rendered.contains("<td>total</td><td>DOUBLE</td><td>declared</td>"))
        #expect(rendered.contains("<td>note</td><td>STRING</td><td>inferred</td>"))
        #expect(rendered.contains(#"<pre id="state">{"cursor":3}</pre>"#))
        #expect(rendered.contains("<svg id=\"chart-rows\""))
        #expect(rendered.components(separatedBy: "<rect class=\"bar\"").count - 1 == 2)  // one bar per chart for the good sync
        #expect(rendered.components(separatedBy: "<rect class=\"bar failed\"").count - 1 == 2)
        #expect(rendered.contains("the source is down"))
        let screenshot = shell([
            "sh", "-c", "timeout 120 chromium \(flags) --window-size=900,1400 --screenshot=\(shot) file://\(page) >/dev/null 2>&1",
        ])
        #expect(screenshot.status == 0)
        let size = (try? FileManager.default.attributesOfItem(atPath: shot)[.size] as? Int) ?? 0
        #expect(size > 10_000, "the screenshot has \(size) bytes")
    }
}
