package org.llmkit.api.io;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.google.common.io.Closer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * The safetensors weights of a HuggingFace model folder, sharded or not, behind one name space.
 *
 * <p>{@link #open(Path)} picks the files the way HuggingFace loaders do:
 * <ol>
 *   <li>{@value #INDEX_FILE} if present: its {@code "weight_map"} (tensor name to shard file
 *       name, for example {@code "model-00001-of-00002.safetensors"}) decides which shard holds
 *       each tensor; tensors a shard holds but the index does not list are not exposed;</li>
 *   <li>otherwise {@value #SINGLE_FILE};</li>
 *   <li>otherwise the only {@code *.safetensors} file, if there is exactly one.</li>
 * </ol>
 * Every shard is opened and validated up front (see {@link SafeTensorsFile#open(Path)}), so a
 * missing or truncated shard fails at open time rather than halfway through loading.
 *
 * <p>Instances are safe for concurrent use by multiple threads.
 */
public final class CheckpointFiles implements AutoCloseable {

    /** File name of the shard index: {@value}. */
    public static final String INDEX_FILE = "model.safetensors.index.json";

    /** File name of an unsharded checkpoint: {@value}. */
    public static final String SINGLE_FILE = "model.safetensors";

    private static final String EXTENSION = ".safetensors";

    private final Path folder;
    private final List<SafeTensorsFile> files;
    private final Map<String, SafeTensorsFile> fileByTensor;

    private CheckpointFiles(Path folder, List<SafeTensorsFile> files, Map<String, SafeTensorsFile> fileByTensor) {
        this.folder = folder;
        this.files = List.copyOf(files);
        this.fileByTensor = Collections.unmodifiableMap(fileByTensor);
    }

    /**
     * Returns whether {@code folder} holds a checkpoint {@link #open(Path)} can pick: an index, a
     * {@value #SINGLE_FILE}, or exactly one {@code *.safetensors} file. Never throws.
     *
     * @param folder a model folder
     * @return {@code true} if {@code open(folder)} would find files to open
     */
    public static boolean exists(Path folder) {
        if (folder == null || !Files.isDirectory(folder)) {
            return false;
        }
        if (Files.isRegularFile(folder.resolve(INDEX_FILE)) || Files.isRegularFile(folder.resolve(SINGLE_FILE))) {
            return true;
        }
        try {
            return listSafeTensors(folder).size() == 1;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Opens the checkpoint in {@code folder}, validating every file it uses.
     *
     * @param folder a HuggingFace model folder
     * @return the open checkpoint; close it to release all file handles
     * @throws SafeTensorsFormatException if the index is malformed, names a shard that does not
     *     exist, or lists a tensor its shard lacks, or if any file is malformed
     * @throws java.nio.file.NoSuchFileException if the folder holds no usable safetensors file
     * @throws IOException if a file cannot be read
     */
    public static CheckpointFiles open(Path folder) throws IOException {
        Objects.requireNonNull(folder, "folder");
        if (!Files.isDirectory(folder)) {
            throw new java.nio.file.NoSuchFileException(folder.toString(), null,
                    "not a directory; expected a HuggingFace model folder with " + SINGLE_FILE + " or " + INDEX_FILE);
        }
        Path index = folder.resolve(INDEX_FILE);
        if (Files.isRegularFile(index)) {
            return openSharded(folder, index);
        }
        Path single = folder.resolve(SINGLE_FILE);
        if (!Files.isRegularFile(single)) {
            List<Path> candidates = listSafeTensors(folder);
            if (candidates.isEmpty()) {
                throw new java.nio.file.NoSuchFileException(folder.toString(), null, "no " + SINGLE_FILE + " or "
                        + INDEX_FILE + " in " + folder + "; download the model's safetensors weights (a folder "
                        + "with only pytorch_model.bin must be converted first)");
            }
            if (candidates.size() > 1) {
                throw new java.nio.file.NoSuchFileException(folder.toString(), null, "no " + SINGLE_FILE + " or "
                        + INDEX_FILE + " in " + folder + ", and " + candidates.size() + " *.safetensors files "
                        + fileNames(candidates) + " are ambiguous; add " + INDEX_FILE + " or keep only one");
            }
            single = candidates.get(0);
        }
        SafeTensorsFile file = SafeTensorsFile.open(single);
        Map<String, SafeTensorsFile> byTensor = new LinkedHashMap<>();
        for (String name : file.names()) {
            byTensor.put(name, file);
        }
        return new CheckpointFiles(folder, List.of(file), byTensor);
    }

    private static CheckpointFiles openSharded(Path folder, Path index) throws IOException {
        Map<String, String> weightMap = readWeightMap(index);
        Map<String, SafeTensorsFile> shards = new TreeMap<>();
        try {
            Map<String, SafeTensorsFile> byTensor = new LinkedHashMap<>();
            for (Map.Entry<String, String> entry : weightMap.entrySet()) {
                String shardName = entry.getValue();
                SafeTensorsFile shard = shards.get(shardName);
                if (shard == null) {
                    shard = SafeTensorsFile.open(shardPath(folder, index, entry.getKey(), shardName));
                    shards.put(shardName, shard);
                }
                if (!shard.contains(entry.getKey())) {
                    throw new SafeTensorsFormatException(index, "weight_map puts tensor \"" + entry.getKey()
                            + "\" in " + shardName + ", but that shard has no such tensor"
                            + NameSuggestions.describe(entry.getKey(), shard.names())
                            + ". The index and shards come from different versions of the model; download both again");
                }
                byTensor.put(entry.getKey(), shard);
            }
            return new CheckpointFiles(folder, new ArrayList<>(shards.values()), byTensor);
        } catch (IOException | RuntimeException | Error e) {
            for (SafeTensorsFile shard : shards.values()) {
                try {
                    shard.close();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    private static Map<String, String> readWeightMap(Path index) throws IOException {
        JsonNode root;
        try {
            root = HeaderParser.JSON.readTree(index.toFile());
        } catch (JacksonException e) {
            throw new SafeTensorsFormatException(index, "not valid JSON (" + e.getOriginalMessage() + ")", e);
        }
        JsonNode weights = root == null ? null : root.get("weight_map");
        if (weights == null || !weights.isObject()) {
            throw new SafeTensorsFormatException(index, "has no \"weight_map\" object; expected "
                    + "{\"metadata\": {...}, \"weight_map\": {\"<tensor name>\": \"<shard file name>\", ...}}");
        }
        Map<String, String> weightMap = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> entry : weights.properties()) {
            if (!entry.getValue().isTextual()) {
                throw new SafeTensorsFormatException(index, "weight_map entry \"" + entry.getKey() + "\" is "
                        + entry.getValue() + "; expected the name of a shard file such as "
                        + "\"model-00001-of-00002.safetensors\"");
            }
            weightMap.put(entry.getKey(), entry.getValue().textValue());
        }
        if (weightMap.isEmpty()) {
            throw new SafeTensorsFormatException(index, "weight_map is empty; expected at least one tensor");
        }
        return weightMap;
    }

    private static Path shardPath(Path folder, Path index, String tensor, String shardName)
            throws SafeTensorsFormatException {
        if (shardName.isEmpty() || shardName.contains("/") || shardName.contains("\\")
                || shardName.equals(".") || shardName.equals("..")) {
            throw new SafeTensorsFormatException(index, "weight_map puts tensor \"" + tensor + "\" in \"" + shardName
                    + "\"; expected a plain file name inside " + folder);
        }
        Path shard = folder.resolve(shardName);
        if (!Files.isRegularFile(shard)) {
            throw new SafeTensorsFormatException(index, "weight_map puts tensor \"" + tensor + "\" in shard "
                    + shardName + ", but " + shard + " does not exist; the download is incomplete, fetch the "
                    + "missing shard");
        }
        return shard;
    }

    private static List<Path> listSafeTensors(Path folder) throws IOException {
        List<Path> found = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(folder, "*" + EXTENSION)) {
            for (Path path : stream) {
                if (Files.isRegularFile(path)) {
                    found.add(path);
                }
            }
        }
        Collections.sort(found);
        return found;
    }

    private static List<String> fileNames(List<Path> paths) {
        List<String> names = new ArrayList<>();
        for (Path path : paths) {
            names.add(path.getFileName().toString());
        }
        return names;
    }

    /**
     * Returns the model folder.
     *
     * @return the folder given to {@link #open(Path)}
     */
    public Path folder() {
        return folder;
    }

    /**
     * Returns the open files, sorted by file name (so {@code model-00001-of-...} comes first).
     *
     * @return an unmodifiable list of one or more files
     */
    public List<SafeTensorsFile> files() {
        return files;
    }

    /**
     * Returns every tensor name: the index's {@code weight_map} order when sharded, else file order.
     *
     * @return an unmodifiable, ordered set
     */
    public Set<String> names() {
        return fileByTensor.keySet();
    }

    /**
     * Returns whether the checkpoint has a tensor called {@code name}.
     *
     * @param name the tensor name
     * @return {@code true} if {@link #info(String)} would succeed
     */
    public boolean contains(String name) {
        return fileByTensor.containsKey(name);
    }

    /**
     * Returns the dtype, shape and byte range of tensor {@code name}; the offsets are absolute in
     * {@link #fileOf(String)}.
     *
     * @param name the tensor name
     * @return the tensor's description
     * @throws IllegalArgumentException if there is no such tensor; the message lists similar names
     */
    public TensorInfo info(String name) {
        return fileFor(name).info(name);
    }

    /**
     * Returns the file that holds tensor {@code name}.
     *
     * @param name the tensor name
     * @return the shard's path
     * @throws IllegalArgumentException if there is no such tensor
     */
    public Path fileOf(String name) {
        return fileFor(name).path();
    }

    /**
     * Maps all bytes of tensor {@code name}; see {@link SafeTensorsFile#map(String)}.
     *
     * @param name the tensor name
     * @return a writable little-endian buffer over the tensor's bytes (writes never reach the file)
     * @throws IllegalArgumentException if there is no such tensor or it has 2 GiB or more; use
     *     {@link #map(String, long, int)} for those
     * @throws IOException if mapping fails
     */
    public ByteBuffer map(String name) throws IOException {
        return fileFor(name).map(name);
    }

    /**
     * Maps a region of tensor {@code name}; see {@link SafeTensorsFile#map(String, long, int)}.
     *
     * @param name the tensor name
     * @param byteOffset offset from the tensor's first byte
     * @param byteLength number of bytes
     * @return a writable little-endian buffer over the region
     * @throws IllegalArgumentException if there is no such tensor
     * @throws IndexOutOfBoundsException if the region is not inside the tensor
     * @throws IOException if mapping fails
     */
    public ByteBuffer map(String name, long byteOffset, int byteLength) throws IOException {
        return fileFor(name).map(name, byteOffset, byteLength);
    }

    /**
     * Returns the {@code "__metadata__"} of the first file (by name), for example
     * {@code {"format": "pt"}}.
     *
     * @return an unmodifiable map, possibly empty
     */
    public Map<String, String> metadata() {
        return files.get(0).metadata();
    }

    /**
     * Closes every file. Buffers already returned by {@code map} stay valid.
     *
     * @throws IOException if closing fails; later files are still closed
     */
    @Override
    public void close() throws IOException {
        try (Closer closer = Closer.create()) {
            files.forEach(closer::register);
        }
    }

    /**
     * Describes the checkpoint, for example {@code CheckpointFiles[/models/llama, 2 files, 291 tensors]}.
     *
     * @return a readable description
     */
    @Override
    public String toString() {
        return "CheckpointFiles[" + folder + ", " + files.size() + " files, " + fileByTensor.size() + " tensors]";
    }

    private SafeTensorsFile fileFor(String name) {
        SafeTensorsFile file = fileByTensor.get(name);
        if (file == null) {
            throw new IllegalArgumentException("no tensor \"" + name + "\" in checkpoint " + folder
                    + NameSuggestions.describe(name, fileByTensor.keySet()));
        }
        return file;
    }
}
