package org.llmkit.samples;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.llmkit.api.ModelConfig;
import org.llmkit.train.MemoryEstimate;

/**
 * Prints how much memory full fine-tuning with AdamW needs per device, for each ZeRO stage, on 1 and on 8
 * devices, with and without optimizer offload: weights, gradients and optimizer state (activations come on
 * top and depend on batch and sequence length).
 *
 * <pre>
 * java -jar llmkit-samples.jar memory                                  # Llama-3.1-8B, BF16 mixed precision
 * java -jar llmkit-samples.jar memory --config ~/models/Qwen2-7B/config.json --precision fp32 --devices 4
 * </pre>
 *
 * <p>The code, without option parsing:
 * <pre>{@code
 * MemoryEstimate.Result e = MemoryEstimate.of(ModelConfig.load(Path.of("config.json")))
 *         .bf16().zeroStage(2).devices(8).offloadOptimizer().estimate();
 * System.out.println(e.toTable());
 * }</pre>
 */
public final class MemorySample {
    /** Shapes of well-known checkpoints (their config.json values), for estimates without a download. */
    static final Map<String, ModelConfig> PRESETS = Map.of(
            "llama-3.1-8b", llama(128_256, 4096, 14_336, 32, 32, 8, false),
            "llama-3.1-70b", llama(128_256, 8192, 28_672, 80, 64, 8, false),
            "llama-3.2-1b", llama(128_256, 2048, 8192, 16, 32, 8, true),
            "llama-3.2-3b", llama(128_256, 3072, 8192, 28, 24, 8, true));

    private MemorySample() { }

    /**
     * Runs the sample.
     *
     * @param argv options; {@code --help} lists them
     * @throws Exception when the config cannot be read
     */
    public static void main(String[] argv) throws Exception {
        Args args = new Args("java -jar llmkit-samples.jar memory [options]", argv)
                .describe("preset", "llama-3.1-8b (default), llama-3.1-70b, llama-3.2-1b or llama-3.2-3b")
                .describe("config", "a model's config.json instead of a preset")
                .describe("precision", "bf16 (default) or fp16 mixed precision, or fp32")
                .describe("devices", "the larger device count to compare with 1 (default 8)");
        if (args.wantsHelp()) {
            System.out.print(args.helpText());
            return;
        }
        args.checkKnown();
        String name;
        ModelConfig config;
        Path file = args.path("config");
        if (file != null) {
            name = file.toString();
            config = ModelConfig.load(file);
        } else {
            name = args.string("preset", "llama-3.1-8b");
            config = PRESETS.get(name);
            if (config == null) {
                throw new IllegalArgumentException("unknown --preset '" + name + "'; known: " + PRESETS.keySet());
            }
        }
        String precision = args.string("precision", "bf16");
        System.out.print(table(name, config, precision, args.integer("devices", 8)));
    }

    /**
     * Renders the comparison as a Markdown table.
     *
     * @param name the model's name for the heading
     * @param config its shape
     * @param precision {@code fp32}, {@code fp16} or {@code bf16}
     * @param devices the device count compared with 1, &gt;= 2
     * @return the table
     */
    static String table(String name, ModelConfig config, String precision, int devices) {
        if (devices < 2) {
            throw new IllegalArgumentException("--devices must be >= 2 (it is compared with 1), was " + devices);
        }
        MemoryEstimate base = switch (precision) {
            case "fp32" -> MemoryEstimate.of(config);
            case "fp16" -> MemoryEstimate.of(config).fp16();
            case "bf16" -> MemoryEstimate.of(config).bf16();
            default -> throw new IllegalArgumentException("--precision must be fp32, fp16 or bf16, was '"
                    + precision + "'");
        };
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT,
                "%s: %,d parameters, full fine-tuning with AdamW, %s%s; GiB (activations not included)%n%n", name,
                config.parameterCount(), precision, precision.equals("fp32") ? "" : " mixed precision"));
        b.append("| ZeRO stage | devices | optimizer offload | weights | gradients | optimizer state | per device "
                + "| host |\n| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |\n");
        for (int stage = 0; stage <= 3; stage++) {
            for (int n : new int[] {1, devices}) {
                for (boolean offload : new boolean[] {false, true}) {
                    MemoryEstimate e = base.zeroStage(stage).devices(n);
                    MemoryEstimate.Result r = (offload ? e.offloadOptimizer() : e).estimate();
                    b.append(String.format(Locale.ROOT, "| %d | %d | %s | %.1f | %.1f | %.1f | **%.1f** | %.1f |%n",
                            stage, n, offload ? "yes" : "no", gib(r.parameterBytesPerDevice()),
                            gib(r.gradientBytesPerDevice()), gib(r.optimizerBytesPerDevice()),
                            gib(r.deviceBytes()), gib(r.hostBytes())));
                }
            }
        }
        return b.toString();
    }

    private static double gib(long bytes) {
        return bytes / (double) (1L << 30);
    }

    private static ModelConfig llama(int vocab, int hidden, int intermediate, int layers, int heads, int kvHeads,
            boolean tied) {
        return ModelConfig.builder("llama").vocabSize(vocab).hiddenSize(hidden).intermediateSize(intermediate)
                .numLayers(layers).numHeads(heads).numKvHeads(kvHeads).maxPositionEmbeddings(131_072)
                .ropeTheta(500_000).tieWordEmbeddings(tied).bosTokenId(128_000).eosTokenIds(java.util.List.of(128_001))
                .build();
    }
}
