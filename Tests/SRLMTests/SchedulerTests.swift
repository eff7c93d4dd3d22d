import Foundation
@testable import SRLMEngines
import SRLMStages
import SRLMStore
import Testing

/// The order the scheduler sends calls in: a prompt's samples one after another (so the server's prompt cache
/// prefills the prompt once), new prompts on free slots, and the last prompt's samples spread out at the end.
struct SamePromptLaneTests {
    func lanes(_ prompts: [String]) -> SamePromptLanes {
        SamePromptLanes(prompts.enumerated().map { (index: $0.offset, messages: [.user($0.element)]) })
    }

    @Test func aPromptsSamplesFollowEachOtherAndTheTailRunsInParallel() {
        var order = lanes(["a", "a", "a", "b", "b", "c"])  // two slots
        #expect(order.next(after: nil) == 0)  // a
        #expect(order.next(after: nil) == 3)  // b
        #expect(order.next(after: 3) == 4)  // b answered: b's second sample
        #expect(order.next(after: 0) == 1)  // a answered: a's second
        #expect(order.next(after: 4) == 5)  // b is done: c starts
        #expect(order.next(after: 5) == 2)  // c is done and no prompt is new: a's last runs beside a's second
        #expect(order.next(after: 1) == nil)
        #expect(order.next(after: 2) == nil)
    }

    @Test func aFamilysLanesFollowOnTheSlotItsSiblingLeft() {
        // Two questions, two answers each, two samples per answer (a judge's requests); two slots.
        var order = lanes(["Q1|a", "Q1|a", "Q1|b", "Q1|b", "Q2|a", "Q2|a", "Q2|b", "Q2|b"])
        #expect(order.next(after: nil) == 0)  // Q1's first answer
        #expect(order.next(after: nil) == 4)  // the other slot starts Q2, not Q1's second answer
        #expect(order.next(after: 0) == 1)
        #expect(order.next(after: 4) == 5)
        #expect(order.next(after: 1) == 2)  // Q1|a done: its slot (holding Q1) takes Q1|b
        #expect(order.next(after: 5) == 6)
        #expect(order.next(after: 2) == 3)
        #expect(order.next(after: 6) == 7)
        #expect(order.next(after: 3) == nil)
        #expect(SamePromptLanes.sharedPrefix([.user("Q1|a")], [.user("Q1|b")]) == "user".utf8.count + 3)
        #expect(SamePromptLanes.sharedPrefix([.system("s"), .user("x")], [.system("s"), .user("y")]) == 11)
    }

    @Test func onlyNeighboursShareALane() {
        var order = lanes(["a", "b", "a"])
        #expect(order.next(after: nil) == 0)
        #expect(order.next(after: 0) == 1)  // the later "a" is a lane of its own
        #expect(order.next(after: 1) == 2)
        #expect(order.next(after: 2) == nil)
    }
}

extension EngineBacked {
    /// Against the real server: a prompt's later candidates are sent once the previous one has answered and find
    /// the prompt in llama.cpp's cache (all of it but the last token, which the server always evaluates).
    @Suite struct PromptCacheLanes {
        @Test func aPromptsCandidatesReuseItsPrefill() async throws {
            let (_, outcome, calls) = try await EngineSupport.genCandidatesThroughProxy(prompts: 4, candidates: 3, maxTokens: 12,
                                                                                        concurrency: 2)
            let result = try outcome.get()
            #expect(result.version.rowCount == 12)
            #expect(calls.count == 12)
            var followers = 0
            for (_, samples) in Dictionary(grouping: calls, by: { $0["last"] as? String ?? "" }) {
                let ordered = samples.sorted { ($0["sent"] as? Double ?? 0) < ($1["sent"] as? Double ?? 0) }
                for (earlier, later) in zip(ordered, ordered.dropFirst())
                where (later["sent"] as? Double ?? 0) >= (earlier["time"] as? Double ?? .infinity) {
                    followers += 1
                    let prompt = try #require(later["prompt_tokens"] as? Int)
                    #expect(later["cached_tokens"] as? Int == prompt - 1)
                }
            }
            // 4 prompts × 3 candidates on 2 slots: 8 later candidates, of which at most the last prompt's 2 may be
            // sent beside an earlier one (the tail). Side by side (the order before lanes) only 1 in 3 follows.
            #expect(followers >= 6)
        }
    }
}
