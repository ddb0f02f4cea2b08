package org.llmkit.samples;

import org.llmkit.api.Generation;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.generate.GenerationResult;

/**
 * Loads a HuggingFace model folder and streams a completion.
 *
 * <pre>
 * java -jar llmkit-samples.jar generate                                  # the model the plan sample trained
 * java -jar llmkit-samples.jar generate --model ~/models/Llama-3.1-8B --prompt "Once upon a time" --device gpu
 * </pre>
 *
 * <p>The code, without option parsing:
 * <pre>{@code
 * try (LanguageModel m = LanguageModel.from(dir).device(Device.gpu()).precision(Precision.BF16).load()) {
 *     m.generate("Once upon a time").maxNewTokens(64).temperature(0.8).topP(0.95).seed(7).stream(System.out::print);
 * }
 * }</pre>
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
        Args args = ModelOptions.describe(new Args("java -jar llmkit-samples.jar generate [options]", argv))
                .describe("prompt", "text to continue (default: \"Once upon a time\")")
                .describe("max-new-tokens", "tokens to generate (default 64)")
                .describe("temperature", "sample with this temperature; omit for greedy decoding")
                .describe("top-p", "nucleus sampling threshold (default 1 = off)")
                .describe("seed", "sampling seed (default 0)");
        if (args.wantsHelp()) {
            System.out.print(args.helpText());
            return;
        }
        args.checkKnown();
        try (LanguageModel m = ModelOptions.load(args)) {
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
