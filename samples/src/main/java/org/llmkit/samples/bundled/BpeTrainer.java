package org.llmkit.samples.bundled;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Learns a byte-level BPE vocabulary from texts, as GPT-2 style tokenizers are trained: start from the 256
 * byte characters, then repeatedly merge the most frequent adjacent pair of symbols inside words (ties go to
 * the pair of older symbols, so the result is deterministic) until the vocabulary is full or no pair occurs
 * twice. Simple rather than fast: fine for the samples' few megabytes.
 *
 * <pre>{@code
 * BpeVocabulary v = BpeTrainer.vocabularySize(1024).train(texts);
 * v.writeTokenizer(Path.of("tokenizer"));      // tokenizer.json that Tokenizer.load reads
 * }</pre>
 */
public final class BpeTrainer {
    private final int vocabularySize;

    private BpeTrainer(int vocabularySize) {
        this.vocabularySize = vocabularySize;
    }

    /**
     * Starts a trainer.
     *
     * @param size the vocabulary size including the special tokens and the 256 byte characters, in
     *     [{@code 256 + special tokens}, 65536]
     * @return the trainer
     */
    public static BpeTrainer vocabularySize(int size) {
        int min = 256 + BpeVocabulary.SPECIAL_TOKENS.size();
        if (size < min || size > 65_536) {
            throw new IllegalArgumentException("vocabulary size must be in [" + min + ", 65536], was " + size);
        }
        return new BpeTrainer(size);
    }

    /**
     * Learns the merges.
     *
     * @param texts the training texts; special tokens in them are skipped
     * @return the vocabulary
     */
    public BpeVocabulary train(Iterable<String> texts) {
        List<String> symbols = new ArrayList<>(ByteLevel.alphabet());
        Map<String, Integer> symbolIds = new HashMap<>();
        for (int i = 0; i < symbols.size(); i++) {
            symbolIds.put(symbols.get(i), i);
        }
        Map<String, Long> wordCounts = new LinkedHashMap<>();
        for (String text : texts) {
            for (String special : BpeVocabulary.SPECIAL_TOKENS) {
                text = text.replace(special, " ");   // they are whole tokens already; learn no merges from them
            }
            for (String w : ByteLevel.words(text)) {
                wordCounts.merge(w, 1L, Long::sum);
            }
        }
        List<int[]> words = new ArrayList<>();
        List<Long> counts = new ArrayList<>();
        wordCounts.forEach((w, c) -> {
            int[] ids = new int[w.length()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = symbolIds.get(String.valueOf(w.charAt(i)));
            }
            words.add(ids);
            counts.add(c);
        });

        List<String[]> merges = new ArrayList<>();
        int target = vocabularySize - BpeVocabulary.SPECIAL_TOKENS.size();
        while (symbols.size() < target) {
            Map<Long, Long> pairs = new HashMap<>();
            for (int w = 0; w < words.size(); w++) {
                int[] ids = words.get(w);
                for (int i = 0; i + 1 < ids.length; i++) {
                    pairs.merge(((long) ids[i] << 32) | ids[i + 1], counts.get(w), Long::sum);
                }
            }
            long best = -1;
            long bestCount = 1;
            for (Map.Entry<Long, Long> e : pairs.entrySet()) {
                long c = e.getValue();
                if (c > bestCount || (c == bestCount && best >= 0 && e.getKey() < best)) {
                    best = e.getKey();
                    bestCount = c;
                }
            }
            if (best < 0) {
                break;   // no pair occurs twice: the vocabulary is as large as this corpus supports
            }
            int left = (int) (best >>> 32);
            int right = (int) best;
            int merged = symbols.size();
            symbols.add(symbols.get(left) + symbols.get(right));
            merges.add(new String[] {symbols.get(left), symbols.get(right)});
            for (int w = 0; w < words.size(); w++) {
                words.set(w, merge(words.get(w), left, right, merged));
            }
        }
        return new BpeVocabulary(symbols, merges);
    }

    private static int[] merge(int[] ids, int left, int right, int merged) {
        int[] out = null;
        int n = 0;
        for (int i = 0; i < ids.length; i++) {
            if (i + 1 < ids.length && ids[i] == left && ids[i + 1] == right) {
                if (out == null) {
                    out = new int[ids.length - 1];
                    System.arraycopy(ids, 0, out, 0, i);
                    n = i;
                }
                out[n++] = merged;
                i++;
            } else if (out != null) {
                out[n++] = ids[i];
            }
        }
        return out == null ? ids : Arrays.copyOf(out, n);
    }
}
