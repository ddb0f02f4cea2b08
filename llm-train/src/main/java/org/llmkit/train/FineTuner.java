package org.llmkit.train;

import ai.djl.Device;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import org.llmkit.api.LanguageModel;
import org.llmkit.data.TokenDataset;

/**
 * Fine-tunes a {@link LanguageModel}: full fine-tuning or LoRA, AdamW, warmup and decay schedules,
 * gradient accumulation and clipping, periodic evaluation, metrics and checkpoints.
 *
 * <pre>{@code
 * TrainingResult r = FineTuner.of(model).lora(8, 16, "q_proj", "v_proj")
 *         .learningRate(2e-4).warmupSteps(10).schedule(Schedule.COSINE)
 *         .batchSize(8).maxSteps(200).train(TokenDataset.open(shards));
 * }</pre>
 *
 * <p>A {@code FineTuner} is immutable: every setter checks its value and returns a new instance. The
 * defaults follow transformers' {@code TrainingArguments} (lr 5e-5, linear schedule, no warmup, weight
 * decay 0, clipping at norm 1, 3 epochs, seed 42). {@link #train} checks combinations and the data
 * before any work, then trains the model in place (its weights, or its adapter, change).
 */
public final class FineTuner {
    private final LanguageModel model;
    private final TrainingOptions options;
    private final Checkpoints.Resumed resumed;

    private FineTuner(LanguageModel model, TrainingOptions options, Checkpoints.Resumed resumed) {
        this.model = model;
        this.options = options;
        this.resumed = resumed;
    }

    /**
     * Starts configuring a run on a model. A model that carries a LoRA adapter (loaded with
     * {@code .adapter(...)}) trains that adapter only.
     *
     * @param model the model to train: FP32 (also under {@link #fp16()} and {@link #bf16()}: it then holds
     *     the master weights), or loaded in FP16 or BF16 for {@link #fp16()} or {@link #bf16()} training
     * @return a fine-tuner with default settings
     */
    public static FineTuner of(LanguageModel model) {
        return new FineTuner(Objects.requireNonNull(model, "model"), new TrainingOptions(), null);
    }

    /**
     * Reopens a checkpoint written by {@link #checkpointEvery}: loads the model (or the base model and
     * the adapter), the optimizer state, the data position and the settings, so that {@link #train}
     * with the same training data continues exactly where the checkpoint was taken.
     *
     * @param checkpointDir a {@code checkpoint-NNNNNNNN} folder
     * @return a fine-tuner holding the restored model; close {@link #model()} when done
     * @throws IOException when the checkpoint is missing, incomplete or corrupt (the message says which file)
     */
    public static FineTuner resume(Path checkpointDir) throws IOException {
        Checkpoints.Resumed r = Checkpoints.open(checkpointDir);
        return new FineTuner(r.model(), r.options(), r);
    }

    /** @return the model this fine-tuner trains */
    public LanguageModel model() {
        return model;
    }

