package org.llmkit.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.common.collect.Iterables;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The token strings and ids of a {@code tokenizer.json}: the model's vocabulary ({@code model.vocab},
 * an object for BPE/WordPiece/WordLevel, a list of {@code [piece, score]} pairs for Unigram) plus
 * {@code added_tokens}. Token strings are the model's own spelling (byte-level BPE writes a leading
 * space as {@code Ġ}), as transformers' {@code convert_ids_to_tokens} returns them.
 */
final class Vocabulary {

    private final Map<String, Integer> ids;
    private final String[] tokens;
    private final int size;

    private Vocabulary(Map<String, Integer> ids, String[] tokens, int size) {
        this.ids = ids;
        this.tokens = tokens;
        this.size = size;
    }

    /**
     * Reads the vocabulary of a parsed {@code tokenizer.json}.
     *
     * @param json the parsed file
     * @param file the file, for error messages
     * @return the vocabulary
     * @throws IllegalArgumentException when {@code model.vocab} is missing or malformed
     */
    static Vocabulary from(JsonNode json, Path file) {
        JsonNode vocab = json.path("model").path("vocab");
        Map<String, Integer> ids = new HashMap<>();
        if (vocab.isObject()) {
            for (Map.Entry<String, JsonNode> e : vocab.properties()) {
                if (!e.getValue().canConvertToInt()) {
                    throw new IllegalArgumentException(
                            file + ": model.vocab[\"" + e.getKey() + "\"] should be an integer id, got "
                                    + e.getValue());
                }
                ids.put(e.getKey(), e.getValue().intValue());
            }
        } else if (vocab.isArray()) {
            for (int i = 0; i < vocab.size(); i++) {
                JsonNode entry = vocab.get(i);
                JsonNode piece = entry.isArray() ? entry.get(0) : entry;
                if (piece == null || !piece.isTextual()) {
                    throw new IllegalArgumentException(
                            file + ": model.vocab[" + i + "] should be [piece, score], got " + entry);
                }
                ids.putIfAbsent(piece.textValue(), i);
            }
        } else {
            throw new IllegalArgumentException(
                    file + ": expected model.vocab to be an object {token: id} or a list of "
                            + "[piece, score] pairs, got " + (vocab.isMissingNode() ? "nothing" : vocab.getNodeType()));
        }
        Map<String, Integer> added = new LinkedHashMap<>();
        for (JsonNode entry : json.path("added_tokens")) {
            JsonNode content = entry.get("content");
            JsonNode id = entry.get("id");
            if (content == null || !content.isTextual() || id == null || !id.canConvertToInt()) {
                throw new IllegalArgumentException(
                        file + ": each added_tokens entry needs a string content and an integer id, got "
                                + entry);
            }
            added.put(content.textValue(), id.intValue());
        }
        int maxId = -1;
        for (int id : Iterables.concat(ids.values(), added.values())) {
            if (id < 0) {
                throw new IllegalArgumentException(file + ": negative token id " + id);
            }
            maxId = Math.max(maxId, id);
        }
        String[] tokens = new String[maxId + 1];
        for (Map.Entry<String, Integer> e : ids.entrySet()) {
            int id = e.getValue();
            if (tokens[id] == null || e.getKey().compareTo(tokens[id]) < 0) {
                tokens[id] = e.getKey();
            }
        }
        for (Map.Entry<String, Integer> e : added.entrySet()) {
            tokens[e.getValue()] = e.getKey();
        }
        ids.putAll(added);
        int distinct = 0;
        for (String token : tokens) {
            if (token != null) {
                distinct++;
            }
        }
        return new Vocabulary(ids, tokens, distinct);
    }

    /**
     * Returns the number of distinct ids, added tokens included (transformers' {@code len(tokenizer)}).
     *
     * @return the vocabulary size
     */
    int size() {
        return size;
    }

    /**
     * Returns the token string of an id.
     *
     * @param id the id
     * @return the token, or empty when no token has this id
     */
    Optional<String> token(int id) {
        return id >= 0 && id < tokens.length ? Optional.ofNullable(tokens[id]) : Optional.empty();
    }

    /**
     * Returns the id of a token string.
     *
     * @param token the token, in the model's own spelling
     * @return the id, or empty when the token is not in the vocabulary
     */
    OptionalInt id(String token) {
        Integer id = token == null ? null : ids.get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }
}
