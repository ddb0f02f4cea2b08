package org.llmkit.samples;

import ai.djl.Device;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.Precision;
import org.llmkit.api.Tokenizer;

/**
 * The model options every sample shares: {@code --model}, {@code --tokenizer}, {@code --adapter},
 * {@code --precision} and {@code --device}. Without {@code --model} a sample uses the model the {@code plan}
 * sample trained ({@code runs/plan/model}).
 */
final class ModelOptions {
    /** The model the samples use when {@code --model} is not given: what {@code plan} saved. */
    static final Path DEFAULT_MODEL = PlanSample.DEFAULT_OUT.resolve("model");

    private ModelOptions() { }

    static Args describe(Args args) {
        return args
                .describe("model", "HuggingFace model folder, e.g. ~/models/Llama-3.1-8B (default " + DEFAULT_MODEL
                        + ", written by the plan sample)")
                .describe("tokenizer", "tokenizer folder, when the model folder has none")
                .describe("adapter", "PEFT LoRA adapter folder to apply")
                .describe("precision", "fp32 (default), fp16 or bf16")
                .describe("device", "cpu (default) or gpu (needs DJL's CUDA libtorch, see the README)");
    }

    static Path modelFolder(Args args) {
        Path folder = args.path("model");
        if (folder != null) {
            return folder;
        }
        if (!Files.isRegularFile(DEFAULT_MODEL.resolve("config.json"))) {
            throw new IllegalArgumentException("no --model given and no trained model at " + DEFAULT_MODEL
                    + ": run the plan sample first (./llmkit plan), or pass --model DIR");
        }
        return DEFAULT_MODEL;
    }

    static Device device(Args args) {
        String d = args.string("device", "cpu");
        return switch (d) {
            case "cpu" -> Device.cpu();
            case "gpu" -> Device.gpu();
            default -> throw new IllegalArgumentException("--device must be cpu or gpu, was '" + d + "'");
        };
    }

    static Precision precision(Args args) {
        String p = args.string("precision", "fp32");
        try {
            return Precision.valueOf(p.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--precision must be fp32, fp16 or bf16, was '" + p + "'", e);
        }
    }

    static LanguageModel load(Args args) throws IOException {
        Path folder = modelFolder(args);
        LanguageModel.Loader loader = LanguageModel.from(folder).precision(precision(args)).device(device(args));
        if (args.path("adapter") != null) {
            loader.adapter(args.path("adapter"));
        }
        LanguageModel model = loader.load();
        Path tokenizer = args.path("tokenizer");
        return tokenizer == null ? model : model.withTokenizer(Tokenizer.load(tokenizer));
    }
}
