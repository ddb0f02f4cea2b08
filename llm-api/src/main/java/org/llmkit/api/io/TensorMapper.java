package org.llmkit.api.io;

import com.google.common.io.Closer;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Produces writable, little-endian copy-on-write views of byte ranges of one file.
 *
 * <p>{@link FileChannel#map} only allows {@link FileChannel.MapMode#PRIVATE} on a channel open
 * for reading and writing, so a read-write channel is opened on first use (it is never written
 * to). If that is refused, ranges are copied into direct buffers from the read-only channel.
 */
final class TensorMapper implements AutoCloseable {

    private final Path path;
    private final FileChannel readChannel;
    private FileChannel privateChannel;
    private boolean privateUnavailable;
    private boolean closed;

    /**
     * Creates a mapper that tries private mappings first.
     *
     * @param path the file, for opening the read-write channel and for messages
     * @param readChannel an open read-only channel on {@code path}; closed by {@link #close()}
     */
    TensorMapper(Path path, FileChannel readChannel) {
        this(path, readChannel, true);
    }

    /**
     * Creates a mapper, optionally never trying private mappings (tests use this to exercise the
     * copying path even when running with permission to write the file).
     *
     * @param path the file
     * @param readChannel an open read-only channel on {@code path}
     * @param tryPrivateMapping whether to try opening a read-write channel for private mappings
     */
    TensorMapper(Path path, FileChannel readChannel, boolean tryPrivateMapping) {
        this.path = path;
        this.readChannel = readChannel;
        this.privateUnavailable = !tryPrivateMapping;
    }

    /**
     * Returns a writable little-endian buffer over {@code [position, position + length)}.
     *
     * @param position absolute file offset, already validated against the header
     * @param length number of bytes
     * @return the mapped or copied bytes, position 0, limit {@code length}
     * @throws IOException if the file shrank below the range or the mapping fails
     */
    synchronized ByteBuffer map(long position, int length) throws IOException {
        if (closed) {
            throw new IllegalStateException(path + " is closed; map tensors before closing the file");
        }
        long size = readChannel.size();
        if (position + length > size) {
            throw new SafeTensorsFormatException(path, "truncated: bytes up to " + (position + length)
                    + " are needed but the file now has only " + size + "; it was modified after it was opened");
        }
        FileChannel channel = privateChannel();
        ByteBuffer buffer;
        if (channel != null) {
            buffer = channel.map(FileChannel.MapMode.PRIVATE, position, length);
        } else {
            buffer = ByteBuffer.allocateDirect(length);
            while (buffer.hasRemaining()) {
                if (readChannel.read(buffer, position + buffer.position()) < 0) {
                    throw new EOFException(path + ": unexpected end of file at byte " + (position + buffer.position()));
                }
            }
            buffer.flip();
        }
        return buffer.order(ByteOrder.LITTLE_ENDIAN);
    }

    private FileChannel privateChannel() {
        if (privateChannel == null && !privateUnavailable) {
            try {
                privateChannel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
            } catch (IOException | UnsupportedOperationException | SecurityException e) {
                privateUnavailable = true;
            }
        }
        return privateChannel;
    }

    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try (Closer closer = Closer.create()) {
            closer.register(readChannel);     // null-safe: Closer skips nulls
            closer.register(privateChannel);
        }
    }
}
