package org.llmkit.data;

import com.google.common.hash.HashCode;
import com.google.common.hash.HashFunction;
import com.google.common.hash.Hashing;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Drops documents whose normalized text ({@link TextNormalizer}) was seen before, as
 * {@code duplicate}. Keeps a 128-bit MurmurHash3 of each distinct text: about 32-64 bytes per kept
 * document, and a collision chance of about n²/2¹²⁹ (negligible below 10¹⁵ documents).
 */
final class ExactDedupStage implements Stage {

    static final String DUPLICATE = "duplicate";
    private static final HashFunction HASH = Hashing.murmur3_128(0x6c6c6d6b);

    private Hash128Set seen;

    @Override
    public String name() {
        return "dedup";
    }

    @Override
    public void start() {
        seen = new Hash128Set();
    }

    @Override
    public void process(Batch batch, Workers workers) {
        long[] hashes = new long[2 * batch.size()];
        workers.forEach(batch.size(), i -> {
            if (batch.alive(i)) {
                long[] key = key(batch.docs[i].text());
                hashes[2 * i] = key[0];
                hashes[2 * i + 1] = key[1];
            }
        });
        for (int i = 0; i < batch.size(); i++) {
            if (batch.alive(i) && !seen.add(hashes[2 * i], hashes[2 * i + 1])) {
                batch.dropReason[i] = DUPLICATE;
            }
        }
    }

    /** The 128-bit MurmurHash3 of a text's normalized form, as two longs (high, low). */
    static long[] key(String text) {
        HashCode code = HASH.hashString(TextNormalizer.normalize(text), StandardCharsets.UTF_8);
        byte[] bytes = code.asBytes();
        long low = 0;
        for (int b = 8; b < 16; b++) {
            low = (low << 8) | (bytes[b] & 0xff);
        }
        return new long[] {code.asLong(), low};
    }

    @Override
    public Map<String, Object> details() {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("distinct_texts", seen.size());
        details.put("state_bytes", seen.bytes());
        return details;
    }
}
