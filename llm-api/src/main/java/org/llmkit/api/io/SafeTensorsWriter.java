package org.llmkit.api.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Collects tensors and writes them as one safetensors file, atomically.
 *
 * <pre>{@code
 * SafeTensorsWriter.create()
 *     .metadata("source", "llmkit")
 *     .add("model.norm.weight", TensorDType.F32, new long[] {96}, normBytes)
 *     .writeTo(folder.resolve("model.safetensors"));
 * }</pre>
 *
 * <p>The file has an 8-byte little-endian header length, a JSON header padded with spaces so
 * that the data starts at a multiple of 8 bytes, then every tensor's bytes in insertion order
 * with no gaps (the spec requires the data to be "entirely indexed" with no holes). The header
 * always carries {@code "__metadata__"} with {@code "format": "pt"} unless {@link #metadata}
 * sets another {@code "format"}, because HuggingFace loaders expect it. Each tensor's data
 * start is aligned to its element size when every earlier tensor's byte length is a multiple of
 * it (always true when all tensors share a dtype).
 *
 * <p>Buffers passed to {@link #add} are not copied: their bytes between position and limit are
 * read when {@link #writeTo(Path)} runs, so do not change them before that. Instances are not
 * thread-safe.
 */
public final class SafeTensorsWriter {

    /** Alignment of the first data byte, in bytes. */
    static final int ALIGNMENT = 8;

    private static final JsonMapper INDEX_JSON = JsonMapper.builder()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .build();

    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final List<Entry> entries = new ArrayList<>();
    private final Set<String> names = new HashSet<>();

    private SafeTensorsWriter() {
        metadata.put("format", "pt");
    }

    /**
     * Starts an empty writer whose metadata is {@code {"format": "pt"}}.
     *
     * @return a new writer
     */
    public static SafeTensorsWriter create() {
        return new SafeTensorsWriter();
    }

    /**
     * Adds or replaces a {@code "__metadata__"} entry.
     *
     * @param key the metadata key
     * @param value the metadata value
     * @return this writer
     */
    public SafeTensorsWriter metadata(String key, String value) {
        metadata.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
        return this;
    }

    /**
     * Adds a tensor, to be written after those added before it.
     *
     * @param name the tensor name, unique in this file and not {@code "__metadata__"}
     * @param dtype the element type
     * @param shape the dimensions, outermost first, each {@code >= 0}; {@code []} for a scalar
     * @param littleEndianData exactly {@code product(shape) * dtype.byteSize()} bytes between its
     *     position and limit, little-endian and row-major; its position is not changed
     * @return this writer
     * @throws IllegalArgumentException if the name is reserved or already added, a dimension is
     *     negative, or the byte count does not match the shape and dtype
     */
    public SafeTensorsWriter add(String name, TensorDType dtype, long[] shape, ByteBuffer littleEndianData) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(littleEndianData, "littleEndianData");
        long[] dims = Objects.requireNonNull(shape, "shape").clone();
        if (HeaderParser.METADATA_KEY.equals(name)) {
            throw new IllegalArgumentException("\"" + HeaderParser.METADATA_KEY
                    + "\" is reserved for metadata and cannot name a tensor; use metadata(key, value)");
        }
        if (names.contains(name)) {
            throw new IllegalArgumentException("tensor \"" + name + "\" was already added; tensor names must be unique");
        }
        long expected = TensorInfo.expectedByteLength(name, dtype, dims);
        if (littleEndianData.remaining() != expected) {
            throw new IllegalArgumentException("tensor \"" + name + "\": shape " + Arrays.toString(dims) + " of " + dtype
                    + " needs " + expected + " bytes but the buffer has " + littleEndianData.remaining()
                    + " remaining (position " + littleEndianData.position() + ", limit " + littleEndianData.limit() + ")");
        }
        names.add(name);
        entries.add(new Entry(name, dtype, dims, littleEndianData.slice()));
        return this;
    }

    /**
     * Returns the number of data bytes the tensors added so far occupy, the value HuggingFace
     * indexes record as {@code "total_size"}.
     *
     * @return the sum of the tensors' byte lengths
     */
    public long dataSize() {
        long total = 0;
        for (Entry entry : entries) {
            total += entry.data.remaining();
        }
        return total;
    }

    /**
     * Writes the file atomically (see {@link AtomicFiles#write(Path, IoConsumer)}): readers see the
     * previous file or the complete new one, never a partial file.
     *
     * @param file the file to create or replace; its directory must exist
     * @throws IOException if writing fails; {@code file} is then unchanged
     */
    public void writeTo(Path file) throws IOException {
        byte[] header = header();
        AtomicFiles.write(file, channel -> {
            ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            prefix.putLong(0, header.length);
            writeFully(channel, prefix);
            writeFully(channel, ByteBuffer.wrap(header));
            for (Entry entry : entries) {
                writeFully(channel, entry.data.duplicate());
            }
        });
    }

    /**
     * Writes a HuggingFace shard index {@value CheckpointFiles#INDEX_FILE} into {@code folder},
     * atomically:
     * {@code {"metadata": {"total_size": totalSize}, "weight_map": {"<tensor>": "<shard file>"}}}.
     *
     * @param folder the model folder, which must exist
     * @param weightMap tensor name to shard file name (for example
     *     {@code "model-00001-of-00002.safetensors"}), written in the map's iteration order
     * @param totalSize the sum of all tensors' byte lengths over all shards (see {@link #dataSize()})
     * @throws IllegalArgumentException if {@code totalSize} is negative
     * @throws IOException if writing fails; any previous index is then unchanged
     */
    public static void writeIndex(Path folder, Map<String, String> weightMap, long totalSize) throws IOException {
        Objects.requireNonNull(weightMap, "weightMap");
        if (totalSize < 0) {
            throw new IllegalArgumentException("totalSize must be >= 0, found " + totalSize);
        }
        ObjectNode root = INDEX_JSON.createObjectNode();
        root.putObject("metadata").put("total_size", totalSize);
        ObjectNode map = root.putObject("weight_map");
        weightMap.forEach((name, shard) -> map.put(Objects.requireNonNull(name, "tensor name"),
                Objects.requireNonNull(shard, "shard file name")));
        AtomicFiles.writeString(folder.resolve(CheckpointFiles.INDEX_FILE), INDEX_JSON.writeValueAsString(root) + "\n");
    }

    /** Builds the JSON header, space-padded so that {@code 8 + length} is a multiple of 8. */
    private byte[] header() throws JsonProcessingException {
        ObjectNode root = HeaderParser.JSON.createObjectNode();
        ObjectNode meta = root.putObject(HeaderParser.METADATA_KEY);
        metadata.forEach(meta::put);
        long offset = 0;
        for (Entry entry : entries) {
            ObjectNode tensor = root.putObject(entry.name);
            tensor.put("dtype", entry.dtype.name());
            ArrayNode shape = tensor.putArray("shape");
            for (long dim : entry.shape) {
                shape.add(dim);
            }
            long end = offset + entry.data.remaining();
            tensor.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json = HeaderParser.JSON.writeValueAsString(root).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
        byte[] header = Arrays.copyOf(json, padded);
        Arrays.fill(header, json.length, padded, (byte) ' ');
        return header;
    }

    private static void writeFully(FileChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    /** One tensor to write; {@code data} is a slice whose position is never moved. */
    private record Entry(String name, TensorDType dtype, long[] shape, ByteBuffer data) {
    }
}
