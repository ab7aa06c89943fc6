/**
 * Codecs for our own protobuf messages (proto/poi/v1), loaded with protobufjs from the .proto files
 * at start-up. Each codec speaks the shape CosmJS's Registry expects (encode/decode/fromPartial) and
 * the shape of src/app/module.ts's ProtoCodec. Objects use camelCase field names; 64-bit integers
 * are decimal strings (exact, JSON-friendly); bytes are Uint8Array.
 */
import * as path from "node:path";
import * as fs from "node:fs";
import * as protobuf from "protobufjs";
import { DecodeError } from "../../app/errors";
import { checkObject, checkWire } from "./int_ranges";

function findProtoDir(): string {
  // src/x/poi (ts-node) or dist/src/x/poi (compiled): walk up to the folder holding proto/.
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, "proto");
    if (fs.existsSync(path.join(candidate, "poi", "v1", "types.proto"))) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error(`cannot find proto/poi/v1 above ${__dirname}`);
}

export const PROTO_DIR = findProtoDir();
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => path.join(PROTO_DIR, target);
root.loadSync(["poi/v1/types.proto", "poi/v1/tx.proto", "poi/v1/query.proto", "poi/v1/genesis.proto"]);
root.resolveAll();
/** The loaded proto/poi/v1 definitions (the only load of them), e.g. for rendering our messages as JSON. */
export const poiProtoRoot: protobuf.Root = root;

const TO_OBJECT: protobuf.IConversionOptions = { longs: String, enums: Number, bytes: Uint8Array as unknown as typeof String, defaults: true, arrays: true };

export interface PoiCodec<T> {
  typeUrl: string;
  encode(message: T, writer?: protobuf.Writer): protobuf.Writer;
  decode(input: Uint8Array | protobuf.Reader, length?: number): T;
  fromPartial(object: Partial<T>): T;
}

/**
 * Integers out of their field's range are refused both ways, never wrapped (int_ranges.ts): encode
 * and fromPartial throw a RangeError; decode throws a DecodeError (app/errors.ts) naming the field.
 */
export function codec<T>(name: string): PoiCodec<T> {
  const type = root.lookupType(`poi.v1.${name}`);
  const fromObject = (object: unknown) => {
    checkObject(type, object);
    return type.fromObject(object as Record<string, unknown>);
  };
  return {
    typeUrl: `/poi.v1.${name}`,
    encode: (message, writer) => type.encode(fromObject(message), writer),
    decode: (input, length) => {
      try {
        if (input instanceof Uint8Array) checkWire(type, length === undefined ? input : input.subarray(0, length));
        return type.toObject(type.decode(input, length), TO_OBJECT) as T;
      } catch (err) {
        if (err instanceof DecodeError) throw err;
        throw new DecodeError(`${name}: ${(err as Error).message}`);
      }
    },
    fromPartial: (object) => type.toObject(fromObject(object), TO_OBJECT) as T,
  };
}

export interface TensorSpec { name: string; shape: string[]; dtype: string }
/** proto ModelKind. */
export enum ModelKind { INFERENCE = 0, TRAIN_STEP = 1 }
export const MODEL_KIND_NAMES: Record<number, string> = { 0: "inference", 1: "train_step" };
export interface Model {
  id: string; owner: string; name: string; inputs: TensorSpec[]; outputs: TensorSpec[];
  workUnitsPerItem: string; sizeBytes: string; registeredHeight: string;
  flagged: boolean; flagReason: string; flaggedHeight: string;
  kind: ModelKind; parentModelId: string;
  /** A model made by a training task: that task, and the held-out accuracy the validators measured (bps). */
  trainingTaskId?: string; heldOutAccuracyBps?: number;
}
export interface Dataset {
  id: string; owner: string; name: string; item?: TensorSpec; numItems: string; numChunks: number;
  chunksReceived: number; itemsPerChunk: string; complete: boolean; createdHeight: string;
}
export interface Params {
  maxModelBytes: string; maxInitializerBytes: string; maxIntermediateElements: string;
  maxDatasetChunkBytes: string; maxDatasetItems: string; maxTaskItems: string; maxK: string;
  maxInlineInputBytes: string; claimBlocks: string; verifyTimeoutBlocks: string; maxDeadlineBlocks: string;
  seedEpochBlocks: string; verifyVoteBlocks: string; revealWindowEpochs: string; maxReportsPerValidator: string;
  verifyPricePerMegaUnit: string; catchBountyBps: string; minBond: string; bondFactorBps: string;
  deadlineMarginBlocks: string; maxVerifyUnitsPerTask: string; maxResultBytes: string;
  toleranceScalePpb: string; toleranceRelPpb: string; taskDeposit: string;
  protocolFeePerMegaUnit: string; workScoreAlphaBps: string; auditRateBps: string; auditSlashBps: string;
  trainingThresholdPpb: string; maxTrainingSteps: string; segmentRequestBlocks: string; revealBlocks: string;
}

