package org.llmkit.data;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A file written over a long run that appears only when complete: bytes go to a hidden
 * {@code .<name>.<random>.tmp} in the same folder; {@link #commit()} fsyncs it and renames it
 * atomically over the target; {@link #close()} without a commit deletes it. This is the recipe of
 * llm-api's {@code AtomicFiles}, for a stream kept open across many batches.
 */
final class PendingFile implements AutoCloseable {

    private final Path target;
    private final Path temp;
    private final FileChannel channel;
    private final OutputStream out;
    private long bytes;
    private boolean done;

    PendingFile(Path target) throws IOException {
        this.target = target.toAbsolutePath();
        Path dir = this.target.getParent();
        String suffix = Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
        this.temp = dir.resolve("." + this.target.getFileName() + "." + suffix + ".tmp");
        this.channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        this.out = new BufferedOutputStream(Channels.newOutputStream(channel), 1 << 16) {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                super.write(b, off, len);
                bytes += len;
            }

            @Override
            public void write(int b) throws IOException {
                super.write(b);
                bytes++;
            }
        };
    }

    OutputStream stream() {
        return out;
    }

    long bytesWritten() {
        return bytes;
    }

    Path target() {
        return target;
    }

    /** Flushes, fsyncs and renames the file into place. */
    void commit() throws IOException {
        out.flush();
        channel.force(true);
        channel.close();
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
        }
        done = true;
    }

    /** Deletes the temporary file unless committed. */
    @Override
    public void close() throws IOException {
        if (!done) {
            done = true;
            try {
                channel.close();
            } finally {
                Files.deleteIfExists(temp);
            }
        }
    }
}
