package org.llmkit.train;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.LoraConfig;
import org.llmkit.data.ShardedTokenDataset;
import org.llmkit.data.TokenDataset;

/**
 * Every knob of a run. Package-private and only mutated on a fresh {@link #copy()} inside a
 * {@link FineTuner} setter, so a {@code FineTuner} never changes once built. The serializable part is
 * stored in checkpoints (Jackson reads and writes the fields).
 */
final class TrainingOptions {
    double learningRate = 5e-5;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double epsilon = 1e-8;
    double weightDecay = 0.0;
    boolean decayBiasAndNorm = false;
    Schedule schedule = Schedule.LINEAR;
    long warmupSteps = 0;
    double gradientClipping = 1.0;
    int epochs = 3;
    long maxSteps = 0;
    int batchSize = 8;
    int gradientAccumulation = 1;
    boolean shuffle = true;
    long seed = 42;
    int loraRank = 0;
    double loraAlpha = 0;
    /** -1: unset (a loaded adapter's own lora_dropout, 0 for a new one). */
    double loraDropout = -1;
    List<String> loraTargets = List.of();
    /** -1: rows are single sequences; -2: the data's (or model's) separator; else the separator id. */
    int documentSeparator = -1;
    long evaluateEvery = 0;
    long checkpointEvery = 0;
    String checkpointDir;
    int keepCheckpoints = 3;
    String logDir;
    long logEvery = 10;
    boolean progress = true;
    String precision = "FP32";
    double initialLossScale = LossScaler.INITIAL_SCALE;
    long lossScaleGrowthInterval = LossScaler.GROWTH_INTERVAL;
    int zeroStage = 0;
    boolean offloadOptimizer = false;
    boolean offloadParameters = false;
    boolean activationCheckpointing = false;
    /** data-parallel ranks as {@code type:id} (e.g. {@code gpu:0}); empty = one rank on the model's device */
    List<String> devices = List.of();
    /** ranks on the model's device when {@link #devices} is empty; 0 = one */
    int logicalRanks = 0;
    @JsonIgnore
    TokenDataset validation;
    @JsonIgnore
    List<TrainingListener> listeners = List.of();

    TrainingOptions copy() {
        TrainingOptions c = new TrainingOptions();
        c.learningRate = learningRate;
        c.beta1 = beta1;
        c.beta2 = beta2;
        c.epsilon = epsilon;
        c.weightDecay = weightDecay;
        c.decayBiasAndNorm = decayBiasAndNorm;
        c.schedule = schedule;
        c.warmupSteps = warmupSteps;
        c.gradientClipping = gradientClipping;
        c.epochs = epochs;
        c.maxSteps = maxSteps;
        c.batchSize = batchSize;
        c.gradientAccumulation = gradientAccumulation;
        c.shuffle = shuffle;
        c.seed = seed;
        c.loraRank = loraRank;
        c.loraAlpha = loraAlpha;
        c.loraDropout = loraDropout;
        c.loraTargets = loraTargets;
        c.documentSeparator = documentSeparator;
        c.evaluateEvery = evaluateEvery;
        c.checkpointEvery = checkpointEvery;
        c.checkpointDir = checkpointDir;
        c.keepCheckpoints = keepCheckpoints;
        c.logDir = logDir;
        c.logEvery = logEvery;
        c.progress = progress;
        c.precision = precision;
        c.initialLossScale = initialLossScale;
        c.lossScaleGrowthInterval = lossScaleGrowthInterval;
        c.zeroStage = zeroStage;
        c.offloadOptimizer = offloadOptimizer;
        c.offloadParameters = offloadParameters;
        c.activationCheckpointing = activationCheckpointing;
        c.devices = devices;
        c.logicalRanks = logicalRanks;
        c.validation = validation;
        c.listeners = new ArrayList<>(listeners);
        return c;
    }

    /** @return whether a LoRA adapter was requested with {@code lora(...)} */
    boolean loraRequested() {
        return loraRank > 0;
    }

    /**
     * @param adapter the model's adapter settings, when it carries one
     * @return the LoRA dropout this run applies: {@code loraDropout(...)} when set, else the adapter's
     */
    double effectiveLoraDropout(Optional<LoraConfig> adapter) {
        return loraDropout >= 0 ? loraDropout : adapter.map(LoraConfig::dropout).orElse(0.0);
    }

