package org.llmkit.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.OptionalInt;

/**
 * Packed token shards on disk (format: see {@link TokenDataset}), memory-mapped read-only: opening
 * costs one map per shard, and only the pages of sequences read are brought into memory.
 * Thread-safe. {@link #close()} drops the maps (the JVM unmaps them when they are collected).
 */
public final class ShardedTokenDataset implements TokenDataset {

    private final Path folder;
    private final int sequenceLength;
    private final int vocabSize;
    private final int bytesPerToken;
    private final int separatorId;
    private final long[] firstSequence; // per shard, plus the total at the end
    private final List<Path> files;
    private final List<String> sha256;
    private volatile MappedByteBuffer[] maps;

    private ShardedTokenDataset(Path folder, int sequenceLength, int vocabSize, int bytesPerToken, int separatorId,
                                long[] firstSequence, List<Path> files, List<String> sha256, MappedByteBuffer[] maps) {
        this.folder = folder;
        this.sequenceLength = sequenceLength;
        this.vocabSize = vocabSize;
        this.bytesPerToken = bytesPerToken;
        this.separatorId = separatorId;
        this.firstSequence = firstSequence;
        this.files = files;
        this.sha256 = sha256;
        this.maps = maps;
    }

    static ShardedTokenDataset open(Path folder) throws IOException {
        Path indexFile = folder.resolve(TokenShardWriter.INDEX_FILE);
        if (!Files.isRegularFile(indexFile)) {
            throw new NoSuchFileException(indexFile.toString(), null,
                    "no " + TokenShardWriter.INDEX_FILE + ": not a token dataset, or its writing did not finish");
        }
        JsonNode index;
        try {
            index = new ObjectMapper().readTree(indexFile.toFile());
        } catch (IOException e) {
            throw new IOException(indexFile + ": not valid JSON: " + e.getMessage(), e);
        }
        if (!TokenShardWriter.FORMAT.equals(index.path("format").asText())) {
            throw new IOException(indexFile + ": format is \"" + index.path("format").asText() + "\", expected \""
                    + TokenShardWriter.FORMAT + "\"");
        }
        if (index.path("version").asInt() != 1) {
            throw new IOException(indexFile + ": version " + index.path("version") + " is not supported; this reader "
                    + "reads version 1");
        }
        String dtype = index.path("dtype").asText();
        int bytesPerToken = switch (dtype) {
            case "uint16" -> 2;
            case "uint32" -> 4;
            default -> throw new IOException(indexFile + ": dtype \"" + dtype + "\" is not uint16 or uint32");
        };
        int sequenceLength = positive(index, "sequence_length", indexFile);
        int vocabSize = positive(index, "vocab_size", indexFile);
        JsonNode shardList = index.path("shards");
        long[] first = new long[shardList.size() + 1];
        List<Path> files = new ArrayList<>();
        List<String> sums = new ArrayList<>();
        MappedByteBuffer[] maps = new MappedByteBuffer[shardList.size()];
        for (int s = 0; s < shardList.size(); s++) {
            JsonNode shard = shardList.get(s);
            String name = shard.path("file").asText();
            if (name.isEmpty() || name.contains("/") || name.contains("\\")) {
                throw new IOException(indexFile + ": shard " + s + " has an invalid file name \"" + name + "\"");
            }
            Path file = folder.resolve(name);
            long count = shard.path("sequences").asLong(-1);
            long expected = count * sequenceLength * bytesPerToken;
            if (count < 0 || shard.path("bytes").asLong(-1) != expected) {
                throw new IOException(indexFile + ": shard " + name + " lists " + shard.path("bytes") + " bytes for "
                        + count + " sequences; expected " + expected);
            }
            if (!Files.isRegularFile(file)) {
                throw new NoSuchFileException(file.toString(), null, "shard listed in " + indexFile + " is missing");
            }
            long actual = Files.size(file);
            if (actual != expected) {
                throw new IOException(file + ": " + actual + " bytes, but " + indexFile + " lists " + expected
                        + " (truncated or replaced shard)");
            }
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                maps[s] = channel.map(FileChannel.MapMode.READ_ONLY, 0, actual);
                maps[s].order(ByteOrder.LITTLE_ENDIAN);
            }
            first[s + 1] = first[s] + count;
            files.add(file);
            sums.add(shard.path("sha256").asText());
        }
        long total = index.path("sequences").asLong(-1);
        if (total != first[first.length - 1]) {
            throw new IOException(indexFile + ": \"sequences\" is " + total + " but the shards hold "
                    + first[first.length - 1]);
        }
        return new ShardedTokenDataset(folder, sequenceLength, vocabSize, bytesPerToken,
                index.path("separator_token_id").asInt(-1), first, List.copyOf(files), List.copyOf(sums), maps);
    }

    private static int positive(JsonNode index, String field, Path file) throws IOException {
        int value = index.path(field).asInt(0);
        if (value < 1) {
            throw new IOException(file + ": \"" + field + "\" must be a positive integer, was " + index.path(field));
        }
        return value;
    }

    @Override
    public long size() {
        return firstSequence[firstSequence.length - 1];
    }

    @Override
    public int[] get(long index) {
        if (index < 0 || index >= size()) {
            throw new IndexOutOfBoundsException("sequence " + index + " is outside [0, " + size() + ")");
        }
        MappedByteBuffer[] mapped = maps;
        if (mapped == null) {
            throw new IllegalStateException("token dataset " + folder + " is closed");
        }
        int shard = Arrays.binarySearch(firstSequence, index);
        shard = shard >= 0 ? shard : -shard - 2;
        while (firstSequence[shard + 1] == firstSequence[shard]) {
            shard++; // skip empty shards
        }
        MappedByteBuffer map = mapped[shard];
        int offset = Math.toIntExact((index - firstSequence[shard]) * sequenceLength * bytesPerToken);
        int[] out = new int[sequenceLength];
        if (bytesPerToken == 2) {
            for (int t = 0; t < sequenceLength; t++) {
                out[t] = map.getShort(offset + 2 * t) & 0xffff;
            }
        } else {
            for (int t = 0; t < sequenceLength; t++) {
                out[t] = map.getInt(offset + 4 * t);
            }
        }
        return out;
    }

    @Override
    public OptionalInt sequenceLength() {
        return OptionalInt.of(sequenceLength);
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public long tokenCount() {
        return size() * sequenceLength;
    }

    /**
     * Returns the id written between packed documents.
     *
     * @return the id, or -1 when none was recorded
     */
    public int separatorTokenId() {
        return separatorId;
    }

    /**
     * Returns the folder.
     *
     * @return the folder holding {@code index.json}
     */
    public Path folder() {
        return folder;
    }

    /**
     * Recomputes every shard's SHA-256 and compares it with the index (reads all bytes).
     *
     * @throws IOException naming the first shard whose checksum differs
     */
    public void verify() throws IOException {
        for (int s = 0; s < files.size(); s++) {
            MessageDigest digest;
            try {
                digest = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
            try (InputStream in = Files.newInputStream(files.get(s))) {
                byte[] buffer = new byte[1 << 16];
                for (int n; (n = in.read(buffer)) > 0; ) {
                    digest.update(buffer, 0, n);
                }
            }
            String actual = HexFormat.of().formatHex(digest.digest());
            if (!actual.equals(sha256.get(s))) {
                throw new IOException(files.get(s) + ": SHA-256 is " + actual + ", index.json lists " + sha256.get(s)
                        + " (corrupt shard)");
            }
        }
    }

    @Override
    public void close() {
        maps = null;
    }

    @Override
    public String toString() {
        return "TokenDataset[" + size() + " × " + sequenceLength + " tokens in " + folder + "]";
    }
}
