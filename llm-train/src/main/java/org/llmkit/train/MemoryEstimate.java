package org.llmkit.train;

import java.util.Objects;
import org.llmkit.api.ModelConfig;

/**
 * Memory a full fine-tuning run with AdamW needs for weights, gradients and optimizer state, per device,
 * under mixed precision, ZeRO sharding and optimizer offload (DeepSpeed's accounting). Activations are
 * not included: they depend on batch and sequence length.
 *
 * <pre>{@code
 * MemoryEstimate.Result e = MemoryEstimate.of(config).fp16().zeroStage(2).devices(8).estimate();
 * }</pre>
 *
 * <p>Per parameter: weights 4 bytes (2 with fp16/bf16), gradients the same, AdamW's two moments 8 bytes
 * plus a 4-byte FP32 master copy under mixed precision. ZeRO stage 1 shards the optimizer state over
 * the devices, stage 2 also the gradients, stage 3 also the weights. Offload moves the optimizer state
 * to host memory. Immutable: each setter returns a copy.
 */
public final class MemoryEstimate {
    private final ModelConfig config;
    private final int weightBytes;
    private final int zeroStage;
    private final int devices;
    private final boolean offload;

    private MemoryEstimate(ModelConfig config, int weightBytes, int zeroStage, int devices, boolean offload) {
        this.config = config;
        this.weightBytes = weightBytes;
        this.zeroStage = zeroStage;
        this.devices = devices;
        this.offload = offload;
    }

    /**
     * @param config the model's architecture and sizes
     * @return an FP32, single-device, unsharded estimate
     */
    public static MemoryEstimate of(ModelConfig config) {
        return new MemoryEstimate(Objects.requireNonNull(config, "config"), 4, 0, 1, false);
    }

    /** @return a copy for FP16 mixed precision */
    public MemoryEstimate fp16() {
        return new MemoryEstimate(config, 2, zeroStage, devices, offload);
    }

    /** @return a copy for BF16 mixed precision */
    public MemoryEstimate bf16() {
        return new MemoryEstimate(config, 2, zeroStage, devices, offload);
    }

    /**
     * @param stage ZeRO stage: 0 (none), 1, 2 or 3
     * @return a copy with it
     */
    public MemoryEstimate zeroStage(int stage) {
        if (stage < 0 || stage > 3) {
            throw new IllegalArgumentException("zeroStage must be 0, 1, 2 or 3, was " + stage);
        }
        return new MemoryEstimate(config, weightBytes, stage, devices, offload);
    }

    /**
     * @param count data-parallel devices, &gt;= 1
     * @return a copy with it
     */
    public MemoryEstimate devices(int count) {
        if (count < 1) {
            throw new IllegalArgumentException("devices must be >= 1, was " + count);
        }
        return new MemoryEstimate(config, weightBytes, zeroStage, count, offload);
    }

    /** @return a copy with the optimizer state in host memory */
    public MemoryEstimate offloadOptimizer() {
        return new MemoryEstimate(config, weightBytes, zeroStage, devices, true);
    }

    /** @return the figures */
    public Result estimate() {
        long p = config.parameterCount();
        long weights = p * weightBytes;
        long gradients = p * weightBytes;
        long optimizer = p * (8L + (weightBytes < 4 ? 4L : 0L));
        long optimizerPerDevice = zeroStage >= 1 ? ceil(optimizer, devices) : optimizer;
        return new Result(p,
                zeroStage >= 3 ? ceil(weights, devices) : weights,
                zeroStage >= 2 ? ceil(gradients, devices) : gradients,
                offload ? 0 : optimizerPerDevice,
                offload ? optimizerPerDevice * devices : 0);
    }

    private static long ceil(long bytes, int parts) {
        return (bytes + parts - 1) / parts;
    }

    /**
     * Bytes needed, excluding activations.
     *
     * @param parameters the model's parameter count
     * @param parameterBytesPerDevice weights held by each device
     * @param gradientBytesPerDevice gradients held by each device
     * @param optimizerBytesPerDevice AdamW moments (and FP32 master weights) held by each device
     * @param hostBytes optimizer state held in host memory, all devices together
     */
    public record Result(long parameters, long parameterBytesPerDevice, long gradientBytesPerDevice,
            long optimizerBytesPerDevice, long hostBytes) {

        /** @return the device total: weights + gradients + optimizer state */
        public long deviceBytes() {
            return parameterBytesPerDevice + gradientBytesPerDevice + optimizerBytesPerDevice;
        }

        /** @return a Markdown table of the figures in GiB */
        public String toTable() {
            return "| what | GiB |\n| --- | ---: |\n"
                    + row("weights per device", parameterBytesPerDevice)
                    + row("gradients per device", gradientBytesPerDevice)
                    + row("optimizer state per device", optimizerBytesPerDevice)
                    + row("device total", deviceBytes())
                    + row("host (offloaded optimizer)", hostBytes);
        }

        private static String row(String what, long bytes) {
            return String.format(java.util.Locale.ROOT, "| %s | %.3f |%n", what, bytes / (double) (1L << 30));
        }
    }
}
