import Foundation
import SRLMEngines
import SRLMStore

/// Step 4: per prompt, a pair policy picks chosen and rejected among the judged candidates (default: the paper's
/// highest vs lowest mean score, ties dropped), then the filters drop pairs, each drop counted by its reason.
/// Candidates without a parsed score are left out. No model: a round's stored judgments can be paired again under
/// another policy (`srlm pairs --round N --policy …`), and the versions compared by diff and SQL.
public struct Pairs: Stage {
    public static let name = "pairs"
    public static let dataset = "pairs"

    public struct Config: Codable, Hashable, Sendable {
        public var round: Int
        public var policy = PairPolicy.bestWorst
        /// length-control's ρ (0 = the top and bottom scores only).
        public var rho = 0.0
        /// anchored: the earlier checkpoint whose candidates are the rejected side.
        public var anchor = ""
        public var minMargin = 0.0
        public var maxLengthRatio = 0.0
        public var ripRejectedScore = 0.0
        public var ripRejectedLength: [Double] = []
        public var ripGap = 0.0
        /// Keep prompts whose difficulty — the mean of their candidates' mean scores, as `srlm difficulty` stores it —
        /// lies in [LOW, HIGH] (empty: all): e.g. drop prompts every candidate aced, or none could answer.
        public var difficultyRange: [Double] = []
        /// The judgments to pair ("": the round's judge output); recorded resolved, as NAME@N.
        public var judgments = ""
        /// How several judges' scores combine (a judgments version from `srlm judge --judges`); one judge: its mean.
        public var aggregate = JudgeAggregate.mean
        /// The output dataset ("": `pairs`, the round's pairs that training reads; another name keeps the round's
        /// pairs as they are, for comparing policies side by side).
        public var name = ""
        /// A loss weight per pair (nil: none, every pair counts the same). Optional fields stay out of the recorded
        /// config when unset, so earlier runs keep their config hashes.
        public var weighting: PairWeighting?
        /// CREAM: another judge's judgments of the same candidates (the previous model's); each pair's soft label is
        /// how consistently the two judges rank the prompt's candidates (nil: hard labels). Recorded as NAME@N.
        public var consistencyWith: String?
        /// Per pair (default) or one value for the whole version.
        public var consistencyScope: ConsistencyScope?

        public init(round: Int) { self.round = round }

        public var filters: PairFilters {
            var f = PairFilters()
            f.minMargin = minMargin
            f.maxLengthRatio = maxLengthRatio
            f.ripRejectedScore = ripRejectedScore
            f.ripRejectedLength = ripRejectedLength
            f.ripGap = ripGap
            return f
        }

        enum CodingKeys: String, CodingKey {
            case round, policy, rho, anchor, minMargin, maxLengthRatio, ripRejectedScore, ripRejectedLength, ripGap, difficultyRange, judgments,
                 aggregate, name, weighting, consistencyWith, consistencyScope
        }

        /// Plans and configs stored before a field existed keep its default.
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            round = try c.decode(Int.self, forKey: .round)
            policy = try c.decodeIfPresent(PairPolicy.self, forKey: .policy) ?? policy
            rho = try c.decodeIfPresent(Double.self, forKey: .rho) ?? rho
            anchor = try c.decodeIfPresent(String.self, forKey: .anchor) ?? anchor
            minMargin = try c.decodeIfPresent(Double.self, forKey: .minMargin) ?? minMargin
            maxLengthRatio = try c.decodeIfPresent(Double.self, forKey: .maxLengthRatio) ?? maxLengthRatio
            ripRejectedScore = try c.decodeIfPresent(Double.self, forKey: .ripRejectedScore) ?? ripRejectedScore
            ripRejectedLength = try c.decodeIfPresent([Double].self, forKey: .ripRejectedLength) ?? ripRejectedLength
            ripGap = try c.decodeIfPresent(Double.self, forKey: .ripGap) ?? ripGap
            difficultyRange = try c.decodeIfPresent([Double].self, forKey: .difficultyRange) ?? difficultyRange
            judgments = try c.decodeIfPresent(String.self, forKey: .judgments) ?? judgments
            aggregate = try c.decodeIfPresent(JudgeAggregate.self, forKey: .aggregate) ?? aggregate
            name = try c.decodeIfPresent(String.self, forKey: .name) ?? name
            weighting = try c.decodeIfPresent(PairWeighting.self, forKey: .weighting)
            consistencyWith = try c.decodeIfPresent(String.self, forKey: .consistencyWith)
            consistencyScope = try c.decodeIfPresent(ConsistencyScope.self, forKey: .consistencyScope)
        }