export enum TaskStatus { UNSPECIFIED = 0, OPEN = 1, CLAIMED = 2, AWAITING_SAMPLE = 3, VERIFYING = 4, COMPLETED = 5, EXPIRED = 6 }
export const TASK_STATUS_NAMES: Record<number, string> = {
  0: "unspecified", 1: "open", 2: "claimed", 3: "awaiting_sample", 4: "verifying", 5: "completed", 6: "expired",
};
export interface TaskVote { validator: string; pass: boolean; height: string; failedItems: string[]; cannotVerify: boolean; accuracyBps?: number }
export interface ChallengeVote { validator: string; pass: boolean; height: string }
export interface Challenge { item: string; reporters: string[]; votes: ChallengeVote[] }
export interface Task {
  id: string; requester: string; modelId: string; datasetId: string; start: string; numItems: string;
  rewardPerItem: string; k: number; bond: string; escrow: string; createdHeight: string; deadlineHeight: string;
  status: TaskStatus; attempt: number; worker: string; claimExpiresHeight: string; resultRoot: Uint8Array;
  resultHeight: string; verifyDeadlineHeight: string; votes: TaskVote[]; completedHeight: string; failedAttempts: number;
  resultEpoch: string; voteWindowEndHeight: string; challenges: Challenge[]; verifyFee: string; deposit: string;
  protocolFee: string; auditOf: string;
  /** proto TaskKind (absent = inference); the training fields are set on training tasks only. */
  kind?: TaskKind; requestEndHeight?: string; revealDeadlineHeight?: string; trainedModelId?: string;
  /** Completed training task: the recorded held-out accuracy, and whether it fell short of the minimum (then no model). */
  heldOutAccuracyBps?: number; belowMinAccuracy?: boolean;
}
/** proto TaskKind. */
export enum TaskKind { INFERENCE = 0, TRAINING = 1 }
export const isTraining = (t: { kind?: TaskKind }): boolean => t.kind === TaskKind.TRAINING;
export interface TrainingSpec {
  parentModelId: string; initialParamsDatasetId: string; xDatasetId: string; yDatasetId: string;
  trainStart: string; trainCount: string; heldOutStart: string; heldOutCount: string; steps: string; batchSize: number;
  learningRate: string; checkpointInterval: string; minAccuracyBps: number; initialHash: Uint8Array; paramBytes: string; checkpointChunkBytes: string;
}
export interface SegmentRequest { taskId: string; attempt: number; segments: string[] }
export interface SegmentRequestRecord { validator: string; segments: string[]; height: string }
export interface TrainingAttempt { attempt: number; finalHash: Uint8Array; requests: SegmentRequestRecord[]; revealed: number[] }
export interface WorkerStats {
  address: string; verifiedWorkUnits: string; tasksPassed: string; tasksFailed: string; claimsLapsed: string;
  earned: string; slashed: string;
}
export interface Verdict { taskId: string; attempt: number; pass: boolean; failedItems: string[]; cannotVerify: boolean; accuracyBps?: number }
export interface ItemVerdict { taskId: string; attempt: number; item: string; pass: boolean }
export interface SeedCommitment { epoch: string; hash: Uint8Array }
export interface SeedReveal { epoch: string; seed: Uint8Array }
export interface VoteExtension {
  verdicts: Verdict[]; itemVerdicts: ItemVerdict[]; commitments: SeedCommitment[]; reveals: SeedReveal[]; segmentRequests?: SegmentRequest[];
}
export interface SeedRecord { commitment: Uint8Array; committedHeight: string; seed: Uint8Array; revealedHeight: string; faulty: boolean }
export interface ValidatorStats {
  validator: string; operator: string; pending: string; paid: string; forfeited: string;
  passesMatched: string; catches: string; falseReports: string; faults: string; auditsFailed: string;
}
export interface WorkerLink { worker: string; operator: string; height: string }
export interface WorkScore { operator: string; score: string; epoch: string }
export interface SignedVoteExtension { validatorAddress: Uint8Array; extension: Uint8Array; signature: Uint8Array }
export interface VerdictAggregate { height: string; round: string; votes: SignedVoteExtension[] }
/** cosmos.base.query.v1beta1.PageRequest / PageResponse (proto/cosmos/base/query/v1beta1). */
export interface PageRequest { key: Uint8Array; offset: string; limit: string; countTotal: boolean; reverse: boolean }
export interface PageResponse { nextKey: Uint8Array; total: string }
export interface OpenTask { openedHeight: string; task?: Task }

