import Foundation

extension TestSupport {
    /// Runs a program found on PATH under `timeout`, so a hung tool (a browser, an interpreter) fails its test
    /// instead of hanging the suite. Returns the exit status and stdout, with stderr mixed in when `withErrors`.
    /// `environment` is added to this process's; `directory` is where it runs (default: here).
    static func run(_ program: String, _ arguments: [String], timeoutSeconds: Int = 60, withErrors: Bool = true,
                    environment: [String: String] = [:], directory: URL? = nil) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = [String(timeoutSeconds), program] + arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        process.currentDirectoryURL = directory
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = withErrors ? pipe : FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Tests/Fixtures/<name>: the helper scripts the suites run.
    static func fixture(_ name: String) -> String {
        packageRoot.appendingPathComponent("Tests/Fixtures").appendingPathComponent(name).path
    }
}
