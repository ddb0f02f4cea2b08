package org.llmkit.data;

import org.llmkit.api.Tokenizer;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Encodes the live documents of a batch on all workers into {@code batch.tokens}; a document with
 * no tokens is dropped as {@code no_tokens}. Keeps the histogram of tokens per document.
 */
final class TokenizeStage implements Stage {

    static final String NO_TOKENS = "no_tokens";

    private final Tokenizer tokenizer;
    private final boolean addSpecialTokens;
    private final TokenHistogram histogram = new TokenHistogram();
    private long tokens;

    TokenizeStage(Tokenizer tokenizer, boolean addSpecialTokens) {
        this.tokenizer = tokenizer;
        this.addSpecialTokens = addSpecialTokens;
    }

    @Override
    public String name() {
        return "tokenize";
    }

    @Override
    public void process(Batch batch, Workers workers) {
        int[][] encoded = new int[batch.size()][];
        workers.forEach(batch.size(), i -> {
            if (batch.alive(i)) {
                encoded[i] = tokenizer.encode(batch.docs[i].text(), addSpecialTokens);
            }
        });
        for (int i = 0; i < batch.size(); i++) {
            if (encoded[i] != null) {
                if (encoded[i].length == 0) {
                    batch.dropReason[i] = NO_TOKENS;
                } else {
                    histogram.add(encoded[i].length);
                    tokens += encoded[i].length;
                }
            }
        }
        batch.tokens = encoded;
    }

    TokenHistogram histogram() {
        return histogram;
    }

    @Override
    public Map<String, Object> details() {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("tokens", tokens);
        details.put("vocab_size", tokenizer.vocabSize());
        return details;
    }
}
