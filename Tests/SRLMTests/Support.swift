import Foundation
@testable import SRLMStore

/// Paths and fixtures shared by the suites.
enum TestSupport {
    /// The package root (…/main), found from this file's path.
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `../shared/data/<relative>`: the real public data the tests read (never copied into the repo).
    static func sharedData(_ relative: String) -> String {
        packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data").appendingPathComponent(relative).path
    }

    /// A fresh temporary directory, removed by the caller when wanted.
    static func temporaryDirectory(_ label: String = "srlm") -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(label)-\(UUID().uuidString.prefix(8))", isDirectory: true)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A new, migrated store in a temporary directory.
    static func makeStore(_ label: String = "store") throws -> Store {
        try Store(path: temporaryDirectory(label).appendingPathComponent("srlm.sqlite").path, create: true)
    }

    /// Runs `body` with srlm's process-wide core budget (`Parallelism.threads`) set to `threads`, then restores it.
    static func withThreads<T>(_ threads: Int, _ body: () throws -> T) rethrows -> T {
        let saved = Parallelism.threads
        defer { Parallelism.threads = saved }
        Parallelism.threads = threads
        return try body()
    }

    /// Writes `text` to a temporary file and returns its path.
    static func writeTemp(_ text: String, name: String = "input.jsonl") -> String {
        let url = temporaryDirectory("input").appendingPathComponent(name)
        try? Data(text.utf8).write(to: url)
        return url.path
    }
}

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension TestSupport {
    /// A blocking HTTP call for test helpers that play a server's client; non-2xx is an error.
    static func fetch(_ request: URLRequest) throws -> Data {
        // A generation on two busy cores can take longer than URLSession's default 60 s: wait as long as srlm's
        // own client does.
        var request = request
        request.timeoutInterval = max(request.timeoutInterval, 300)
        final class Box: @unchecked Sendable { var result: Result<Data, Error> = .failure(URLError(.unknown)) }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { data, response, error in
            if let error { box.result = .failure(error) }
            else if let http = response as? HTTPURLResponse, !(200..<300).contains(http.statusCode) {
                box.result = .failure(URLError(.badServerResponse))
            } else { box.result = .success(data ?? Data()) }
            done.signal()
        }.resume()
        done.wait()
        return try box.result.get()
    }
}
