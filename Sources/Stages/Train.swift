import Foundation
import SRLMEngines
import SRLMStore

/// Supervised fine-tuning (TRL SFTTrainer, loss on the completion only):
/// `--data ift[@N]` → checkpoint `SFT` (the paper's IFT-only baseline, which writes EFT targets), or
/// `--round 0` → M1 on the round's IFT + EFT train split (paper: M0 → M1). Base: M0 unless given.
public struct TrainSFT: Sendable {
    public static let stage = "train-sft"

    public struct Config: Codable, Hashable, Sendable {
        public var hyper = TrainHyperparameters.sft
        public var launcher = TrainLauncher()
        /// Round mode: the round whose `ift`/`eft` versions train M(N+1).
        public var round: Int?
        /// Output checkpoint ("": SFT, or M(N+1) in round mode) and base ("": the round's policy, else M0).
        public var name = ""
        public var base = ""
        /// The training data: [SFT data, EFT data] as asked (either may be "" for the round's), recorded resolved
        /// as NAME@N; with the base's weights key, part of what makes a run reusable.
        public var data: [String] = []
        public var baseWeights = ""

        public init(round: Int? = nil, data: [String] = []) {
            self.round = round
            self.data = data
        }
    }

    public var config: Config
    /// GGUF type to convert the result to (nil: no conversion).
    public var convert: GGUFType?
    public var home: EngineHome?

    public init(config: Config, convert: GGUFType? = .q8_0, home: EngineHome? = nil) {
        self.config = config
        self.convert = convert
        self.home = home
    }

    var dataRef: String? { config.data.first.flatMap { $0.isEmpty ? nil : $0 } }
    var eftRef: String? { config.data.dropFirst().first.flatMap { $0.isEmpty ? nil : $0 } }

    public func run(_ context: StageContext) throws -> TrainResult {
        let home = try self.home ?? EngineHome.locate()
        var config = self.config
        let round = config.round
        let ift: DatasetVersion
        if let dataRef {
            ift = try context.version(dataRef)
        } else if let round, let recorded = try Rounds.version(context.store, experiment: context.experiment, iteration: round, role: .ift) {
            ift = recorded
        } else {
            throw SRLMError.invalid(round.map { "round \($0) records no ift version: name the SFT data" }
                                    ?? "SFT needs its data, or a round whose data it trains on")
        }
        guard ift.kind == .ift || ift.kind == .eft else {
            throw SRLMError.wrongKind(ref: ift.ref, holds: ift.kind.rawValue, expected: "ift or eft (SFT data)")
        }
        var eft = try eftRef.map { try context.version($0) }
        if eft == nil, let round { eft = try Rounds.version(context.store, experiment: context.experiment, iteration: round, role: .eft) }
        if let eft, eft.kind != .eft { throw SRLMError.wrongKind(ref: eft.ref, holds: eft.kind.rawValue, expected: "eft") }
        if eft == nil, let round {
            throw SRLMError.invalid("round \(round) records no eft version: M1 trains on IFT + EFT (name the EFT data), "
                                    + "or train on IFT alone without a round")
        }
        let inputs = [ift] + (eft.map { [$0] } ?? [])
        let base = try TrainBase.resolve(context, explicit: config.base, round: round, home: home)
        config.base = base.name
        config.name = config.name.isEmpty ? (round.map { "M\($0 + 1)" } ?? "SFT") : config.name
        config.data = inputs.map(\.ref)
        config.baseWeights = base.weightsKey
        if let round {
            // The round's data roles, when the caller named them explicitly and the round had none.
            for (role, version) in [(RoundRole.ift, ift), (.eft, eft)] {
                guard let version, try Rounds.version(context.store, experiment: context.experiment, iteration: round, role: role) == nil else { continue }
                try RunLifecycle.link(context.store, experiment: context.experiment, round: round, role: role, version: version)
            }
        }
        let plan = TrainPlan(method: .sft, stage: Self.stage, hyper: config.hyper, launcher: config.launcher, name: config.name,
                             base: base, inputs: inputs, round: round, convert: convert, home: home)
        return try TrainDriver.run(context, plan, config: config)
    }
}

/// DPO (TRL DPOTrainer): `--round N` trains M(N+1) from M_N on round N's pairs; `--data pairs[@N]` trains `DPO`.
public struct TrainDPO: Sendable {
    public static let stage = "train-dpo"

    public struct Config: Codable, Hashable, Sendable {
        public var hyper = TrainHyperparameters.dpo
        public var launcher = TrainLauncher()
        public var round: Int?
        /// Output checkpoint ("": M(N+1), or DPO without a round) and base ("": M_N, the round's policy).
        public var name = ""
        public var base = ""
        /// The pairs as asked ([] or [""]: the round's), recorded resolved as NAME@N.
        public var data: [String] = []
        public var baseWeights = ""
        /// Meta-Rewarding's judge-training pairs mixed in ("round": the round's judge-pairs; nil: none), recorded
        /// resolved as NAME@N. Optional fields stay out of the recorded config when unset, so earlier runs keep
        /// their config hashes.
        public var judgePairs: String?
        /// The most judge pairs may be of the training rows (default 0.15: above it NeMo-Aligner reports the judge
        /// collapsing to constant scores); the pairs with the largest rating gap go first.
        public var judgeShare: Double?
        public static let defaultJudgeShare = 0.15

