package org.llmkit.train;

import ai.djl.nn.Parameter;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.ModelConfig;
import org.llmkit.data.TokenDataset;

/** A tiny Llama and a repetitive corpus it can learn: each token is {@code (3 * previous + 1) mod 32}. */
final class Corpus {
    static final int VOCAB = 32;

    private Corpus() { }

    static LanguageModel tinyModel(long seed) {
        ModelConfig c = ModelConfig.builder("llama").vocabSize(VOCAB).hiddenSize(32).intermediateSize(64)
                .numLayers(2).numHeads(4).numKvHeads(2).maxPositionEmbeddings(64).build();
        return LanguageModel.create(c, seed);
    }

    /**
     * @param count sequences
     * @param length tokens per sequence
     * @param seed start tokens' seed
     * @return the sequences
     */
    static TokenDataset sequences(int count, int length, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int[][] out = new int[count][length];
        for (int[] s : out) {
            s[0] = random.nextInt(VOCAB);
            for (int i = 1; i < length; i++) {
                s[i] = (3 * s[i - 1] + 1) % VOCAB;
            }
        }
        return TokenDataset.of(out, VOCAB);
    }

    /**
     * @param d a dataset
     * @return its sequences as one batch
     */
    static int[][] all(TokenDataset d) {
        int[][] out = new int[(int) d.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = d.get(i);
        }
        return out;
    }

    /**
     * @param m a model
     * @return a copy of every weight that is not a LoRA adapter's, by name
     */
    static Map<String, float[]> baseWeights(LanguageModel m) {
        Map<String, float[]> out = new HashMap<>();
        for (Map.Entry<String, Parameter> e : m.block().parameters().entrySet()) {
            if (!e.getKey().contains(".lora_")) {
                out.put(e.getKey(), e.getValue().getArray().toFloatArray());
            }
        }
        return out;
    }
}