export interface MsgRegisterModel {
  owner: string; name: string; onnx: Uint8Array; inputs: TensorSpec[]; outputs: TensorSpec[]; kind: ModelKind; parentModelId: string;
}
export interface MsgRegisterModelResponse { modelId: string; workUnitsPerItem: string }
export interface MsgCreateDataset { owner: string; name: string; item?: TensorSpec; numItems: string; itemsPerChunk: string; chunkHashes: Uint8Array[] }
export interface MsgCreateDatasetResponse { datasetId: string; numChunks: number }
export interface MsgUploadDatasetChunk { owner: string; datasetId: string; index: number; data: Uint8Array }
export interface MsgUploadDatasetChunkResponse { chunksReceived: number; complete: boolean }

export interface MsgSubmitInferenceTask {
  requester: string; modelId: string; datasetId: string; start: string; count: string; inputs: Uint8Array;
  rewardPerItem: string; k: number; deadlineBlocks: string; bond: string;
}
export interface MsgSubmitInferenceTaskResponse { taskId: string; escrow: string }
export interface MsgClaimTask { worker: string; taskId: string }
export interface MsgClaimTaskResponse { claimExpiresHeight: string }
export interface MsgSubmitResult { worker: string; taskId: string; outputs: Uint8Array; resultRoot: Uint8Array }
export interface MsgSubmitResultResponse { resultHeight: string }

export interface MsgSubmitTrainingTask {
  requester: string; modelId: string; initialParamsDatasetId: string; xDatasetId: string; yDatasetId: string;
  trainStart: string; trainCount: string; heldOutStart: string; heldOutCount: string; steps: string; batchSize: number;
  learningRate: string; checkpointInterval: string; k: number; reward: string; bond: string; minAccuracyBps: number; deadlineBlocks: string;
}
export interface MsgSubmitTrainingTaskResponse { taskId: string; segments: number }
export interface MsgCommitTraining {
  worker: string; taskId: string; finalHash: Uint8Array; lossTrace: Uint8Array; checkpointRoot: Uint8Array; initialProof: Uint8Array[]; finalProof: Uint8Array[];
}
export interface MsgCommitTrainingResponse { requestEndHeight: string; revealDeadlineHeight: string }
export interface MsgRevealCheckpoint {
  worker: string; taskId: string; index: number; chunk: number; data: Uint8Array; chunkHashes: Uint8Array[]; proof: Uint8Array[];
}
export interface MsgRevealCheckpointResponse { checkpointComplete: boolean }

