package org.llmkit.train;

import java.util.Locale;
import java.util.Objects;
import org.llmkit.api.ModelConfig;

/**
 * Memory a full fine-tuning run with AdamW needs per device, in DeepSpeed's accounting (ZeRO paper, Rajbhandari
 * et al. 2020, section 3): parameters, gradients, optimizer state and, when a micro-batch is given,
 * activations.
 *
 * <pre>{@code
 * MemoryEstimate.Result e = MemoryEstimate.of(config).fp16().zeroStage(2).devices(8).offloadOptimizer()
 *         .microBatch(1, 2048).activationCheckpointing().estimate();
 * System.out.println(e.toTable());
 * }</pre>
 *
 * <p>Model states for Ψ parameters on N devices, mixed precision (FP16/BF16 weights and gradients, FP32 master
 * weights and AdamW moments, K = 12 bytes of optimizer state per parameter): stage 0 {@code 2Ψ + 2Ψ + 12Ψ},
 * stage 1 {@code 2Ψ + 2Ψ + 12Ψ/N}, stage 2 {@code 2Ψ + 14Ψ/N}, stage 3 {@code 16Ψ/N}. In FP32 weights and
 * gradients take 4 bytes and K = 8 (the weights are their own master). {@code offloadOptimizer} moves the
 * optimizer term to host memory, {@code offloadParameters} (stage 3) the parameter shards. Shards round up.
 *
 * <p>Activations are this implementation's: per decoder layer and token, the arrays a layer's backward reads
 * ({@code 9 C + 3 C_kv + 4 I} elements for a gated MLP, {@code 9 C + 3 C_kv + 2 I} otherwise; C hidden, C_kv
 * key/value width, I intermediate; fused attention keeps no T x T scores) in the compute type, plus the
 * logits and their float32 log-softmax; with checkpointing, each layer's input plus one layer's working set.
 * Immutable: each setter returns a copy.
 */
public final class MemoryEstimate {
    private final ModelConfig config;
    private final int weightBytes;
    private final int zeroStage;
    private final int devices;
    private final boolean offloadOptimizer;
    private final boolean offloadParameters;
    private final int microBatch;
    private final int sequenceLength;
    private final boolean checkpointing;

    private MemoryEstimate(ModelConfig config, int weightBytes, int zeroStage, int devices, boolean offloadOptimizer,
            boolean offloadParameters, int microBatch, int sequenceLength, boolean checkpointing) {
        this.config = config;
        this.weightBytes = weightBytes;
        this.zeroStage = zeroStage;
        this.devices = devices;
        this.offloadOptimizer = offloadOptimizer;
        this.offloadParameters = offloadParameters;
        this.microBatch = microBatch;
        this.sequenceLength = sequenceLength;
        this.checkpointing = checkpointing;
    }

    /**
     * @param config the model's architecture and sizes
     * @return an FP32, single-device, unsharded estimate without activations
     */
    public static MemoryEstimate of(ModelConfig config) {
        return new MemoryEstimate(Objects.requireNonNull(config, "config"), 4, 0, 1, false, false, 0, 0, false);
    }

    private MemoryEstimate with(int bytes, int stage, int count, boolean offOpt, boolean offParams, int batch, int seq,
            boolean ckpt) {
        return new MemoryEstimate(config, bytes, stage, count, offOpt, offParams, batch, seq, ckpt);
    }

    /** @return a copy for FP16 mixed precision */
    public MemoryEstimate fp16() {
        return with(2, zeroStage, devices, offloadOptimizer, offloadParameters, microBatch, sequenceLength, checkpointing);
    }

    /** @return a copy for BF16 mixed precision */
    public MemoryEstimate bf16() {
        return fp16();
    }

    /**
     * @param stage ZeRO stage: 0 (none), 1, 2 or 3
     * @return a copy with it
     * @throws IllegalArgumentException outside 0-3
     */
    public MemoryEstimate zeroStage(int stage) {
        if (stage < 0 || stage > 3) {
            throw new IllegalArgumentException("zeroStage must be 0, 1, 2 or 3, was " + stage);
        }
        return with(weightBytes, stage, devices, offloadOptimizer, offloadParameters, microBatch, sequenceLength,
                checkpointing);
    }

    /**
     * @param count data-parallel devices, &gt;= 1
     * @return a copy with it
     * @throws IllegalArgumentException below 1
     */
    public MemoryEstimate devices(int count) {
        if (count < 1) {
            throw new IllegalArgumentException("devices must be >= 1, was " + count);
        }
        return with(weightBytes, zeroStage, count, offloadOptimizer, offloadParameters, microBatch, sequenceLength,
                checkpointing);
    }

    /** @return a copy with the optimizer state in host memory */
    public MemoryEstimate offloadOptimizer() {
        return with(weightBytes, zeroStage, devices, true, offloadParameters, microBatch, sequenceLength, checkpointing);
    }

    /** @return a copy with the parameter shards in host memory (needs stage 3, checked by {@link #estimate()}) */
    public MemoryEstimate offloadParameters() {
        return with(weightBytes, zeroStage, devices, offloadOptimizer, true, microBatch, sequenceLength, checkpointing);
    }

