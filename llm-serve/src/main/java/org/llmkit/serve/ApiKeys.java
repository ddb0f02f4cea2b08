package org.llmkit.serve;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;

/**
 * Checks {@code Authorization: Bearer <key>} headers against the configured keys in constant time: both sides
 * are hashed to SHA-256 first (so the comparison does not leak the key's length) and every key is compared
 * with {@link MessageDigest#isEqual}, without stopping at the first match.
 */
final class ApiKeys {
    private static final String BEARER = "Bearer ";
    private final List<byte[]> digests;

    ApiKeys(List<String> keys) {
        this.digests = keys.stream().map(ApiKeys::sha256).toList();
    }

    /** @return true when no key is configured (open server) */
    boolean open() {
        return digests.isEmpty();
    }

    /**
     * @param authorization the Authorization header, or null
     * @return true when the header carries one of the keys (or no key is configured)
     */
    boolean accepts(String authorization) {
        if (open()) {
            return true;
        }
        if (authorization == null || !authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            return false;
        }
        byte[] presented = sha256(authorization.substring(BEARER.length()).trim());
        boolean match = false;
        for (byte[] d : digests) {
            match |= MessageDigest.isEqual(d, presented);
        }
        return match;
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform must provide SHA-256", e);
        }
    }
}
