package org.llmkit.eval;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.llmkit.api.VisionLanguageModel;
import org.llmkit.api.vision.ImageTextSequence;
import org.llmkit.data.ImageTextDataset;

/**
 * Caption and visual-question-answering metrics of a {@link VisionLanguageModel} over image-text pairs:
 * exact match of greedy generations against the target texts, and the perplexity of the target texts given their
 * images and prompts (the same tokens {@code VisionFineTuner} trains on: the text and the EOS token).
 *
 * <pre>{@code
 * ImageTextEval.Result r = ImageTextEval.of(vlm).maxNewTokens(16).run(ImageTextDataset.jsonl(Path.of("val.jsonl")));
 * r.exactMatch(); r.perplexity(); r.predictions();
 * }</pre>
 *
 * <p>Exact match compares after trimming and collapsing whitespace (and ignoring case with {@link #ignoreCase}).
 * Immutable; each setter returns a copy.
 */
public final class ImageTextEval {
    private final VisionLanguageModel model;
    private final int maxNewTokens;
    private final int batchSize;
    private final boolean ignoreCase;

    /**
     * The metrics of one dataset.
     *
     * @param exactMatch the share of examples whose generation equals the target text, in [0, 1]
     * @param perplexity {@code exp(loss)}
     * @param loss mean cross-entropy over every scored token (target text and EOS), in nats
     * @param scoredTokens how many tokens the loss averages over
     * @param predictions the generated text of each example, in dataset order
     */
    public record Result(double exactMatch, double perplexity, double loss, long scoredTokens,
            List<String> predictions) {
        /**
         * Copies the predictions.
         *
         * @param exactMatch the exact-match rate
         * @param perplexity the perplexity
         * @param loss the loss
         * @param scoredTokens the scored tokens
         * @param predictions the generations
         */
        public Result {
            predictions = List.copyOf(predictions);
        }
    }

    private ImageTextEval(VisionLanguageModel model, int maxNewTokens, int batchSize, boolean ignoreCase) {
        this.model = model;
        this.maxNewTokens = maxNewTokens;
        this.batchSize = batchSize;
        this.ignoreCase = ignoreCase;
    }

    /**
     * Starts an evaluation: 32 new tokens at most, batches of 8 for the perplexity, case-sensitive matching.
     *
     * @param model the model, with a tokenizer
     * @return the settings
     */
    public static ImageTextEval of(VisionLanguageModel model) {
        return new ImageTextEval(Objects.requireNonNull(model, "model"), 32, 8, false);
    }

    /**
     * @param n tokens each generation may produce, &gt; 0
     * @return a copy with it
     */
    public ImageTextEval maxNewTokens(int n) {
        if (n <= 0) {
            throw new IllegalArgumentException("maxNewTokens must be > 0 but is " + n);
        }
        return new ImageTextEval(model, n, batchSize, ignoreCase);
    }

    /**
     * @param n examples per forward pass of the perplexity, &gt; 0
     * @return a copy with it
     */
    public ImageTextEval batchSize(int n) {
        if (n <= 0) {
            throw new IllegalArgumentException("batchSize must be > 0 but is " + n);
        }
        return new ImageTextEval(model, maxNewTokens, n, ignoreCase);
    }

    /**
     * @param ignore whether exact match ignores case (VQA-style); default false
     * @return a copy with it
     */
    public ImageTextEval ignoreCase(boolean ignore) {
        return new ImageTextEval(model, maxNewTokens, batchSize, ignore);
    }

    /**
     * Computes exact match and perplexity.
     *
     * @param data the image-text pairs
     * @return the metrics and the generations
     * @throws IOException when an image cannot be read (the message names it)
     */
    public Result run(ImageTextDataset data) throws IOException {
        List<String> predictions = predictions(data);
        int matches = 0;
        for (int i = 0; i < data.size(); i++) {
            matches += matches(predictions.get(i), data.get(i).text()) ? 1 : 0;
        }
        double[] nll = lossAndCount(data);
        double loss = nll[0] / nll[1];
        return new Result(matches / (double) data.size(), Math.exp(loss), loss, (long) nll[1], predictions);
    }

    /**
     * Generates greedily for every example and compares with its target text.
     *
     * @param data the image-text pairs
     * @return the share of exact matches, in [0, 1]
     * @throws IOException when an image cannot be read
     */
    public double exactMatch(ImageTextDataset data) throws IOException {
        List<String> predictions = predictions(data);
        int matches = 0;
        for (int i = 0; i < data.size(); i++) {
            matches += matches(predictions.get(i), data.get(i).text()) ? 1 : 0;
        }
        return matches / (double) data.size();
    }

    /**
     * The perplexity of the target texts (and EOS) given their images and prompts.
     *
     * @param data the image-text pairs
     * @return {@code exp} of the mean cross-entropy per scored token
     * @throws IOException when an image cannot be read
     */
    public double perplexity(ImageTextDataset data) throws IOException {
        double[] nll = lossAndCount(data);
        return Math.exp(nll[0] / nll[1]);
    }

    private List<String> predictions(ImageTextDataset data) throws IOException {
        List<String> out = new ArrayList<>(data.size());
        for (ImageTextDataset.Example e : data.examples()) {
            List<java.awt.image.BufferedImage> images = new ArrayList<>();
            for (java.nio.file.Path p : e.images()) {
                images.add(org.llmkit.api.vision.ImageProcessor.read(p));
            }
            out.add(model.generate(images, e.prompt()).maxNewTokens(maxNewTokens).greedy().text());
        }
        return out;
    }

    // {sum of nats, scored tokens}
    private double[] lossAndCount(ImageTextDataset data) throws IOException {
        double nats = 0;
        long scored = 0;
        int imageToken = model.config().imageTokenIndex();
        for (int from = 0; from < data.size(); from += batchSize) {
            List<ImageTextSequence> batch = new ArrayList<>();
            long batchScored = 0;
            for (int i = from; i < Math.min(data.size(), from + batchSize); i++) {
                ImageTextDataset.Example e = data.get(i);
                List<float[][][]> pixels = new ArrayList<>();
                for (java.nio.file.Path p : e.images()) {
                    pixels.add(model.preprocess(p));
                }
                ImageTextSequence s = model.sequence(pixels, e.prompt(), e.text());
                for (int p = s.firstScored(); p < s.ids().length; p++) {
                    batchScored += s.ids()[p] != imageToken ? 1 : 0;
                }
                batch.add(s);
            }
            nats += model.loss(batch) * batchScored;
            scored += batchScored;
        }
        return new double[] {nats, scored};
    }

    private boolean matches(String prediction, String target) {
        String a = normalize(prediction);
        String b = normalize(target);
        return ignoreCase ? a.equalsIgnoreCase(b) : a.equals(b);
    }

    private static String normalize(String s) {
        return s.strip().replaceAll("\\s+", " ");
    }
}