    /**
     * @param sequences sequences per device per micro-batch, &gt;= 1
     * @param tokens tokens per sequence, &gt;= 1
     * @return a copy that also estimates activations
     * @throws IllegalArgumentException for values below 1
     */
    public MemoryEstimate microBatch(int sequences, int tokens) {
        if (sequences < 1 || tokens < 1) {
            throw new IllegalArgumentException("microBatch needs sequences >= 1 and tokens >= 1, was " + sequences
                    + " x " + tokens);
        }
        return with(weightBytes, zeroStage, devices, offloadOptimizer, offloadParameters, sequences, tokens,
                checkpointing);
    }

    /** @return a copy with activation checkpointing per decoder layer */
    public MemoryEstimate activationCheckpointing() {
        return with(weightBytes, zeroStage, devices, offloadOptimizer, offloadParameters, microBatch, sequenceLength,
                true);
    }

    /**
     * @return the figures
     * @throws IllegalArgumentException for offloadParameters without stage 3
     */
    public Result estimate() {
        if (offloadParameters && zeroStage != 3) {
            throw new IllegalArgumentException("offloadParameters needs zeroStage(3), but zeroStage is " + zeroStage);
        }
        long p = config.parameterCount();
        long weights = p * weightBytes;
        long gradients = p * weightBytes;
        long optimizer = p * (8L + (weightBytes < 4 ? 4L : 0L));
        long optimizerPerDevice = zeroStage >= 1 ? ceil(optimizer, devices) : optimizer;
        long weightsPerDevice = zeroStage >= 3 ? ceil(weights, devices) : weights;
        long host = (offloadOptimizer ? optimizerPerDevice : 0) + (offloadParameters ? weightsPerDevice : 0);
        return new Result(p, devices, zeroStage, weightBytes,
                offloadParameters ? 0 : weightsPerDevice,
                zeroStage >= 2 ? ceil(gradients, devices) : gradients,
                offloadOptimizer ? 0 : optimizerPerDevice,
                activations(),
                host * devices);
    }

    // activation bytes per device for the micro-batch (0 when none was given)
    private long activations() {
        if (microBatch == 0) {
            return 0;
        }
        long tokens = (long) microBatch * sequenceLength;
        long c = config.hiddenSize();
        long kv = (long) config.numKvHeads() * config.headDim();
        long mlp = (long) config.intermediateSize() * (gated() ? 4 : 2);
        long layer = tokens * (9 * c + 3 * kv + mlp) * weightBytes;
        long head = tokens * config.vocabSize() * (weightBytes + 8L);
        long layers = config.numLayers();
        return checkpointing ? layers * tokens * c * weightBytes + layer + head : layers * layer + head;
    }

    private boolean gated() {
        return !"gpt2".equals(config.modelType());
    }

    private static long ceil(long bytes, int parts) {
        return (bytes + parts - 1) / parts;
    }

    /**
     * Bytes needed per device, and in host memory.
     *
     * @param parameters Ψ, the model's parameter count
     * @param devices N, the data-parallel devices
     * @param zeroStage the ZeRO stage
     * @param weightBytes bytes per weight and gradient element (4 FP32, 2 FP16/BF16)
     * @param parameterBytesPerDevice weights held by each device
     * @param gradientBytesPerDevice gradients held by each device
     * @param optimizerBytesPerDevice AdamW moments (and FP32 master weights) held by each device
     * @param activationBytesPerDevice activations of one micro-batch per device (0 when no micro-batch was set)
     * @param hostBytes offloaded optimizer state and parameter shards in host memory, all devices together
     */
    public record Result(long parameters, int devices, int zeroStage, int weightBytes, long parameterBytesPerDevice,
            long gradientBytesPerDevice, long optimizerBytesPerDevice, long activationBytesPerDevice, long hostBytes) {

        /** @return the device total: weights + gradients + optimizer state + activations */
        public long deviceBytes() {
            return modelStateBytesPerDevice() + activationBytesPerDevice;
        }

        /** @return weights + gradients + optimizer state per device (DeepSpeed's "model states") */
        public long modelStateBytesPerDevice() {
            return parameterBytesPerDevice + gradientBytesPerDevice + optimizerBytesPerDevice;
        }

        /** @return a Markdown table of the figures in GiB, each row with the formula it follows */
        public String toTable() {
            String n = devices == 1 ? "" : "/" + devices;
            int k = weightBytes < 4 ? 12 : 8;
            return String.format(Locale.ROOT, "ZeRO stage %d, %d device(s), Ψ = %,d parameters, %s%n%n", zeroStage,
                    devices, parameters, weightBytes < 4 ? "mixed precision (K = 12)" : "FP32 (K = 8)")
                    + "| what | formula | GiB |\n| --- | --- | ---: |\n"
                    + row("weights per device", parameterBytesPerDevice == 0 ? "offloaded" : weightBytes + "Ψ"
                            + (zeroStage >= 3 ? n : ""), parameterBytesPerDevice)
                    + row("gradients per device", weightBytes + "Ψ" + (zeroStage >= 2 ? n : ""), gradientBytesPerDevice)
                    + row("optimizer state per device", optimizerBytesPerDevice == 0 ? "offloaded"
                            : k + "Ψ" + (zeroStage >= 1 ? n : ""), optimizerBytesPerDevice)
                    + row("activations per device", "micro-batch", activationBytesPerDevice)
                    + row("device total", "", deviceBytes())
                    + row("host (offloaded), all devices", "", hostBytes);
        }

        private static String row(String what, String formula, long bytes) {
            return String.format(Locale.ROOT, "| %s | %s | %.3f |%n", what, formula, bytes / (double) (1L << 30));
        }
    }
}