        public func validate() throws {
            try filters.validate()
            guard difficultyRange.isEmpty || (difficultyRange.count == 2 && difficultyRange[0] <= difficultyRange[1]) else {
                throw SRLMError.outOfRange(setting: "difficulty range", value: "\(difficultyRange)", expected: "LOW,HIGH with LOW ≤ HIGH")
            }
            guard rho >= 0 && rho <= 1 else { throw SRLMError.outOfRange(setting: "rho", value: "\(rho)", expected: "0…1") }
            guard (policy == .anchored) == !anchor.isEmpty else {
                throw SRLMError.invalid(policy == .anchored ? "the anchored policy needs the earlier checkpoint (anchor)"
                                                            : "an anchor is used by the anchored policy only")
            }
            if !name.isEmpty { try DatasetRef.validate(name: name) }
            guard consistencyScope == nil || consistencyWith != nil else {
                throw SRLMError.invalid("a consistency scope needs the judgments to be consistent with (consistency-with)")
            }
        }
    }

    public var config: Config

    public init(config: Config) { self.config = config }

    /// What the policy reads: the round's judge samples, each reply's length, and (anchored) the anchor's.
    public struct Work: Sendable {
        let judgments: [StageRows.Judgment]
        let lengths: [BlobID: Int]
        let anchor: [(judgment: StageRows.Judgment, length: Int)]
        /// The other judge's mean score per [prompt, reply], for CREAM's consistency.
        var reference: [[BlobID]: Double] = [:]
    }

    public func plan(_ context: StageContext, model: ModelIdentity?) throws -> StagePlan<Config, Work> {
        try config.validate()
        let input = try Rounds.input(context.store, experiment: context.experiment, iteration: config.round, role: .judgments,
                                     explicit: config.judgments.isEmpty ? nil : config.judgments, producedBy: "judge")
        var config = self.config
        config.judgments = input.ref
        let anchor = config.policy == .anchored ? try StageRows.anchorJudgments(context.store, input, anchor: config.anchor) : []
        var work = Work(judgments: try StageRows.judgments(context.store, input), lengths: try StageRows.replyLengths(context.store, input),
                        anchor: anchor)
        var inputs = [input]
        if config.weighting == PairWeighting.none { config.weighting = nil }
        if let ref = config.consistencyWith {
            let other = try context.version(ref)
            guard other.kind == .judgments else { throw SRLMError.wrongKind(ref: other.ref, holds: other.kind.rawValue, expected: "judgments") }
            guard other.id != input.id else { throw SRLMError.invalid("consistency needs another judge's judgments than the ones paired (\(input.ref))") }
            config.consistencyWith = other.ref
            work.reference = Self.meanScores(try StageRows.judgments(context.store, other))
            inputs.append(other)
        }
        let destination = config.name.isEmpty
            ? RunLifecycle.Destination(dataset: Self.dataset, kind: .pairs, round: config.round, role: .pairs)
            : RunLifecycle.Destination(dataset: config.name, kind: .pairs)
        return StagePlan(config: config, inputs: inputs, destination: destination, seed: nil, work: work)
    }

    public func execute(_ plan: StagePlan<Config, Work>, _ run: StageRun) async throws -> StageOutput {
        let work = plan.work
        let anchorReplies = Set(work.anchor.map(\.judgment.response))
        let order = Self.group(work.judgments.filter { !anchorReplies.contains($0.response) }, aggregate: plan.config.aggregate) { work.lengths[$0] ?? 0 }
        let anchorLengths = Dictionary(work.anchor.map { ($0.judgment.response, $0.length) }) { first, _ in first }
        let anchors = Dictionary(Self.group(work.anchor.map(\.judgment)) { anchorLengths[$0] ?? 0 }.map { ($0.prompt, $0.candidates) }) { first, _ in first }
        var dropped: [String: Int] = [:]
        var picked: [(prompt: BlobID, chosen: PairCandidate, rejected: PairCandidate)] = []
        var unscored = 0
        for (prompt, candidates) in order {
            unscored += candidates.filter { $0.scores.isEmpty }.count
            let range = plan.config.difficultyRange
            let scored = candidates.filter { !$0.scores.isEmpty }
            if range.count == 2, !scored.isEmpty {
                let difficulty = Difficulty.of(scored.map(\.mean)).mean
                if difficulty < range[0] || difficulty > range[1] {
                    dropped["difficulty outside \(range[0])…\(range[1])", default: 0] += 1
                    continue
                }
            }
            switch PairPick.pick(plan.config.policy, rho: plan.config.rho, candidates, anchor: anchors[prompt] ?? []) {
            case let .pair(chosen, rejected): picked.append((prompt, chosen, rejected))
            case .dropped(let reason): dropped[reason, default: 0] += 1
            }
        }
        let (filteredPairs, filtered) = plan.config.filters.apply(picked, chosen: \.chosen, rejected: \.rejected)
        dropped.merge(filtered, uniquingKeysWith: +)
        let candidates = Dictionary(order.map { ($0.prompt, $0.candidates) }) { first, _ in first }
        let (kept, weights, weightDrops) = Self.weigh(filteredPairs, plan.config, candidates: candidates, reference: work.reference)
        dropped.merge(weightDrops, uniquingKeysWith: +)
        var stats: [String: Any] = ["prompts": order.count, "kept": kept.count, "dropped": dropped,
                                    "candidates_without_score": unscored, "policy": plan.config.policy.rawValue,
                                    "judge_agreement": Self.agreement(kept.map { ($0.chosen, $0.rejected) }) ?? NSNull()]
        for (name, values) in [("mean_weight", weights.compactMap(\.weight)), ("mean_confidence", weights.compactMap(\.confidence))] where !values.isEmpty {
            stats[name] = values.reduce(0, +) / Double(values.count)
        }
        return StageOutput(stats: stats) { writer in
            for (pair, extra) in zip(kept, weights) {
                try writer.append([.blob(pair.prompt), .blob(pair.chosen.response), .blob(pair.rejected.response),
                                   .real(pair.chosen.mean), .real(pair.rejected.mean),
                                   extra.weight.map(Value.real) ?? .null, extra.confidence.map(Value.real) ?? .null])
            }
        }
    }

    /// Candidates per prompt, prompts and candidates in first-seen order (deterministic output), with every sample;
    /// with several judges, each candidate's score is their `aggregate`.
    static func group(_ judgments: [StageRows.Judgment], aggregate: JudgeAggregate = .mean,
                      length: (BlobID) -> Int) -> [(prompt: BlobID, candidates: [PairCandidate])] {
        var order: [BlobID] = []
        var replies: [BlobID: [BlobID]] = [:]
        var scores: [[BlobID]: [Double]] = [:]
        var byJudge: [[BlobID]: [String: [Double]]] = [:]
        var judges: [String] = []
        for j in judgments {
            if replies[j.prompt] == nil { order.append(j.prompt); replies[j.prompt] = [] }
            if scores[[j.prompt, j.response]] == nil { replies[j.prompt]!.append(j.response); scores[[j.prompt, j.response]] = [] }
            if !judges.contains(j.judge) { judges.append(j.judge) }
            if let score = j.score {
                scores[[j.prompt, j.response]]!.append(score)
                byJudge[[j.prompt, j.response], default: [:]][j.judge, default: []].append(score)
            }
        }
        return order.map { prompt in
            let replies = replies[prompt]!
            let aggregates = judges.count > 1 ? JudgeAggregation.scores(replies.map { byJudge[[prompt, $0]] ?? [:] }, judges: judges, aggregate) : nil
            return (prompt, replies.enumerated().map { i, reply in
                PairCandidate(response: reply, scores: scores[[prompt, reply]]!, length: length(reply), aggregate: aggregates?[i] ?? nil)
            })
        }
    }

    /// How often the judge's own samples agree with the pair: over every chosen sample × rejected sample of every
    /// pair, the share where chosen scores higher (ties count half). nil without pairs.
    static func agreement(_ pairs: [(PairCandidate, PairCandidate)]) -> Double? {
        var total = 0.0, count = 0
        for (chosen, rejected) in pairs {
            for c in chosen.scores {
                for r in rejected.scores {
                    total += c > r ? 1 : c == r ? 0.5 : 0
                    count += 1
                }
            }
        }
        return count == 0 ? nil : total / Double(count)
    }
}
