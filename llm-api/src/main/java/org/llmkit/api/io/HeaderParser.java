package org.llmkit.api.io;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses and validates a safetensors JSON header into {@link TensorInfo}s with absolute offsets.
 *
 * <p>Every problem becomes a {@link SafeTensorsFormatException} naming the file.
 */
final class HeaderParser {

    /** The header key that holds string metadata instead of a tensor. */
    static final String METADATA_KEY = "__metadata__";

    /** Rejects duplicate keys and trailing garbage, which the reference implementation also rejects. */
    static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private final Path file;

    private HeaderParser(Path file) {
        this.file = file;
    }

    /** The validated content of a header. */
    record Header(Map<String, String> metadata, Map<String, TensorInfo> tensors) {
    }

    /**
     * Parses {@code json} and checks every entry against the file layout.
     *
     * @param file the file, for messages
     * @param json the header bytes (without the 8-byte length prefix)
     * @param fileSize the total file size in bytes
     * @return metadata and tensors, tensors ordered by begin offset (ties in header order)
     * @throws SafeTensorsFormatException if the header is malformed or inconsistent with the file
     */
    static Header parse(Path file, byte[] json, long fileSize) throws SafeTensorsFormatException {
        return new HeaderParser(file).parse(json, fileSize);
    }

    private Header parse(byte[] json, long fileSize) throws SafeTensorsFormatException {
        JsonNode root = readJson(json);
        long dataStart = 8L + json.length;
        Map<String, String> metadata = Map.of();
        List<TensorInfo> tensors = new ArrayList<>();
        for (Map.Entry<String, JsonNode> field : root.properties()) {
            if (METADATA_KEY.equals(field.getKey())) {
                metadata = parseMetadata(field.getValue());
            } else {
                tensors.add(parseTensor(field.getKey(), field.getValue(), dataStart, fileSize));
            }
        }
        tensors.sort(Comparator.comparingLong(TensorInfo::begin));
        checkOverlaps(tensors);
        Map<String, TensorInfo> byName = new LinkedHashMap<>();
        for (TensorInfo tensor : tensors) {
            byName.put(tensor.name(), tensor);
        }
        return new Header(metadata, Collections.unmodifiableMap(byName));
    }