export interface MsgLinkWorker { operator: string; worker: string }
export interface MsgAcceptWorkerLink { worker: string; operator: string }
export interface MsgUnlinkWorker { sender: string; worker: string }

export const TensorSpecCodec = codec<TensorSpec>("TensorSpec");
export const ModelCodec = codec<Model>("Model");
export const DatasetCodec = codec<Dataset>("Dataset");
export const ParamsCodec = codec<Params>("Params");
export const MsgRegisterModelCodec = codec<MsgRegisterModel>("MsgRegisterModel");
export const MsgRegisterModelResponseCodec = codec<MsgRegisterModelResponse>("MsgRegisterModelResponse");
export const MsgCreateDatasetCodec = codec<MsgCreateDataset>("MsgCreateDataset");
export const MsgCreateDatasetResponseCodec = codec<MsgCreateDatasetResponse>("MsgCreateDatasetResponse");
export const MsgUploadDatasetChunkCodec = codec<MsgUploadDatasetChunk>("MsgUploadDatasetChunk");
export const MsgUploadDatasetChunkResponseCodec = codec<MsgUploadDatasetChunkResponse>("MsgUploadDatasetChunkResponse");
export const TaskCodec = codec<Task>("Task");
export const WorkerStatsCodec = codec<WorkerStats>("WorkerStats");
export const VoteExtensionCodec = codec<VoteExtension>("VoteExtension");
export const SeedRecordCodec = codec<SeedRecord>("SeedRecord");
export interface EndedAttempt { attempt: number; numItems: string; challengeItems: string[]; training?: boolean }
export const EndedAttemptCodec = codec<EndedAttempt>("EndedAttempt");
export const ReportRecordCodec = codec<{ items: string[]; resultRoot: Uint8Array; numItems: string; k: number; training?: boolean }>("ReportRecord");
export const ValidatorStatsCodec = codec<ValidatorStats>("ValidatorStats");
export const VerdictAggregateCodec = codec<VerdictAggregate>("VerdictAggregate");
export const MsgSubmitInferenceTaskCodec = codec<MsgSubmitInferenceTask>("MsgSubmitInferenceTask");
export const MsgSubmitInferenceTaskResponseCodec = codec<MsgSubmitInferenceTaskResponse>("MsgSubmitInferenceTaskResponse");
export const MsgClaimTaskCodec = codec<MsgClaimTask>("MsgClaimTask");
export const MsgClaimTaskResponseCodec = codec<MsgClaimTaskResponse>("MsgClaimTaskResponse");
export const MsgSubmitResultCodec = codec<MsgSubmitResult>("MsgSubmitResult");
export const MsgSubmitResultResponseCodec = codec<MsgSubmitResultResponse>("MsgSubmitResultResponse");
export const MsgLinkWorkerCodec = codec<MsgLinkWorker>("MsgLinkWorker");
export const MsgLinkWorkerResponseCodec = codec<Record<string, never>>("MsgLinkWorkerResponse");
export const MsgAcceptWorkerLinkCodec = codec<MsgAcceptWorkerLink>("MsgAcceptWorkerLink");
export const MsgAcceptWorkerLinkResponseCodec = codec<Record<string, never>>("MsgAcceptWorkerLinkResponse");
export const MsgUnlinkWorkerCodec = codec<MsgUnlinkWorker>("MsgUnlinkWorker");
export const MsgUnlinkWorkerResponseCodec = codec<Record<string, never>>("MsgUnlinkWorkerResponse");
export const WorkerLinkCodec = codec<WorkerLink>("WorkerLink");
export const WorkScoreCodec = codec<WorkScore>("WorkScore");
export const TrainingSpecCodec = codec<TrainingSpec>("TrainingSpec");
export const TrainingAttemptCodec = codec<TrainingAttempt>("TrainingAttempt");
export const MsgSubmitTrainingTaskCodec = codec<MsgSubmitTrainingTask>("MsgSubmitTrainingTask");
export const MsgSubmitTrainingTaskResponseCodec = codec<MsgSubmitTrainingTaskResponse>("MsgSubmitTrainingTaskResponse");
export const MsgCommitTrainingCodec = codec<MsgCommitTraining>("MsgCommitTraining");
export const MsgCommitTrainingResponseCodec = codec<MsgCommitTrainingResponse>("MsgCommitTrainingResponse");
export const MsgRevealCheckpointCodec = codec<MsgRevealCheckpoint>("MsgRevealCheckpoint");
export const MsgRevealCheckpointResponseCodec = codec<MsgRevealCheckpointResponse>("MsgRevealCheckpointResponse");

