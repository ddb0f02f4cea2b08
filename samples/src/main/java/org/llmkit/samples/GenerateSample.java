package org.llmkit.samples;

import ai.djl.Device;
import java.nio.file.Path;
import org.llmkit.api.Generation;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.Precision;
import org.llmkit.api.Tokenizer;
import org.llmkit.api.generate.GenerationResult;

/**
 * Loads a HuggingFace model folder and streams a completion.
 *
 * <pre>
 * java -jar llmkit-samples.jar generate --model ~/models/Llama-3.2-1B --prompt "Once upon a time" --max-new-tokens 64
 * </pre>
 */
public final class GenerateSample {
    private GenerateSample() { }

    /**
     * Runs the sample.
     *
     * @param argv options; {@code --help} lists them
     * @throws Exception when loading or generation fails
     */
    public static void main(String[] argv) throws Exception {
        Args args = new Args("java -jar llmkit-samples.jar generate --model DIR [options]", argv)
                .describe("model", "HuggingFace model folder (config.json, *.safetensors, tokenizer.json)")
                .describe("prompt", "text to continue (default: \"Once upon a time\")")
                .describe("max-new-tokens", "tokens to generate (default 64)")
                .describe("temperature", "sample with this temperature; omit for greedy decoding")
                .describe("top-p", "nucleus sampling threshold (default 1 = off)")
                .describe("seed", "sampling seed (default 0)")
                .describe("precision", "fp32 (default), fp16 or bf16")
                .describe("device", "cpu (default) or gpu")
                .describe("adapter", "PEFT LoRA adapter folder to apply")
                .describe("tokenizer", "tokenizer folder, when the model folder has none");
        if (args.wantsHelp()) {
            System.out.print(args.helpText());
            return;
        }
        args.checkKnown();
        String model = args.string("model", null);
        if (model == null) {
            throw new IllegalArgumentException("--model is required\n" + args.helpText());
        }
        LanguageModel.Loader loader = LanguageModel.from(Path.of(model))
                .precision(Precision.valueOf(args.string("precision", "fp32").toUpperCase(java.util.Locale.ROOT)))
                .device("gpu".equals(args.string("device", "cpu")) ? Device.gpu() : Device.cpu());
        if (args.string("adapter", null) != null) {
            loader.adapter(Path.of(args.string("adapter", null)));
        }
        try (LanguageModel loaded = loader.load()) {
            LanguageModel m = args.string("tokenizer", null) == null ? loaded
                    : loaded.withTokenizer(Tokenizer.load(Path.of(args.string("tokenizer", null))));
            String prompt = args.string("prompt", "Once upon a time");
            Generation g = m.generate(prompt).maxNewTokens(args.integer("max-new-tokens", 64));
            if (args.string("temperature", null) != null) {
                g.temperature(args.number("temperature", 1)).topP(args.number("top-p", 1)).seed(args.integer("seed", 0));
            } else {
                g.greedy();
            }
            System.out.print(prompt);
            GenerationResult r = g.stream(piece -> {
                System.out.print(piece);
                System.out.flush();
            });
            System.out.println();
            double seconds = r.totalNanos() / 1e9;
            System.err.printf("[%d prompt + %d new tokens in %.2f s, finish: %s]%n", r.promptTokens().length,
                    r.newTokens().length, seconds, r.finishReason().name().toLowerCase(java.util.Locale.ROOT));
        }
    }
}
