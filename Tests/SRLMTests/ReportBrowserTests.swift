import Foundation
import Testing
@testable import SRLMReport

/// The HTML report in a real headless browser (Chromium from Debian's packages: `apt-get install chromium`): the
/// charts must be painted, and hostile model output must stay text. Set SRLM_SKIP_BROWSER=1 to skip on a machine
/// without Chromium; otherwise a missing browser is a failure, not a silent pass.
@Suite(.serialized) struct ReportBrowserTests {
    static let skip = ProcessInfo.processInfo.environment["SRLM_SKIP_BROWSER"] == "1"
    static let missing: Comment = "chromium not found on PATH: apt-get install chromium (or set SRLM_SKIP_BROWSER=1 to skip)"
    /// Tries to retitle the page both ways an injected element could run code.
    static let hostile = "<img src=x onerror=\"document.title='PWNED'\"><script>document.title='PWNED'</script>"

    @Test(.enabled(if: !skip, "SRLM_SKIP_BROWSER=1 is set: the headless-browser test is skipped"))
    func chartsArePaintedAndHostileTextDoesNotRun() throws {
        let browser = try #require(Self.chromium(), Self.missing)
        let directory = TestSupport.temporaryDirectory("srlm-browser")
        defer { try? FileManager.default.removeItem(at: directory) }
        let page = directory.appendingPathComponent("report.html")
        // The paper's report on top (what the screenshot shows), the hostile sections below it.
        let report = ReportExample.paper(appending: ReportTests.sample(hostile: Self.hostile).sections)
        try HTMLRenderer.render(report).write(to: page, atomically: true, encoding: .utf8)

        let screenshot = directory.appendingPathComponent("report.png")
        _ = try Self.run(browser, Self.headless(directory) + ["--screenshot=\(screenshot.path)", "--window-size=1200,1600",
                                                             page.absoluteString])
        if let keep = ProcessInfo.processInfo.environment["SRLM_SAVE_SCREENSHOT"] {
            try? FileManager.default.removeItem(atPath: keep)
            try FileManager.default.copyItem(at: screenshot, to: URL(fileURLWithPath: keep))
        }
        let pixels = try Self.countPixels(screenshot, colours: Array(SVGChart.palette.prefix(2)))
        #expect(pixels.width == 1200 && pixels.height == 1600)
        // The first two series' colours appear only in the charts; a legend swatch is 14×14 = 196 pixels and each
        // colour has two in view, so more than 1,000 pixels means lines and bars were painted, not just the legend.
        for colour in SVGChart.palette.prefix(2) {
            #expect((pixels.colours[colour] ?? 0) > 1_000, "\(colour): \(pixels.colours[colour] ?? 0) pixels")
        }

        let dom = try Self.run(browser, Self.headless(directory) + ["--dump-dom", page.absoluteString])
        #expect(dom.contains("<title>\(report.title)</title>"), "the page was retitled: \(dom.prefix(400))")
        #expect(!dom.contains("<img") && !dom.contains("<script"))
        #expect(dom.components(separatedBy: "<polyline").count - 1 == 3 + 2)  // the two line charts' series
        #expect(dom.contains("&lt;img src=x onerror=\"document.title='PWNED'\"&gt;"))
    }

    /// The check above can fail: the same payload unescaped, in a page without the CSP, does retitle the page.
    @Test(.enabled(if: !skip, "SRLM_SKIP_BROWSER=1 is set: the headless-browser test is skipped"))
    func unescapedPayloadWouldBeCaught() throws {
        let browser = try #require(Self.chromium(), Self.missing)
        let directory = TestSupport.temporaryDirectory("srlm-browser")
        defer { try? FileManager.default.removeItem(at: directory) }
        let page = directory.appendingPathComponent("unsafe.html")
        try "<!DOCTYPE html><title>srlm report: run 42</title><p>\(Self.hostile)</p>"
            .write(to: page, atomically: true, encoding: .utf8)
        let dom = try Self.run(browser, Self.headless(directory) + ["--dump-dom", page.absoluteString])
        #expect(dom.contains("<title>PWNED</title>") && dom.contains("<img"))
    }

    static func headless(_ directory: URL) -> [String] {
        ["--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(directory.appendingPathComponent("profile").path)"]
    }

    static func chromium() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").flatMap { ["\($0)/chromium", "\($0)/chromium-browser"] }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The browser's stdout; its stderr is only D-Bus and GPU noise in a container.
    static func run(_ browser: String, _ arguments: [String]) throws -> String {
        let (status, output) = try TestSupport.run(browser, arguments, withErrors: false)
        #expect(status == 0, "\(browser) exited with \(status)")
        return output
    }

    struct Pixels: Decodable {
        var width: Int
        var height: Int
        var nonWhite: Int
        var colours: [String: Int]
    }

    /// Decodes the PNG with Tests/Fixtures/png_pixels.py (standard-library Python: zlib and the PNG filters).
    static func countPixels(_ png: URL, colours: [String]) throws -> Pixels {
        let (status, json) = try TestSupport.run("python3", [TestSupport.fixture("png_pixels.py"), png.path] + colours)
        #expect(status == 0, "png_pixels.py: \(json)")
        return try JSONDecoder().decode(Pixels.self, from: Data(json.utf8))
    }
}