export const Q = {
  ModelRequest: codec<{ id: string }>("QueryModelRequest"),
  ModelResponse: codec<{ model?: Model }>("QueryModelResponse"),
  ModelBytesResponse: codec<{ onnx: Uint8Array }>("QueryModelBytesResponse"),
  ModelsRequest: codec<{ pagination?: Partial<PageRequest> }>("QueryModelsRequest"),
  ModelsResponse: codec<{ models: Model[]; pagination?: PageResponse }>("QueryModelsResponse"),
  DatasetRequest: codec<{ id: string }>("QueryDatasetRequest"),
  DatasetResponse: codec<{ dataset?: Dataset }>("QueryDatasetResponse"),
  DatasetsRequest: codec<{ pagination?: Partial<PageRequest> }>("QueryDatasetsRequest"),
  DatasetsResponse: codec<{ datasets: Dataset[]; pagination?: PageResponse }>("QueryDatasetsResponse"),
  DatasetItemsRequest: codec<{ id: string; start: string; count: string }>("QueryDatasetItemsRequest"),
  DatasetItemsResponse: codec<{ data: Uint8Array }>("QueryDatasetItemsResponse"),
  ParamsRequest: codec<Record<string, never>>("QueryParamsRequest"),
  ParamsResponse: codec<{ params?: Params }>("QueryParamsResponse"),
  TaskRequest: codec<{ id: string }>("QueryTaskRequest"),
  TaskResponse: codec<{ task?: Task }>("QueryTaskResponse"),
  TasksRequest: codec<{ status: TaskStatus; requester: string; worker: string; pagination?: Partial<PageRequest> }>("QueryTasksRequest"),
  TasksResponse: codec<{ tasks: Task[]; pagination?: PageResponse }>("QueryTasksResponse"),
  OpenTasksRequest: codec<{ sinceHeight: string; pagination?: Partial<PageRequest> }>("QueryOpenTasksRequest"),
  OpenTasksResponse: codec<{ tasks: OpenTask[]; pagination?: PageResponse; height: string }>("QueryOpenTasksResponse"),
  TaskDataResponse: codec<{ data: Uint8Array }>("QueryTaskDataResponse"),
  WorkerRequest: codec<{ address: string }>("QueryWorkerRequest"),
  WorkerResponse: codec<{ stats?: WorkerStats }>("QueryWorkerResponse"),
  ValidatorRequest: codec<{ address: string }>("QueryValidatorRequest"),
  ValidatorResponse: codec<{ stats?: ValidatorStats }>("QueryValidatorResponse"),
  SeedRecordRequest: codec<{ validator: string; epoch: string }>("QuerySeedRecordRequest"),
  SeedRecordResponse: codec<{ record?: SeedRecord }>("QuerySeedRecordResponse"),
  LinksRequest: codec<{ operator: string; worker: string }>("QueryLinksRequest"),
  LinksResponse: codec<{ links: WorkerLink[]; offers: WorkerLink[] }>("QueryLinksResponse"),
  WorkScoreRequest: codec<{ validator: string }>("QueryWorkScoreRequest"),
  WorkScoreResponse: codec<{ score?: WorkScore }>("QueryWorkScoreResponse"),
  TrainingResponse: codec<{ spec?: TrainingSpec; attempt?: TrainingAttempt; lossTrace: Uint8Array }>("QueryTrainingResponse"),
  CheckpointRequest: codec<{ taskId: string; index: number; chunk: number }>("QueryCheckpointRequest"),
};
