package org.llmkit.api.model;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.llmkit.api.ModelFormatException;
import org.llmkit.api.RopeScaling;

/**
 * Typed access to a parsed {@code config.json} whose errors name the file and the field.
 */
public final class ConfigJson {
    private final Path file;
    private final ObjectNode root;

    /**
     * Wraps a parsed config.
     *
     * @param file the file it came from (for messages)
     * @param root the JSON object
     */
    public ConfigJson(Path file, ObjectNode root) {
        this.file = file;
        this.root = root;
    }

    /**
     * Reads and parses a config file, which must hold a JSON object.
     *
     * @param file the file
     * @param folder what kind of folder needs it, for the message when it is missing (e.g. "a HuggingFace model
     *     folder")
     * @return the config
     * @throws java.nio.file.NoSuchFileException when the file does not exist
     * @throws ModelFormatException when it is not valid JSON or not an object
     * @throws IOException when it cannot be read
     */
    public static ConfigJson read(Path file, String folder) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null,
                    "config.json not found: " + folder + " needs config.json next to its weights");
        }
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (JacksonException e) {
            throw new ModelFormatException(file, "not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new ModelFormatException(file, "expected a JSON object");
        }
        return new ConfigJson(file, (ObjectNode) root);
    }

    /** @return the file the config came from */
    public Path file() {
        return file;
    }

    /** @return the raw JSON */
    public ObjectNode root() {
        return root;
    }

    /**
     * Returns whether a field is present and not null.
     *
     * @param name the field
     * @return true when set
     */
    public boolean has(String name) {
        JsonNode n = root.get(name);
        return n != null && !n.isNull();
    }

    /**
     * Reads a required integer.
     *
     * @param name the field
     * @return the value
     * @throws ModelFormatException when absent or not an integer
     */
    public int requireInt(String name) throws ModelFormatException {
        if (!has(name)) {
            throw new ModelFormatException(file, "required field '" + name + "' is missing");
        }
        return intOf(name, root.get(name));
    }

    /**
     * Reads an optional integer.
     *
     * @param name the field
     * @param fallback value when absent or null
     * @return the value
     * @throws ModelFormatException when present but not an integer
     */
    public int optInt(String name, int fallback) throws ModelFormatException {
        return has(name) ? intOf(name, root.get(name)) : fallback;
    }

    /**
     * Reads an optional number.
     *
     * @param name the field
     * @param fallback value when absent or null
     * @return the value
     * @throws ModelFormatException when present but not a number
     */
    public double optDouble(String name, double fallback) throws ModelFormatException {
        if (!has(name)) {
            return fallback;
        }
        JsonNode n = root.get(name);
        if (!n.isNumber()) {
            throw new ModelFormatException(file, "field '" + name + "' must be a number but is " + n);
        }
        return n.asDouble();
    }

    /**
     * Reads an optional boolean.
     *
     * @param name the field
     * @param fallback value when absent or null
     * @return the value
     * @throws ModelFormatException when present but not a boolean
     */
    public boolean optBoolean(String name, boolean fallback) throws ModelFormatException {
        if (!has(name)) {
            return fallback;
        }
        JsonNode n = root.get(name);
        if (!n.isBoolean()) {
            throw new ModelFormatException(file, "field '" + name + "' must be true or false but is " + n);
        }
        return n.asBoolean();
    }

    /**
     * Reads an optional string.
     *
     * @param name the field
     * @param fallback value when absent or null
     * @return the value
     */
    public String optString(String name, String fallback) {
        return has(name) ? root.get(name).asText() : fallback;
    }

    /**
     * Reads token ids that may be a single integer or a list of them ({@code eos_token_id}).
     *
     * @param name the field
     * @return the ids, empty when absent
     * @throws ModelFormatException when not an integer or a list of integers
     */
    public List<Integer> intList(String name) throws ModelFormatException {
        List<Integer> out = new ArrayList<>();
        if (!has(name)) {
            return out;
        }
        JsonNode n = root.get(name);
        if (n.isArray()) {
            for (JsonNode e : n) {
                out.add(intOf(name, e));
            }
        } else {
            out.add(intOf(name, n));
        }
        return out;
    }

    /**
     * Reads rope settings from either layout: transformers v5 {@code rope_parameters} ({@code rope_theta}
     * inside) or v4 top-level {@code rope_theta} + {@code rope_scaling}.
     *
     * @param defaultTheta the architecture's default base
     * @return {@code [theta]} and the scaling, as a pair
     * @throws ModelFormatException when a value is malformed
     */
    public Rope rope(double defaultTheta) throws ModelFormatException {
        JsonNode params = root.get("rope_parameters");
        JsonNode scaling = root.get("rope_scaling");
        double theta = optDouble("rope_theta", defaultTheta);
        JsonNode source = null;
        if (params != null && params.isObject()) {
            if (params.has("rope_theta")) {
                theta = params.get("rope_theta").asDouble();
            }
            source = params;
        } else if (scaling != null && scaling.isObject()) {
            source = scaling;
        }
        if (source == null) {
            return new Rope(theta, RopeScaling.NONE);
        }
        String type = source.has("rope_type") ? source.get("rope_type").asText()
                : source.has("type") ? source.get("type").asText() : "default";
        try {
            return new Rope(theta, new RopeScaling(type,
                    source.path("factor").asDouble(1.0),
                    source.path("low_freq_factor").asDouble(0),
                    source.path("high_freq_factor").asDouble(0),
                    source.path("original_max_position_embeddings").asInt(0)));
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(file, "invalid rope settings " + source + ": " + e.getMessage(), e);
        } catch (UnsupportedOperationException e) {
            throw new ModelFormatException(file, e.getMessage(), e);
        }
    }

    /**
     * Rope base and scaling.
     *
     * @param theta the base
     * @param scaling the scaling
     */
    public record Rope(double theta, RopeScaling scaling) { }

    private int intOf(String name, JsonNode n) throws ModelFormatException {
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            throw new ModelFormatException(file, "field '" + name + "' must be an integer but is " + n);
        }
        return n.asInt();
    }
}
