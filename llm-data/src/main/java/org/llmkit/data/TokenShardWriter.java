package org.llmkit.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.llmkit.api.io.AtomicFiles;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Writes fixed-length token sequences as packed shards plus {@code index.json}, the format that
 * {@link TokenDataset#open(Path)} reads (see {@link TokenDataset} for the layout).
 *
 * <p>Crash safety: opening the writer deletes an existing {@code index.json} (and old shards) of
 * the folder first; each shard is written to a hidden temporary file and renamed into place when
 * full; {@link #finish()} writes {@code index.json} last, atomically. {@link #close()} without
 * {@link #finish()} removes the unfinished shard, so the folder never looks complete. Not thread-safe.
 */
public final class TokenShardWriter implements AutoCloseable {

    /** The index file name. */
    public static final String INDEX_FILE = "index.json";
    /** The format name in the index. */
    public static final String FORMAT = "llmkit-token-shards";
    /** Default shard size limit: 256 MiB. */
    public static final long DEFAULT_SHARD_BYTES = 256L << 20;

    private final Path folder;
    private final int sequenceLength;
    private final int vocabSize;
    private final int separatorId;
    private final int bytesPerToken;
    private final long sequencesPerShard;
    private final List<ObjectNode> shards = new ArrayList<>();
    private final byte[] buffer;
    private PendingFile current;
    private MessageDigest digest;
    private long inShard;
    private long sequences;
    private boolean finished;

    private TokenShardWriter(Path folder, int sequenceLength, int vocabSize, int separatorId, long shardBytes) {
        this.folder = folder;
        this.sequenceLength = sequenceLength;
        this.vocabSize = vocabSize;
        this.separatorId = separatorId;
        this.bytesPerToken = vocabSize <= 65_536 ? 2 : 4;
        long perSequence = (long) sequenceLength * bytesPerToken;
        this.sequencesPerShard = Math.max(1, shardBytes / perSequence);
        this.buffer = new byte[Math.toIntExact(perSequence)];
    }

    /**
     * Creates a writer with 256 MiB shards.
     *
     * @param folder the output folder; created if absent
     * @param sequenceLength tokens per sequence, at least 1
     * @param vocabSize the vocabulary size, at least 1; every id must be below it
     * @param separatorId the id written between documents when packing (recorded in the index), or -1
     * @return the writer
     * @throws IOException when the folder cannot be prepared
     */
    public static TokenShardWriter create(Path folder, int sequenceLength, int vocabSize, int separatorId)
            throws IOException {
        return create(folder, sequenceLength, vocabSize, separatorId, DEFAULT_SHARD_BYTES);
    }

    /**
     * Creates a writer.
     *
     * @param folder the output folder; created if absent
     * @param sequenceLength tokens per sequence, at least 1
     * @param vocabSize the vocabulary size, at least 1
     * @param separatorId the separator id recorded in the index, or -1
     * @param shardBytes the largest shard size in bytes, from one sequence up to 2 GiB - 1
     * @return the writer
     * @throws IOException when the folder cannot be prepared
     */
    public static TokenShardWriter create(Path folder, int sequenceLength, int vocabSize, int separatorId,
                                          long shardBytes) throws IOException {
        if (sequenceLength < 1) {
            throw new IllegalArgumentException("sequenceLength must be at least 1, was " + sequenceLength);
        }
        if (vocabSize < 1) {
            throw new IllegalArgumentException("vocabSize must be at least 1, was " + vocabSize);
        }
        if (separatorId < -1 || separatorId >= vocabSize) {
            throw new IllegalArgumentException("separatorId must be -1 or in [0, " + vocabSize + "), was " + separatorId);
        }
        long perSequence = (long) sequenceLength * (vocabSize <= 65_536 ? 2 : 4);
        if (shardBytes < perSequence || shardBytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("shardBytes must be in [" + perSequence + " (one sequence), "
                    + Integer.MAX_VALUE + "], was " + shardBytes);
        }
        Files.createDirectories(folder);
        Files.deleteIfExists(folder.resolve(INDEX_FILE));
        try (DirectoryStream<Path> old = Files.newDirectoryStream(folder, "tokens-*.bin")) {
            for (Path file : old) {
                Files.delete(file);
            }
        }
        return new TokenShardWriter(folder, sequenceLength, vocabSize, separatorId, shardBytes);
    }

    /**
     * Appends one sequence.
     *
     * @param tokens exactly {@code sequenceLength} ids, each in [0, vocabSize)
     * @throws IOException when writing fails
     */
    public void add(int[] tokens) throws IOException {
        if (finished) {
            throw new IllegalStateException("writer for " + folder + " is finished");
        }
        if (tokens.length != sequenceLength) {
            throw new IllegalArgumentException("sequence has " + tokens.length + " tokens, expected " + sequenceLength);
        }
        for (int t = 0; t < tokens.length; t++) {
            int id = tokens[t];
            if (id < 0 || id >= vocabSize) {
                throw new IllegalArgumentException("token " + t + " of sequence " + sequences + " is " + id
                        + ", outside the vocabulary [0, " + vocabSize + ")");
            }
            if (bytesPerToken == 2) {
                buffer[2 * t] = (byte) id;
                buffer[2 * t + 1] = (byte) (id >>> 8);
            } else {
                buffer[4 * t] = (byte) id;
                buffer[4 * t + 1] = (byte) (id >>> 8);
                buffer[4 * t + 2] = (byte) (id >>> 16);
                buffer[4 * t + 3] = (byte) (id >>> 24);
            }
        }
        if (current == null) {
            current = new PendingFile(folder.resolve(String.format("tokens-%05d.bin", shards.size())));
            digest = sha256();
            inShard = 0;
        }
        OutputStream out = current.stream();
        out.write(buffer);
        digest.update(buffer);
        inShard++;
        sequences++;
        if (inShard == sequencesPerShard) {
            closeShard();
        }
    }

    private void closeShard() throws IOException {
        long bytes = current.bytesWritten();
        current.commit();
        ObjectNode shard = JSON.createObjectNode();
        shard.put("file", current.target().getFileName().toString());
        shard.put("sequences", inShard);
        shard.put("bytes", bytes);
        shard.put("sha256", HexFormat.of().formatHex(digest.digest()));
        shards.add(shard);
        current = null;
    }

    /**
     * Returns the number of sequences written so far.
     *
     * @return the count
     */
    public long sequences() {
        return sequences;
    }

    /**
     * Completes the last shard and writes {@code index.json}.
     *
     * @return the folder
     * @throws IOException when writing fails
     */
    public Path finish() throws IOException {
        if (finished) {
            return folder;
        }
        if (current != null) {
            closeShard();
        }
        ObjectNode index = JSON.createObjectNode();
        index.put("format", FORMAT);
        index.put("version", 1);
        index.put("dtype", bytesPerToken == 2 ? "uint16" : "uint32");
        index.put("vocab_size", vocabSize);
        index.put("sequence_length", sequenceLength);
        index.put("sequences", sequences);
        index.put("tokens", sequences * sequenceLength);
        index.put("separator_token_id", separatorId);
        ArrayNode list = index.putArray("shards");
        shards.forEach(list::add);
        AtomicFiles.writeString(folder.resolve(INDEX_FILE), JSON.writeValueAsString(index) + "\n");
        finished = true;
        return folder;
    }

    /** Abandons an unfinished shard (its temporary file is deleted); does nothing after {@link #finish()}. */
    @Override
    public void close() throws IOException {
        if (current != null) {
            current.close();
            current = null;
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
    }

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
}
