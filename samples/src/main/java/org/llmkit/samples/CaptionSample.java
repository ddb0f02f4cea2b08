package org.llmkit.samples;

import java.nio.file.Path;
import org.llmkit.api.Generation;
import org.llmkit.api.VisionLanguageModel;
import org.llmkit.api.generate.GenerationResult;
import org.llmkit.api.vision.ImageProcessor;

/**
 * Captions an image (or answers a question about it) with a LLaVA-style model folder.
 *
 * <pre>
 * java -cp llmkit-samples.jar org.llmkit.samples.CaptionSample --model ~/models/llava-1.5-7b-hf --image cat.jpg \
 *     --prompt "USER: &lt;image&gt;\nWhat is in the picture? ASSISTANT:"
 * </pre>
 */
public final class CaptionSample {
    private CaptionSample() { }

    /**
     * Runs the sample.
     *
     * @param argv options; {@code --help} lists them
     * @throws Exception when loading, reading the image or generation fails
     */
    public static void main(String[] argv) throws Exception {
        Args args = new Args("java -cp llmkit-samples.jar org.llmkit.samples.CaptionSample --model DIR --image FILE"
                + " [options]", argv)
                .describe("model", "LLaVA model folder (config.json with vision_config/text_config, *.safetensors,"
                        + " preprocessor_config.json)")
                .describe("image", "image file to caption (PNG, JPEG, BMP, GIF)")
                .describe("prompt", "prompt; <image> marks the image (default: \"USER: <image>\\nDescribe the"
                        + " picture. ASSISTANT:\"); without <image> the image comes first")
                .describe("max-new-tokens", "tokens to generate (default 64)")
                .describe("temperature", "sample with this temperature; omit for greedy decoding")
                .describe("seed", "sampling seed (default 0)")
                .describe("tokenizer", "tokenizer folder, when the model folder has none");
        if (args.wantsHelp()) {
            System.out.print(args.helpText());
            return;
        }
        args.checkKnown();
        String model = args.string("model", null);
        String image = args.string("image", null);
        if (model == null || image == null) {
            throw new IllegalArgumentException((model == null ? "--model" : "--image") + " is required\n"
                    + args.helpText());
        }
        VisionLanguageModel.Loader loader = VisionLanguageModel.from(Path.of(model));
        if (args.string("tokenizer", null) != null) {
            loader.tokenizer(Path.of(args.string("tokenizer", null)));
        }
        try (VisionLanguageModel m = loader.load()) {
            if (!m.hasTokenizer()) {
                throw new IllegalArgumentException(model + " has no tokenizer.json; pass --tokenizer DIR");
            }
            String prompt = args.string("prompt", "USER: <image>\nDescribe the picture. ASSISTANT:")
                    .replace("\\n", "\n");
            Generation g = m.generate(ImageProcessor.read(Path.of(image)), prompt)
                    .maxNewTokens(args.integer("max-new-tokens", 64));
            if (args.string("temperature", null) != null) {
                g.temperature(args.number("temperature", 1)).seed(args.integer("seed", 0));
            } else {
                g.greedy();
            }
            GenerationResult r = g.stream(piece -> {
                System.out.print(piece);
                System.out.flush();
            });
            System.out.println();
            System.err.printf("[%d prompt tokens (%d per image) + %d new tokens in %.2f s]%n", r.promptTokens().length,
                    m.config().imageTokens(), r.newTokens().length, r.totalNanos() / 1e9);
        }
    }
}