    private FineTuner with(Consumer<TrainingOptions> change) {
        TrainingOptions copy = options.copy();
        change.accept(copy);
        return new FineTuner(model, copy, resumed);
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    /**
     * @param lr the peak learning rate, &gt; 0 and finite
     * @return a copy with it
     */
    public FineTuner learningRate(double lr) {
        return with(o -> o.setLearningRate(lr));
    }

    /**
     * @param beta1 AdamW's first-moment decay, in [0, 1)
     * @param beta2 AdamW's second-moment decay, in [0, 1)
     * @return a copy with them
     */
    public FineTuner adamBetas(double beta1, double beta2) {
        check(beta1 >= 0 && beta1 < 1, "adamBetas beta1 must be in [0, 1), was " + beta1);
        check(beta2 >= 0 && beta2 < 1, "adamBetas beta2 must be in [0, 1), was " + beta2);
        return with(o -> {
            o.beta1 = beta1;
            o.beta2 = beta2;
        });
    }

    /**
     * @param epsilon AdamW's epsilon, added after {@code sqrt(v_hat)}; &gt; 0
     * @return a copy with it
     */
    public FineTuner adamEpsilon(double epsilon) {
        check(epsilon > 0 && Double.isFinite(epsilon), "adamEpsilon must be > 0 and finite, was " + epsilon);
        return with(o -> o.epsilon = epsilon);
    }

    /**
     * @param weightDecay decoupled weight decay, &gt;= 0 (0 = off, the default)
     * @return a copy with it
     */
    public FineTuner weightDecay(double weightDecay) {
        return with(o -> o.setWeightDecay(weightDecay));
    }

    /**
     * @param decay true to decay biases and norm weights too ({@code torch.optim.AdamW} on all
     *     parameters); false (default) to exempt them, as transformers' Trainer does
     * @return a copy with it
     */
    public FineTuner decayBiasAndNorm(boolean decay) {
        return with(o -> o.decayBiasAndNorm = decay);
    }

    /**
     * @param schedule the learning-rate shape after warmup
     * @return a copy with it
     */
    public FineTuner schedule(Schedule schedule) {
        return with(o -> o.setSchedule(schedule));
    }

    /**
     * @param steps optimizer steps of linear warmup from 0, &gt;= 0
     * @return a copy with it
     */
    public FineTuner warmupSteps(long steps) {
        return with(o -> o.setWarmupSteps(steps));
    }

    /**
     * @param maxNorm the global gradient-norm threshold, &gt;= 0; 0 turns clipping off
     * @return a copy with it
     */
    public FineTuner gradientClipping(double maxNorm) {
        return with(o -> o.setGradientClipping(maxNorm));
    }

    /**
     * @param epochs passes over the training data, &gt;= 1 (ignored when {@link #maxSteps} is set)
     * @return a copy with it
     */
    public FineTuner epochs(int epochs) {
        return with(o -> o.setEpochs(epochs));
    }

    /**
     * @param steps the number of optimizer steps, &gt;= 1; overrides {@link #epochs} (data repeats as needed)
     * @return a copy with it
     */
    public FineTuner maxSteps(long steps) {
        return with(o -> o.setMaxSteps(steps));
    }

    /**
     * @param size sequences per micro-batch, &gt;= 1
     * @return a copy with it
     */
    public FineTuner batchSize(int size) {
        return with(o -> o.setBatchSize(size));
    }

    /**
     * @param microBatches micro-batches whose gradients add up before each optimizer step, &gt;= 1
     * @return a copy with it
     */
    public FineTuner gradientAccumulation(int microBatches) {
        check(microBatches >= 1, "gradientAccumulation must be >= 1, was " + microBatches);
        return with(o -> o.gradientAccumulation = microBatches);
    }

    /**
     * @param shuffle whether each epoch visits the sequences in a seeded random order (default true)
     * @return a copy with it
     */
    public FineTuner shuffle(boolean shuffle) {
        return with(o -> o.shuffle = shuffle);
    }

    /**
     * @param seed the seed of data order, LoRA initialisation and LoRA dropout masks (default 42)
     * @return a copy with it
     */
    public FineTuner seed(long seed) {
        return with(o -> o.seed = seed);
    }

    /**
     * Trains a LoRA adapter instead of all weights: the base is frozen. On a model without an adapter one
     * is attached at {@link #train} with PEFT's initialisation ({@code A} Kaiming-uniform, {@code B} = 0);
     * on a model that carries one, these settings must equal the adapter's.
     *
     * @param rank r, &gt;= 1
     * @param alpha lora_alpha, &gt; 0
     * @param targetModules module names matched as suffixes, e.g. {@code q_proj}, at least one; for GPT-2 also
     *     PEFT's {@code c_attn} (one adapter over the fused q/k/v), {@code c_proj}, {@code c_fc}
     * @return a copy with it
     */
    public FineTuner lora(int rank, double alpha, String... targetModules) {
        return with(o -> o.setLora(rank, alpha, targetModules));
    }

    /**
     * Sets LoRA dropout as PEFT applies it: each LoRA branch computes {@code lora_B(lora_A(dropout(x))) * scaling}
     * during training steps only; evaluation and inference never drop. The masks are drawn from a generator
     * seeded by {@link #seed}, the optimizer step and the micro-batch, so a resumed run draws the same masks.
     * Without this call a loaded adapter trains with its own {@code lora_dropout} and a new one with 0; a new
     * adapter records the value in its {@code adapter_config.json}.
     *
     * @param dropout the probability of zeroing an element of a LoRA branch's input, in [0, 1); needs LoRA
     *     ({@link #lora} or a model with an adapter)
     * @return a copy with it
     */
    public FineTuner loraDropout(double dropout) {
        check(dropout >= 0 && dropout < 1, "loraDropout must be in [0, 1), was " + dropout);
        return with(o -> o.loraDropout = dropout);
    }

    /**
     * Reads every row as packed documents, each ending with {@code separatorId}, and keeps them apart: a
     * token attends only to earlier tokens of its own document (a block-diagonal causal mask), positions
     * restart at 0 with each document (as transformers' {@code position_ids} for packed flash-attention with
     * {@code DataCollatorWithFlattening}), and the separator's prediction of the next document's first token is
     * not scored. Evaluation reads the validation rows the same way. Each document then trains as it would
     * alone, at the cost of an attention mask per row.
     *
     * <p><b>Off by default</b>, as in transformers: a packed row (llm-data's {@code pack}, HF's
     * {@code group_texts}) is one sequence, so its documents DO attend across the EOS between them, positions
     * run through the whole row, and every next token is scored.
     *
     * @param separatorId the token id that ends a document (usually EOS), &gt;= 0; -1 turns the option off
     * @return a copy with it
     */
    public FineTuner documentBoundaries(int separatorId) {
        check(separatorId >= -1, "documentBoundaries separatorId must be a token id >= 0 (or -1 for off), was "
                + separatorId);
        return with(o -> o.documentSeparator = separatorId);
    }

    /**
     * As {@link #documentBoundaries(int)}, with the separator llm-data recorded in the training shards'
     * {@code index.json} ({@code separator_token_id}), else the model's first {@code eos_token_id}.
     *
     * @return a copy with it
     */
    public FineTuner documentBoundaries() {
        return with(o -> o.documentSeparator = -2);
    }

    /**
     * @param everySteps evaluate after every this many optimizer steps (and before the first and after
     *     the last), &gt;= 1
     * @param validation the held-out sequences
     * @return a copy with it
     */
    public FineTuner evaluateEvery(long everySteps, TokenDataset validation) {
        check(everySteps >= 1, "evaluateEvery must be >= 1, was " + everySteps);
        Objects.requireNonNull(validation, "validation");
        return with(o -> {
            o.evaluateEvery = everySteps;
            o.validation = validation;
        });
    }

    /**
     * @param everySteps write a checkpoint after every this many optimizer steps and at the end, &gt;= 1
     * @param dir the folder that receives {@code checkpoint-NNNNNNNN} folders
     * @return a copy with it
     */
    public FineTuner checkpointEvery(long everySteps, Path dir) {
        check(everySteps >= 1, "checkpointEvery must be >= 1, was " + everySteps);
        String folder = Objects.requireNonNull(dir, "dir").toAbsolutePath().toString();
        return with(o -> {
            o.checkpointEvery = everySteps;
            o.checkpointDir = folder;
        });
    }

    /**
     * @param count how many of the newest checkpoints to keep, &gt;= 1 (default 3)
     * @return a copy with it
     */
    public FineTuner keepCheckpoints(int count) {
        check(count >= 1, "keepCheckpoints must be >= 1, was " + count);
        return with(o -> o.keepCheckpoints = count);
    }

    /**
     * @param dir folder for {@code metrics.jsonl} (one line per step and per evaluation) and
     *     {@code loss.png} (the loss curve, drawn at the end)
     * @return a copy with it
     */
    public FineTuner logTo(Path dir) {
        return with(o -> o.setLogDir(dir));
    }

    /**
     * @param everySteps write a progress line (loss, lr, tokens/s, ETA) to the log every this many steps, &gt;= 1
     * @return a copy with it
     */
    public FineTuner logEvery(long everySteps) {
        return with(o -> o.setLogEvery(everySteps));
    }

    /**
     * Turns the terminal progress bar on (the default) or off. The bar (steps done of the total, elapsed
     * time, ETA, and the last step's loss, learning rate and tokens/s, on standard error) is drawn only when
     * the JVM has an interactive console and the {@code CI} environment variable is unset; elsewhere the
     * periodic log lines ({@link #logEvery}) and {@code metrics.jsonl} ({@link #logTo}) report the same
     * figures. Those stay on either way.
     *
     * @param show false to never draw the bar
     * @return a copy with it
     */
    public FineTuner progress(boolean show) {
        return with(o -> o.progress = show);
    }

    /**
     * @param listener receives every step and evaluation; listeners add up
     * @return a copy with it
     */
    public FineTuner listener(TrainingListener listener) {
        return with(o -> o.addListener(listener));
    }

    /**
     * Trains with FP16 mixed precision, as {@code torch.autocast(float16)} with a {@code GradScaler}: forward
     * and backward run on an FP16 copy of the model (fused attention and RMSNorm, RMSNorm statistics, RoPE
     * tables and the loss in float32), while AdamW keeps float32 state and updates the model's own FP32
     * weights (the master copy), which are cast into the FP16 copy after every update. The loss is multiplied
     * by a dynamic scale (see {@link #lossScaling}) before backward and the gradients are divided by it; a
     * step whose unscaled gradients hold an inf or NaN is skipped (no update; recorded in
     * {@link StepMetrics#skipped()} and {@link TrainingResult#skippedSteps()}) and the scale halves.
     * Evaluation runs on the FP32 master weights. The model stays FP32 and holds the trained weights.
     *
     * <p>A model loaded in FP16 computes in place instead of through a copy: the trainer widens its trainable
     * weights once into FP32 masters, AdamW updates those, and they are rounded back into the model after
     * every step (evaluation then runs in FP16). Checkpoints hold the masters too, so a resume is exact.
     *
     * @return a copy with it
     */
    public FineTuner fp16() {
        return with(o -> o.precision = "FP16");
    }

    /**
     * Sets FP16's dynamic loss scaling ({@code GradScaler(init_scale, growth_interval)}, growth factor 2,
     * backoff factor 0.5). The defaults are 65536 and 2000. Used only with {@link #fp16()}.
     *
     * @param initialScale the first step's scale, &gt; 0 and finite
     * @param growthInterval consecutive good steps after which the scale doubles, &gt;= 1
     * @return a copy with it
     */
    public FineTuner lossScaling(double initialScale, long growthInterval) {
        check(initialScale > 0 && Double.isFinite(initialScale),
                "lossScaling initialScale must be > 0 and finite, was " + initialScale);
        check(growthInterval >= 1, "lossScaling growthInterval must be >= 1, was " + growthInterval);
        return with(o -> {
            o.initialLossScale = initialScale;
            o.lossScaleGrowthInterval = growthInterval;
        });
    }

    /**
     * Trains with BF16 mixed precision: like {@link #fp16()} (a bf16 copy computes, FP32 master weights and
     * AdamW state, masters cast back after every update) but without loss scaling, since bfloat16 has
     * float32's exponent range. As under FP16, a step with an inf or NaN gradient is skipped rather than applied
     * (torch would apply it).
     * The bf16 arrays are made inside libtorch (TorchScript casts), never through DJL's {@code toType},
     * which would abort the JVM. A model loaded in BF16 trains in place with FP32 masters kept by the
     * trainer, as described under {@link #fp16()}; it needs this option (pure BF16 training without masters
     * is not offered).
     *
     * <p>On the CPU, an FP32 model whose training GEMMs run on OpenBLAS ({@code DecoderModel#trainsOnOpenBlas},
     * see {@code TrainingGemm}) trains under BF16 autocast instead of through a bf16 copy, as
     * {@code torch.autocast("cpu", torch.bfloat16)} does: the linear layers and the loss's output projection
     * multiply in bfloat16 (oneDNN's AVX512-BF16 or AMX kernels; inputs, weights and products rounded to bf16,
     * sums in float32), while norms, attention, activations, LoRA branches, the loss and AdamW stay float32 on
     * the model's own weights. A LoRA adapter's frozen base is rounded once for the whole run. Losses track
     * FP32's within 0.3% on a tiny model (a bf16 copy: 0.6%). Measured on a 2-core AMD EPYC (Zen 5) with 20M
     * and 100M Llamas, LoRA on all seven projections ran 1.57-1.86&times; the tokens/s of FP32 full fine-tuning
     * (FP32 LoRA: 1.25-1.37&times;); see the README's llm-train figures.
     *
     * @return a copy with it
     */
    public FineTuner bf16() {
        return with(o -> o.precision = "BF16");
    }

    /**
     * Trains data-parallel over several devices: each optimizer step's batch ({@link #batchSize} sequences per
     * micro-batch, the global batch) is split by sequences over the ranks, each rank computes the gradients of
     * its slice on its own replica, and the gradients are summed (weighted by scored tokens, so the step equals
     * one over the whole batch on one device). Pass one device per rank, e.g. {@code Device.gpu(0),
     * Device.gpu(1)}; a device may repeat (several logical ranks on one device, which run one after another).
     * Combine with {@link #zeroStage} to shard state over the ranks.
     *
     * @param devices the ranks' devices, in rank order, at least one
     * @return a copy with them
     */
    public FineTuner devices(Device... devices) {
        check(devices != null && devices.length >= 1, "devices needs at least one device");
        List<String> names = new java.util.ArrayList<>();
        for (Device d : devices) {
            Objects.requireNonNull(d, "devices must not contain null");
            names.add(d.getDeviceType() + ":" + d.getDeviceId());
        }
        List<String> frozen = List.copyOf(names);
        return with(o -> {
            o.devices = frozen;
            o.logicalRanks = 0;
        });
    }

    /**
     * Trains data-parallel over {@code ranks} logical ranks on the model's own device (see
     * {@link #devices(Device...)}): the strategies' arithmetic and memory split without several GPUs.
     *
     * @param ranks data-parallel ranks, &gt;= 1
     * @return a copy with them
     */
    public FineTuner devices(int ranks) {
        check(ranks >= 1, "devices must be >= 1, was " + ranks);
        return with(o -> {
            o.devices = List.of();
            o.logicalRanks = ranks;
        });
    }

    /**
     * Shards training state over the data-parallel ranks as DeepSpeed's ZeRO does: stage 1 partitions AdamW's
     * state (each rank updates its shard of the flat parameter vector, then the shards are all-gathered),
     * stage 2 also the gradients (reduce-scattered), stage 3 also the parameters (each layer's weights are
     * gathered just before it runs and released after; stage 3 therefore recomputes each layer in backward,
     * as {@link #activationCheckpointing()} does). Per-rank bytes follow {@link MemoryEstimate}.
     *
     * @param stage 0 (replicas, all-reduced gradients; the default), 1, 2 or 3
     * @return a copy with it
     */
    public FineTuner zeroStage(int stage) {
        check(stage >= 0 && stage <= 3, "zeroStage must be 0, 1, 2 or 3, was " + stage);
        return with(o -> o.zeroStage = stage);
    }

    /**
     * Keeps AdamW's state (the moments, and the FP32 master weights under {@link #fp16()}/{@link #bf16()}) in
     * host memory and runs the update on the CPU with ND4J, as DeepSpeed's ZeRO-Offload does; gradients go to
     * the host and updated weights come back each step.
     *
     * @return a copy with it
     */
    public FineTuner offloadOptimizer() {
        return with(o -> o.offloadOptimizer = true);
    }

    /**
     * Keeps each rank's parameter shard in host memory (ZeRO-Infinity style; only with {@code zeroStage(3)}):
     * every layer's weights are streamed to the device when the layer runs.
     *
     * @return a copy with it
     */
    public FineTuner offloadParameters() {
        return with(o -> o.offloadParameters = true);
    }

    /**
     * Activation (gradient) checkpointing per decoder layer: the forward keeps only each layer's input, and
     * backward recomputes each layer from it before back-propagating through it. Activation memory drops from
     * all layers' intermediates to one layer's plus the layer inputs, for about one more forward pass of
     * compute.
     *
     * @return a copy with it
     */
    public FineTuner activationCheckpointing() {
        return with(o -> o.activationCheckpointing = true);
    }

    /**
     * The memory this configuration needs per device (parameters, gradients, optimizer state and activations,
     * DeepSpeed's accounting), for the model and settings of this fine-tuner.
     *
     * @param sequenceLength tokens per training sequence, &gt;= 1
     * @return the estimate builder, already set to this run's precision, stage, ranks, offload, micro-batch
     *     per rank and checkpointing; call {@link MemoryEstimate#estimate()}
     */
    public MemoryEstimate memoryEstimate(int sequenceLength) {
        check(sequenceLength >= 1, "memoryEstimate sequenceLength must be >= 1, was " + sequenceLength);
        int ranks = options.rankCount();
        MemoryEstimate e = MemoryEstimate.of(model.config()).zeroStage(options.zeroStage).devices(ranks)
                .microBatch((options.batchSize + ranks - 1) / ranks, sequenceLength);
        if ("FP16".equals(options.precision)) {
            e = e.fp16();
        } else if ("BF16".equals(options.precision)) {
            e = e.bf16();
        }
        if (options.offloadOptimizer) {
            e = e.offloadOptimizer();
        }
        if (options.offloadParameters) {
            e = e.offloadParameters();
        }
        if (options.activationCheckpointing || options.zeroStage >= 3) {
            e = e.activationCheckpointing();
        }
        return e;
    }

    /** @return the settings, for tests and the sharded trainer in this package */
    TrainingOptions options() {
        return options;
    }

    /**
     * Checks the settings against the model and the data, then trains.
     *
     * @param train the training sequences, each of 2 to {@code max_position_embeddings} tokens
     * @return losses, gradient norms, learning rates, evaluations and throughput
     * @throws IllegalArgumentException for bad data or settings, before any work
     * @throws UnsupportedOperationException for a requested feature that is not implemented, naming it
     * @throws IOException when writing metrics or checkpoints fails
     */
    public TrainingResult train(TokenDataset train) throws IOException {
        RunChecks.check(model, options, train, resumed);
        if (!model.device().isGpu()) {
            CpuTrainingAdvice.logOnce();
        }
        try (TrainingRun run = TrainingRun.prepare(model, options, train, resumed)) {
            return run.run();
        }
    }
}