        public init(round: Int? = nil, data: [String] = []) {
            self.round = round
            self.data = data
        }
    }

    public var config: Config
    public var convert: GGUFType?
    public var home: EngineHome?

    public init(config: Config, convert: GGUFType? = .q8_0, home: EngineHome? = nil) {
        self.config = config
        self.convert = convert
        self.home = home
    }

    var pairsRef: String? { config.data.first.flatMap { $0.isEmpty ? nil : $0 } }

    /// The judge pairs to mix in and how many of their rows fit under the share, if any were asked for.
    func judgeMix(_ context: StageContext, actorRows: Int) throws -> (version: DatasetVersion, rows: Int)? {
        guard let ref = config.judgePairs else { return nil }
        let share = config.judgeShare ?? Self.Config.defaultJudgeShare
        guard share >= 0 && share < 1 else { throw SRLMError.outOfRange(setting: "judge share", value: "\(share)", expected: "0 ≤ share < 1") }
        let judge: DatasetVersion
        if ref == "round" {
            guard let round = config.round else { throw SRLMError.invalid("judge pairs 'round' needs a round") }
            judge = try Rounds.input(context.store, experiment: context.experiment, iteration: round, role: .judgePairs, explicit: nil,
                                     producedBy: "meta-judge")
        } else {
            judge = try context.version(ref)
        }
        guard judge.kind == .pairs else { throw SRLMError.wrongKind(ref: judge.ref, holds: judge.kind.rawValue, expected: "pairs (judge pairs)") }
        // judge / (actor + judge) ≤ share.
        let cap = Int((share / (1 - share) * Double(actorRows)).rounded(.down))
        return (judge, min(judge.rowCount, cap))
    }

    public func run(_ context: StageContext) throws -> TrainResult {
        let home = try self.home ?? EngineHome.locate()
        var config = self.config
        let pairs: DatasetVersion
        if let round = config.round {
            pairs = try Rounds.input(context.store, experiment: context.experiment, iteration: round, role: .pairs,
                                     explicit: pairsRef, producedBy: "pairs")
        } else if let pairsRef {
            pairs = try context.version(pairsRef)
        } else {
            throw SRLMError.invalid("DPO needs its pairs, or a round whose pairs it trains on")
        }
        guard pairs.kind == .pairs else { throw SRLMError.wrongKind(ref: pairs.ref, holds: pairs.kind.rawValue, expected: "pairs (DPO data)") }
        let base = try TrainBase.resolve(context, explicit: config.base, round: config.round, home: home)
        config.base = base.name
        config.name = config.name.isEmpty ? (config.round.map { "M\($0 + 1)" } ?? "DPO") : config.name
        config.data = [pairs.ref]
        config.baseWeights = base.weightsKey
        var inputs = [pairs], limits: [Int64: Int] = [:]
        if let mix = try judgeMix(context, actorRows: pairs.rowCount) {
            config.judgePairs = mix.version.ref
            config.judgeShare = config.judgeShare ?? Config.defaultJudgeShare
            inputs.append(mix.version)
            limits[mix.version.id] = mix.rows
        }
        let plan = TrainPlan(method: .dpo, stage: Self.stage, hyper: config.hyper, launcher: config.launcher, name: config.name,
                             base: base, inputs: inputs, round: config.round, convert: convert, home: home, rowLimits: limits)
        let result = try TrainDriver.run(context, plan, config: config)
        if let round = config.round, pairsRef != nil {
            // Pairs named explicitly in a round (a warm start's human pairs) become the round's pairs: the round
            // history then shows what that round trained on.
            try context.store.write { try Rounds.setVersion($0, experiment: context.experiment, iteration: round, role: .pairs, version: pairs.id) }
        }
        return result
    }
}

/// The model a training step starts from: the explicit name, else round N's recorded policy, else round N-1's
/// result, else the checkpoint named M_N (M0 without a round; registered on first use).
enum TrainBase {
    static func resolve(_ context: StageContext, explicit: String, round: Int?, home: EngineHome) throws -> Checkpoint {
        if !explicit.isEmpty {
            return try CheckpointModels.resolve(context.store, experiment: context.experiment, name: explicit, home: home)
        }
        guard let round else { return try CheckpointModels.resolve(context.store, experiment: context.experiment, name: "M0", home: home) }
        let recorded = try Rounds.checkpoint(context.store, experiment: context.experiment, iteration: round, role: .policy)
            ?? Rounds.checkpoint(context.store, experiment: context.experiment, iteration: round - 1, role: .result)
        if let recorded { return recorded }
        return try CheckpointModels.resolve(context.store, experiment: context.experiment, name: "M\(round)", home: home)
    }
}
