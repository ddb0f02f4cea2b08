package org.llmkit.api.io;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * One safetensors file: a validated header and memory-mapped access to each tensor's bytes.
 *
 * <p>Layout (from the <a href="https://github.com/huggingface/safetensors">spec</a>): "8 bytes:
 * N, an unsigned little-endian 64-bit integer, containing the size of the header; N bytes: a
 * JSON UTF-8 string representing the header; rest of the file: byte-buffer". {@link #open(Path)}
 * reads and validates the whole header (dtypes, shapes, offsets, truncation, overlaps) so that
 * later calls cannot meet a malformed file; tensor data is only touched when {@link #map(String)}
 * is called.
 *
 * <p>Mapped buffers are little-endian views of the tensor's raw bytes and are always writable:
 * writes go to private copy-on-write pages ({@link FileChannel.MapMode#PRIVATE}) and never reach
 * the file. Java can only create private mappings through a read-write channel, so the first
 * {@code map} call opens one; if the file cannot be opened for writing (read-only file or mount),
 * {@code map} instead reads the bytes into a new direct buffer, with the same observable result
 * but using memory for the copy. Mappings stay valid after {@link #close()}; they are released
 * when garbage collected.
 *
 * <p>Instances are safe for concurrent use by multiple threads.
 */
public final class SafeTensorsFile implements Closeable {

    /** The reference implementation's limit on the header length: 100 MB. */
    public static final long MAX_HEADER_LENGTH = 100_000_000L;

    private final Path path;
    private final Map<String, String> metadata;
    private final Map<String, TensorInfo> tensors;
    private final TensorMapper mapper;

    private SafeTensorsFile(Path path, HeaderParser.Header header, TensorMapper mapper) {
        this.path = path;
        this.metadata = header.metadata();
        this.tensors = header.tensors();
        this.mapper = mapper;
    }

    /**
     * Opens {@code file}, reading and validating its header; tensor bytes are mapped lazily.
     *
     * @param file a {@code .safetensors} file
     * @return the open file; close it to release the file handle
     * @throws SafeTensorsFormatException if the file is shorter than 8 bytes, the header length is
     *     absurd or beyond the end of the file, the header is not a JSON object, a tensor entry is
     *     incomplete or inconsistent (unknown dtype, negative dimension, reversed offsets, byte
     *     length not matching shape times dtype size), a tensor's data lies beyond the end of the
     *     file (truncated download), or two tensors overlap
     * @throws IOException if the file cannot be read
     */
    public static SafeTensorsFile open(Path file) throws IOException {
        Objects.requireNonNull(file, "file");
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
        try {
            HeaderParser.Header header = HeaderParser.parse(file, readHeader(file, channel), channel.size());
            return new SafeTensorsFile(file, header, new TensorMapper(file, channel));
        } catch (IOException | RuntimeException | Error e) {
            try {
                channel.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private static byte[] readHeader(Path file, FileChannel channel) throws IOException {
        long size = channel.size();
        if (size < 8) {
            throw new SafeTensorsFormatException(file, "file has only " + size + " bytes; a safetensors file starts "
                    + "with an 8-byte header length. The file is truncated or not a safetensors file");
        }
        ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(channel, prefix, 0);
        long length = prefix.getLong(0);
        if (length < 0 || length > MAX_HEADER_LENGTH) {
            throw new SafeTensorsFormatException(file, "header length " + Long.toUnsignedString(length)
                    + " is absurd (limit " + MAX_HEADER_LENGTH + " bytes); the first 8 bytes must be the "
                    + "little-endian JSON header length. This is not a safetensors file (a pickle "
                    + "pytorch_model.bin, a Git LFS pointer or a corrupt download?)");
        }
        if (length > size - 8) {
            throw new SafeTensorsFormatException(file, "header length " + length + " is larger than the "
                    + (size - 8) + " bytes after the length prefix (file size " + size + "); the file is truncated "
                    + "or not a safetensors file");
        }
        ByteBuffer header = ByteBuffer.allocate((int) length);
        readFully(channel, header, 8);
        return header.array();
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        long at = position;
        while (buffer.hasRemaining()) {
            int read = channel.read(buffer, at);
            if (read < 0) {
                throw new EOFException("unexpected end of file at byte " + at);
            }
            at += read;
        }
    }

    /**
     * Returns the file this instance reads.
     *
     * @return the path given to {@link #open(Path)}
     */
    public Path path() {
        return path;
    }

    /**
     * Returns the header's {@code "__metadata__"} entries, for example {@code {"format": "pt"}}.
     *
     * @return an unmodifiable map in header order, empty if the header has none
     */
    public Map<String, String> metadata() {
        return metadata;
    }

    /**
     * Returns the tensor names in file order: ascending data offset, which for files written by
     * the reference implementation or {@link SafeTensorsWriter} is also the header order.
     *
     * @return an unmodifiable, ordered set
     */
    public Set<String> names() {
        return tensors.keySet();
    }

    /**
     * Returns whether the file holds a tensor called {@code name}.
     *
     * @param name the tensor name
     * @return {@code true} if {@link #info(String)} would succeed
     */
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /**
     * Returns the dtype, shape and absolute byte range of tensor {@code name}.
     *
     * @param name the tensor name, for example {@code "model.norm.weight"}
     * @return the tensor's description
     * @throws IllegalArgumentException if there is no such tensor; the message names this file and
     *     lists up to five similar names
     */
    public TensorInfo info(String name) {
        TensorInfo info = tensors.get(name);
        if (info == null) {
            throw new IllegalArgumentException("no tensor \"" + name + "\" in " + path
                    + NameSuggestions.describe(name, tensors.keySet()));
        }
        return info;
    }

    /**
     * Maps all bytes of tensor {@code name}: {@code info(name).byteLength()} bytes, little-endian,
     * row-major, position 0, writable without affecting the file (see the class description).
     *
     * @param name the tensor name
     * @return a little-endian buffer over the tensor's bytes
     * @throws IllegalArgumentException if there is no such tensor, or it has 2 GiB
     *     ({@code Integer.MAX_VALUE} bytes) or more, which no {@link ByteBuffer} can hold; read such
     *     tensors in chunks with {@link #map(String, long, int)}
     * @throws IllegalStateException if this file is closed
     * @throws IOException if mapping fails or the file shrank since it was opened
     */
    public ByteBuffer map(String name) throws IOException {
        TensorInfo info = info(name);
        if (info.byteLength() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("tensor \"" + name + "\" in " + path + " has " + info.byteLength()
                    + " bytes, more than a ByteBuffer can hold (" + Integer.MAX_VALUE + "); read it in chunks "
                    + "with map(name, byteOffset, byteLength)");
        }
        return mapper.map(info.begin(), (int) info.byteLength());
    }

    /**
     * Maps {@code byteLength} bytes of tensor {@code name} starting {@code byteOffset} bytes into
     * the tensor, for chunked reading of tensors of 2 GiB or more. For a row-major tensor of shape
     * {@code [rows, cols]}, rows {@code [r0, r1)} start at {@code r0 * cols * dtype.byteSize()}.
     *
     * @param name the tensor name
     * @param byteOffset offset from the tensor's first byte, {@code >= 0}
     * @param byteLength number of bytes, {@code >= 0}, with
     *     {@code byteOffset + byteLength <= info(name).byteLength()}
     * @return a little-endian buffer over the region, writable without affecting the file
     * @throws IllegalArgumentException if there is no such tensor
     * @throws IndexOutOfBoundsException if the region is not inside the tensor
     * @throws IllegalStateException if this file is closed
     * @throws IOException if mapping fails or the file shrank since it was opened
     */
    public ByteBuffer map(String name, long byteOffset, int byteLength) throws IOException {
        TensorInfo info = info(name);
        if (byteOffset < 0 || byteLength < 0 || byteOffset > info.byteLength() - byteLength) {
            throw new IndexOutOfBoundsException("region [" + byteOffset + ", " + byteOffset + " + " + byteLength
                    + ") is outside tensor \"" + name + "\" in " + path + ", which has " + info.byteLength()
                    + " bytes; expected 0 <= byteOffset and byteOffset + byteLength <= " + info.byteLength());
        }
        return mapper.map(info.begin() + byteOffset, byteLength);
    }

    /**
     * Closes the file handles. Buffers already returned by {@code map} stay valid.
     *
     * @throws IOException if closing a channel fails
     */
    @Override
    public void close() throws IOException {
        mapper.close();
    }

    /**
     * Describes the file, for example {@code SafeTensorsFile[model.safetensors, 30 tensors]}.
     *
     * @return a readable description
     */
    @Override
    public String toString() {
        return "SafeTensorsFile[" + path + ", " + tensors.size() + " tensors]";
    }
}
