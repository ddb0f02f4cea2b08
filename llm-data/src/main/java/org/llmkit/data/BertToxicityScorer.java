package org.llmkit.data;

import org.llmkit.api.Tokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Scores toxicity with a transformers {@code BertForSequenceClassification} checkpoint (for
 * example a Jigsaw-trained toxicity model): the softmax probability of the toxic label.
 *
 * <p>The folder holds {@code config.json} and {@code model.safetensors}; the tokenizer is passed
 * separately, since classifier folders often lack one. Texts are encoded with the tokenizer's
 * special tokens ({@code [CLS] ... [SEP]}), cut to {@code max_position_embeddings} (keeping the
 * last token, the separator), padded and masked in batches of up to {@link #batchSize()}.
 * The toxic label is the one named {@code toxic} (case-insensitive) in {@code id2label}, else
 * label 1; choose another with {@link #label(String)}.
 *
 * <p>Thread-safe. Holds native memory: {@link #close()} it; it does not close the tokenizer.
 */
public final class BertToxicityScorer implements ToxicityScorer, AutoCloseable {

    private final BertClassifier model;
    private final Tokenizer tokenizer;
    private final int toxicLabel;
    private final int batchSize;
    private final int padId;

    private BertToxicityScorer(BertClassifier model, Tokenizer tokenizer, int toxicLabel, int batchSize) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.toxicLabel = toxicLabel;
        this.batchSize = batchSize;
        this.padId = tokenizer.padTokenId().orElse(0);
    }

    /**
     * Loads a classifier.
     *
     * @param modelFolder a transformers BERT sequence-classification folder
     * @param tokenizer the model's tokenizer
     * @return the scorer
     * @throws IOException when the folder lacks files or holds another architecture
     */
    public static BertToxicityScorer load(Path modelFolder, Tokenizer tokenizer) throws IOException {
        Objects.requireNonNull(modelFolder, "modelFolder must not be null");
        Objects.requireNonNull(tokenizer, "tokenizer must not be null");
        BertClassifier model = BertClassifier.load(modelFolder);
        List<String> labels = model.labels();
        int toxic = labels.size() > 1 ? 1 : 0;
        for (int i = 0; i < labels.size(); i++) {
            if (labels.get(i).equalsIgnoreCase("toxic")) {
                toxic = i;
            }
        }
        return new BertToxicityScorer(model, tokenizer, toxic, 16);
    }

    /**
     * Returns this scorer using another label as the toxic one. The returned scorer shares the
     * model: close only one of them.
     *
     * @param name a label of {@code id2label}
     * @return the new scorer
     * @throws IllegalArgumentException when no label has that name
     */
    public BertToxicityScorer label(String name) {
        int index = model.labels().indexOf(name);
        if (index < 0) {
            throw new IllegalArgumentException("no label \"" + name + "\"; labels are " + model.labels());
        }
        return new BertToxicityScorer(model, tokenizer, index, batchSize);
    }

    /**
     * Returns this scorer with another batch size (sharing the model).
     *
     * @param size texts per forward pass, in [1, 1024]
     * @return the new scorer
     */
    public BertToxicityScorer batchSize(int size) {
        if (size < 1 || size > 1024) {
            throw new IllegalArgumentException("batchSize must be in [1, 1024], was " + size);
        }
        return new BertToxicityScorer(model, tokenizer, toxicLabel, size);
    }

    /**
     * Returns the batch size.
     *
     * @return texts per forward pass
     */
    public int batchSize() {
        return batchSize;
    }

    /**
     * Returns the label names in id order.
     *
     * @return transformers' id2label as a list
     */
    public List<String> labels() {
        return model.labels();
    }

    /**
     * Computes raw logits for token ids that are already encoded (with special tokens).
     *
     * @param ids token ids [batch][tokens], equal lengths
     * @param attentionMask 1 for real tokens, 0 for padding, same shape
     * @return logits [batch][labels]
     */
    public float[][] logits(int[][] ids, int[][] attentionMask) {
        Objects.requireNonNull(ids, "ids must not be null");
        Objects.requireNonNull(attentionMask, "attentionMask must not be null");
        if (ids.length == 0 || ids.length != attentionMask.length) {
            throw new IllegalArgumentException("ids and attentionMask must have the same, non-zero number of rows; were "
                    + ids.length + " and " + attentionMask.length);
        }
        return model.logits(ids, attentionMask);
    }

    @Override
    public double score(String text) {
        return scoreAll(List.of(text))[0];
    }

    @Override
    public double[] scoreAll(List<String> texts) {
        double[] scores = new double[texts.size()];
        for (int start = 0; start < texts.size(); start += batchSize) {
            int end = Math.min(texts.size(), start + batchSize);
            List<int[]> encoded = new ArrayList<>();
            int longest = 1;
            for (int i = start; i < end; i++) {
                int[] ids = truncate(tokenizer.encode(texts.get(i), true));
                encoded.add(ids);
                longest = Math.max(longest, ids.length);
            }
            int[][] ids = new int[encoded.size()][longest];
            int[][] mask = new int[encoded.size()][longest];
            for (int b = 0; b < encoded.size(); b++) {
                int[] row = encoded.get(b);
                java.util.Arrays.fill(ids[b], padId);
                System.arraycopy(row, 0, ids[b], 0, row.length);
                java.util.Arrays.fill(mask[b], 0, Math.max(1, row.length), 1);
            }
            float[][] logits = model.logits(ids, mask);
            for (int b = 0; b < logits.length; b++) {
                scores[start + b] = softmax(logits[b])[toxicLabel];
            }
        }
        return scores;
    }

    private int[] truncate(int[] ids) {
        int max = model.config().maxPositions();
        if (ids.length <= max) {
            return ids;
        }
        int[] cut = java.util.Arrays.copyOf(ids, max);
        cut[max - 1] = ids[ids.length - 1];
        return cut;
    }

    private static double[] softmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double sum = 0;
        double[] out = new double[logits.length];
        for (int i = 0; i < logits.length; i++) {
            out[i] = Math.exp(logits[i] - max);
            sum += out[i];
        }
        for (int i = 0; i < out.length; i++) {
            out[i] /= sum;
        }
        return out;
    }

    /** Frees the model's native memory. */
    @Override
    public void close() {
        model.close();
    }
}