    private JsonNode readJson(byte[] json) throws SafeTensorsFormatException {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JacksonException e) {
            throw error("header is not valid JSON (" + firstLine(e.getOriginalMessage()) + "); expected a UTF-8 JSON "
                    + "object after the 8-byte length. The file is corrupt or not a safetensors file", e);
        } catch (java.io.IOException e) {
            throw error("header could not be decoded: " + e.getMessage(), e);
        }
        if (root == null || root.isMissingNode()) {
            throw error("header is empty; expected a JSON object mapping tensor names to "
                    + "{\"dtype\", \"shape\", \"data_offsets\"}");
        }
        if (!root.isObject()) {
            throw error("header is a JSON " + root.getNodeType().name().toLowerCase(java.util.Locale.ROOT)
                    + "; expected a JSON object mapping tensor names to {\"dtype\", \"shape\", \"data_offsets\"}");
        }
        return root;
    }

    private Map<String, String> parseMetadata(JsonNode node) throws SafeTensorsFormatException {
        if (node.isNull()) {
            return Map.of();
        }
        if (!node.isObject()) {
            throw error("\"" + METADATA_KEY + "\" is " + describe(node) + "; expected an object of string to string");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> field : node.properties()) {
            if (!field.getValue().isTextual()) {
                throw error("\"" + METADATA_KEY + "\" entry \"" + field.getKey() + "\" is " + describe(field.getValue())
                        + "; safetensors metadata values must be strings");
            }
            metadata.put(field.getKey(), field.getValue().textValue());
        }
        return Collections.unmodifiableMap(metadata);
    }

    private TensorInfo parseTensor(String name, JsonNode node, long dataStart, long fileSize)
            throws SafeTensorsFormatException {
        if (!node.isObject()) {
            throw error("tensor \"" + name + "\" is " + describe(node)
                    + "; expected an object with \"dtype\", \"shape\" and \"data_offsets\"");
        }
        TensorDType dtype = parseDType(name, required(name, node, "dtype"));
        long[] shape = parseShape(name, required(name, node, "shape"));
        long[] offsets = parseOffsets(name, required(name, node, "data_offsets"));
        long expected;
        try {
            expected = TensorInfo.expectedByteLength(name, dtype, shape);
        } catch (IllegalArgumentException e) {
            throw error(e.getMessage(), e);
        }
        long length = offsets[1] - offsets[0];
        if (length != expected) {
            throw error("tensor \"" + name + "\" has data_offsets [" + offsets[0] + ", " + offsets[1] + "] = "
                    + length + " bytes, but shape " + java.util.Arrays.toString(shape) + " of " + dtype
                    + " needs " + expected + " bytes (elements x " + dtype.byteSize() + ")");
        }
        if (offsets[1] > fileSize - dataStart) {
            long needed = dataStart + offsets[1];
            throw error("truncated: tensor \"" + name + "\" needs bytes up to " + needed + " but the file has only "
                    + fileSize + "; the download or copy was interrupted, fetch the file again");
        }
        return new TensorInfo(name, dtype, shape, dataStart + offsets[0], dataStart + offsets[1]);
    }

    private JsonNode required(String name, JsonNode entry, String key) throws SafeTensorsFormatException {
        JsonNode value = entry.get(key);
        if (value == null || value.isNull()) {
            throw error("tensor \"" + name + "\" has no \"" + key + "\"; every tensor entry needs \"dtype\", "
                    + "\"shape\" and \"data_offsets\", found keys " + fieldNames(entry));
        }
        return value;
    }

    private TensorDType parseDType(String name, JsonNode node) throws SafeTensorsFormatException {
        if (!node.isTextual()) {
            throw error("tensor \"" + name + "\" has dtype " + describe(node) + "; expected a string such as \"F32\"");
        }
        try {
            return TensorDType.parse(node.textValue());
        } catch (IllegalArgumentException e) {
            throw error("tensor \"" + name + "\": " + e.getMessage(), e);
        }
    }

    private long[] parseShape(String name, JsonNode node) throws SafeTensorsFormatException {
        if (!node.isArray()) {
            throw error("tensor \"" + name + "\" has shape " + describe(node) + "; expected an array of "
                    + "non-negative integers such as [512, 96]");
        }
        long[] shape = new long[node.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = integer(name, "shape", node.get(i));
            if (shape[i] < 0) {
                throw error("tensor \"" + name + "\" has negative dimension " + shape[i] + " in shape " + node
                        + "; every dimension must be >= 0");
            }
        }
        return shape;
    }

    private long[] parseOffsets(String name, JsonNode node) throws SafeTensorsFormatException {
        if (!node.isArray() || node.size() != 2) {
            throw error("tensor \"" + name + "\" has data_offsets " + describe(node)
                    + "; expected an array [begin, end] of two non-negative integers");
        }
        long begin = integer(name, "data_offsets", node.get(0));
        long end = integer(name, "data_offsets", node.get(1));
        if (begin < 0) {
            throw error("tensor \"" + name + "\" has data_offsets " + node + " with a negative begin; "
                    + "expected 0 <= begin <= end");
        }
        if (end < begin) {
            throw error("tensor \"" + name + "\" has data_offsets " + node + " with end < begin; "
                    + "expected 0 <= begin <= end");
        }
        return new long[] {begin, end};
    }

    private long integer(String name, String key, JsonNode node) throws SafeTensorsFormatException {
        if (!node.isIntegralNumber() || !node.canConvertToLong()) {
            throw error("tensor \"" + name + "\" has " + key + " entry " + describe(node)
                    + "; expected an integer between 0 and " + Long.MAX_VALUE);
        }
        return node.longValue();
    }

    private void checkOverlaps(List<TensorInfo> sorted) throws SafeTensorsFormatException {
        TensorInfo previous = null;
        for (TensorInfo tensor : sorted) {
            if (tensor.byteLength() == 0) {
                continue;
            }
            if (previous != null && tensor.begin() < previous.end()) {
                throw error("tensors \"" + previous.name() + "\" (bytes [" + previous.begin() + ", " + previous.end()
                        + ")) and \"" + tensor.name() + "\" (bytes [" + tensor.begin() + ", " + tensor.end()
                        + ")) overlap; each tensor must have its own data range");
            }
            previous = tensor;
        }
    }

    private SafeTensorsFormatException error(String problem) {
        return new SafeTensorsFormatException(file, problem);
    }

    private SafeTensorsFormatException error(String problem, Throwable cause) {
        return new SafeTensorsFormatException(file, problem, cause);
    }

    private static String describe(JsonNode node) {
        String text = node.toString();
        if (text.length() > 80) {
            text = text.substring(0, 77) + "...";
        }
        return "a JSON " + node.getNodeType().name().toLowerCase(java.util.Locale.ROOT) + " " + text;
    }

    private static List<String> fieldNames(JsonNode entry) {
        List<String> names = new ArrayList<>();
        entry.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "unknown parse error";
        }
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }
}
