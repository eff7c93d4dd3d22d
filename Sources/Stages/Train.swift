import Foundation
import GRDB
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
        /// Resolved by `run`: the data refs and the base's weights key (both part of what makes a run reusable).
        public var data: [String] = []
        public var baseWeights = ""

        public init(round: Int? = nil) { self.round = round }
    }

    public var config: Config
    public var dataRef: String?
    public var eftRef: String?
    /// GGUF type to convert the result to (nil: no conversion).
    public var convert: GGUFType?
    public var home: EngineHome?

    public init(config: Config, dataRef: String? = nil, eftRef: String? = nil, convert: GGUFType? = .q8_0, home: EngineHome? = nil) {
        self.config = config
        self.dataRef = dataRef
        self.eftRef = eftRef
        self.convert = convert
        self.home = home
    }

    public func run(_ context: StageContext) throws -> TrainResult {
        let home = try self.home ?? EngineHome.locate()
        var config = self.config
        let round = config.round
        let (ift, eft): (DatasetVersion, DatasetVersion?) = try context.store.read { db in
            let ift: DatasetVersion
            if let dataRef {
                ift = try DatasetVersion.resolve(db, dataRef, experiment: context.experiment)
            } else if let round, let recorded = try Rounds.version(db, experiment: context.experiment, iteration: round, role: "ift") {
                ift = recorded
            } else {
                throw StoreError.invalid(round.map { "round \($0) records no ift version: pass --data ift[@N]" }
                                         ?? "give the training data (--data ift[@N]) or a round (--round 0)")
            }
            guard ift.kind == .ift || ift.kind == .eft else {
                throw StoreError.invalid("--data \(ift.ref) holds \(ift.kind.rawValue); SFT trains on ift or eft data")
            }
            var eft = try eftRef.map { try DatasetVersion.resolve(db, $0, experiment: context.experiment) }
            if eft == nil, let round { eft = try Rounds.version(db, experiment: context.experiment, iteration: round, role: "eft") }
            if let eft, eft.kind != .eft { throw StoreError.invalid("--eft \(eft.ref) holds \(eft.kind.rawValue), not eft") }
            if eft == nil, let round {
                throw StoreError.invalid("round \(round) records no eft version: pass --eft eft[@N] (M1 trains on IFT + EFT), "
                                         + "or train on IFT alone without --round")
            }
            return (ift, eft)
        }
        let inputs = [ift] + (eft.map { [$0] } ?? [])
        let base = try TrainBase.resolve(context, explicit: config.base, round: round, home: home)
        config.base = base.name
        config.name = config.name.isEmpty ? (round.map { "M\($0 + 1)" } ?? "SFT") : config.name
        config.data = inputs.map(\.ref)
        config.baseWeights = base.weightsKey
        if let round {
            // The round's data roles, when the caller named them explicitly and the round had none.
            try context.store.write { db in
                for (role, version) in [("ift", ift), ("eft", eft)] {
                    guard let version, try Rounds.version(db, experiment: context.experiment, iteration: round, role: role) == nil else { continue }
                    try Rounds.setVersion(db, experiment: context.experiment, iteration: round, role: role, version: version.id)
                }
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
        public var data: [String] = []
        public var baseWeights = ""

        public init(round: Int? = nil) { self.round = round }
    }

    public var config: Config
    public var pairsRef: String?
    public var convert: GGUFType?
    public var home: EngineHome?

    public init(config: Config, pairsRef: String? = nil, convert: GGUFType? = .q8_0, home: EngineHome? = nil) {
        self.config = config
        self.pairsRef = pairsRef
        self.convert = convert
        self.home = home
    }

    public func run(_ context: StageContext) throws -> TrainResult {
        let home = try self.home ?? EngineHome.locate()
        var config = self.config
        let pairs: DatasetVersion
        if let round = config.round {
            pairs = try Rounds.input(context.store, experiment: context.experiment, iteration: round, role: "pairs",
                                     explicit: pairsRef, producedBy: "pairs")
        } else if let pairsRef {
            pairs = try context.store.read { try DatasetVersion.resolve($0, pairsRef, experiment: context.experiment) }
        } else {
            throw StoreError.invalid("give a round (--round N: its pairs) or the pairs (--data pairs[@N])")
        }
        guard pairs.kind == .pairs else { throw StoreError.invalid("\(pairs.ref) holds \(pairs.kind.rawValue); DPO trains on pairs") }
        let base = try TrainBase.resolve(context, explicit: config.base, round: config.round, home: home)
        config.base = base.name
        config.name = config.name.isEmpty ? (config.round.map { "M\($0 + 1)" } ?? "DPO") : config.name
        config.data = [pairs.ref]
        config.baseWeights = base.weightsKey
        let plan = TrainPlan(method: .dpo, stage: Self.stage, hyper: config.hyper, launcher: config.launcher, name: config.name,
                             base: base, inputs: [pairs], round: config.round, convert: convert, home: home)
        return try TrainDriver.run(context, plan, config: config)
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
        let recorded = try context.store.read { db -> Checkpoint? in
            for (iteration, role) in [(round, "policy"), (round - 1, "result")] {
                if let id = try Int64.fetchOne(db, sql: """
                    SELECT m.checkpoint_id FROM round_member m JOIN round r ON r.id = m.round_id
                    JOIN experiment e ON e.id = r.experiment_id
                    WHERE e.name = ? AND r.iteration = ? AND m.role = ? AND m.checkpoint_id IS NOT NULL
                    """, arguments: [context.experiment, iteration, role]) {
                    return try Checkpoints.byID(db, id)
                }
            }
            return nil
        }
        if let recorded { return recorded }
        return try CheckpointModels.resolve(context.store, experiment: context.experiment, name: "M\(round)", home: home)
    }
}
