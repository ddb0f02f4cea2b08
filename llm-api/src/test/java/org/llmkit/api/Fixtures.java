package org.llmkit.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Locates {@code shared/fixtures/hf-tiny} (the HF reference checkpoints) and reads their answers. */
public final class Fixtures {
    /** A shared JSON mapper. */
    static final ObjectMapper JSON = new ObjectMapper();

    private Fixtures() { }

    /** @return the hf-tiny tokenizer folder */
    static Path tokenizerFolder() {
        return hfTiny().resolve("tokenizer");
    }

    /** @return tokenizer_reference.json: what transformers gives for the fixture tokenizer */
    static JsonNode tokenizerReference() {
        try {
            return JSON.readTree(tokenizerFolder().resolve("tokenizer_reference.json").toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * @param name a file under src/test/resources
     * @return its text
     */
    static String resource(String name) {
        try (java.io.InputStream in = Fixtures.class.getResourceAsStream("/" + name)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + name);
            }
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** @return the hf-tiny folder, found by walking up from the working directory */
    public static Path hfTiny() {
        String configured = System.getProperty("llmkit.fixtures");
        if (configured != null) {
            return Path.of(configured);
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path candidate = p.resolve("shared/fixtures/hf-tiny");
            if (Files.isDirectory(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("shared/fixtures/hf-tiny not found above " + Path.of("").toAbsolutePath()
                + "; set -Dllmkit.fixtures=/path/to/hf-tiny");
    }

    /**
     * @param name fixture folder name, e.g. {@code llama3}
     * @return its path
     */
    public static Path model(String name) {
        return hfTiny().resolve(name);
    }

    /**
     * @param name fixture folder name
     * @return its parsed reference.json
     */
    public static JsonNode reference(String name) {
        try {
            return new ObjectMapper().readTree(model(name).resolve("reference.json").toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * @param n a JSON array of ints
     * @return the ints
     */
    public static int[] ints(JsonNode n) {
        int[] out = new int[n.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = n.get(i).asInt();
        }
        return out;
    }

    /**
     * @param n a JSON array of numbers
     * @return the floats
     */
    public static float[] floats(JsonNode n) {
        float[] out = new float[n.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) n.get(i).asDouble();
        }
        return out;
    }

    /**
     * @param a one array
     * @param b the other
     * @return the largest absolute difference
     */
    public static double maxAbsDiff(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new AssertionError("lengths differ: " + a.length + " vs " + b.length);
        }
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }
}