    /**
     * @param train the training data
     * @param model the model
     * @return the token id that ends documents in packed rows, or -1 when rows are single sequences
     * @throws IllegalArgumentException when {@code documentBoundaries()} finds no separator
     */
    int resolvedDocumentSeparator(TokenDataset train, LanguageModel model) {
        if (documentSeparator != -2) {
            return documentSeparator;
        }
        if (train instanceof ShardedTokenDataset shards && shards.separatorTokenId() >= 0) {
            return shards.separatorTokenId();
        }
        List<Integer> eos = model.config().eosTokenIds();
        if (eos.isEmpty()) {
            throw new IllegalArgumentException("documentBoundaries() takes the separator from the training shards' "
                    + "index.json (separator_token_id) or the model's eos_token_id, but neither has one; "
                    + "use documentBoundaries(separatorId)");
        }
        return eos.get(0);
    }

    /**
     * @param modelDevice where the model lives
     * @return the data-parallel ranks' devices, in rank order
     */
    List<ai.djl.Device> deviceList(ai.djl.Device modelDevice) {
        List<ai.djl.Device> out = new ArrayList<>();
        if (devices.isEmpty()) {
            for (int i = 0; i < Math.max(1, logicalRanks); i++) {
                out.add(modelDevice);
            }
        } else {
            for (String d : devices) {
                int colon = d.indexOf(':');
                out.add(ai.djl.Device.of(d.substring(0, colon), Integer.parseInt(d.substring(colon + 1))));
            }
        }
        return out;
    }

    /** @return the number of data-parallel ranks */
    int rankCount() {
        return devices.isEmpty() ? Math.max(1, logicalRanks) : devices.size();
    }

    /** @return whether a memory strategy asks for the sharded trainer rather than the single-device loop */
    boolean sharded() {
        return rankCount() > 1 || zeroStage > 0 || offloadOptimizer || offloadParameters || activationCheckpointing;
    }

    /** @return the checkpoint folder, or null */
    Path checkpointPath() {
        return checkpointDir == null ? null : Path.of(checkpointDir);
    }

    /** @return the metrics folder, or null */
    Path logPath() {
        return logDir == null ? null : Path.of(logDir);
    }
    // validating setters shared by FineTuner and VisionFineTuner (messages name the option and its range)

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    void setLearningRate(double lr) {
        check(lr > 0 && Double.isFinite(lr), "learningRate must be > 0 and finite, was " + lr);
        learningRate = lr;
    }

    void setWeightDecay(double decay) {
        check(decay >= 0 && Double.isFinite(decay), "weightDecay must be >= 0, was " + decay);
        weightDecay = decay;
    }

    void setSchedule(Schedule s) {
        schedule = java.util.Objects.requireNonNull(s, "schedule");
    }

    void setWarmupSteps(long steps) {
        check(steps >= 0, "warmupSteps must be >= 0, was " + steps);
        warmupSteps = steps;
    }

    void setGradientClipping(double maxNorm) {
        check(maxNorm >= 0 && Double.isFinite(maxNorm), "gradientClipping must be >= 0 (0 = off), was " + maxNorm);
        gradientClipping = maxNorm;
    }

    void setEpochs(int n) {
        check(n >= 1, "epochs must be >= 1, was " + n);
        epochs = n;
    }

    void setMaxSteps(long steps) {
        check(steps >= 1, "maxSteps must be >= 1, was " + steps);
        maxSteps = steps;
    }

    void setBatchSize(int size) {
        check(size >= 1, "batchSize must be >= 1, was " + size);
        batchSize = size;
    }

    void setLora(int rank, double alpha, String... targetModules) {
        check(rank >= 1, "lora rank must be >= 1, was " + rank);
        check(alpha > 0 && Double.isFinite(alpha), "lora alpha must be > 0, was " + alpha);
        check(targetModules != null && targetModules.length > 0,
                "lora needs at least one target module name, e.g. \"q_proj\", \"v_proj\"");
        loraRank = rank;
        loraAlpha = alpha;
        loraTargets = List.copyOf(java.util.Arrays.asList(targetModules));
    }

    void setLogDir(java.nio.file.Path dir) {
        logDir = java.util.Objects.requireNonNull(dir, "dir").toAbsolutePath().toString();
    }

    void setLogEvery(long everySteps) {
        check(everySteps >= 1, "logEvery must be >= 1, was " + everySteps);
        logEvery = everySteps;
    }

    void addListener(TrainingListener listener) {
        listeners.add(java.util.Objects.requireNonNull(listener, "listener"));
    }
}
