package org.llmkit.api.io;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes files so that readers see either the previous complete content or the new complete
 * content, never a partial file.
 *
 * <p>Recipe: write to a hidden temporary file {@code .<name>.<random>.tmp} in the target's own
 * directory (so the final rename never crosses file systems), {@link FileChannel#force(boolean)
 * fsync} it, then {@link Files#move} it over the target with {@link StandardCopyOption#ATOMIC_MOVE}
 * and {@link StandardCopyOption#REPLACE_EXISTING}, and finally fsync the directory where the
 * platform allows. If the body or any step fails, the temporary file is deleted and the target is
 * left untouched. The new file gets the platform's default permissions (as if created by
 * {@link Files#newOutputStream}); the old file's permissions are not copied.
 */
public final class AtomicFiles {

    private AtomicFiles() {
    }

    /**
     * Atomically replaces (or creates) {@code target} with what {@code body} writes to a channel.
     *
     * <p>The channel is positioned at 0 and open for writing; the body must not close it. The
     * parent directory must already exist.
     *
     * @param target the file to create or replace
     * @param body writes the complete new content
     * @throws IOException if the body or the file system fails; the target is then unchanged and
     *     no temporary file remains
     */
    public static void write(Path target, IoConsumer<FileChannel> body) throws IOException {
        Objects.requireNonNull(body, "body");
        Path absolute = target.toAbsolutePath();
        Path dir = absolute.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new IOException("cannot write " + target + ": parent directory " + dir
                    + " does not exist; create it first");
        }
        Path temp = createTemp(dir, absolute.getFileName().toString());
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                body.accept(channel);
                channel.force(true);
            }
            move(temp, absolute);
        } catch (IOException | RuntimeException | Error e) {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
        syncDirectory(dir);
    }

    /**
     * Atomically replaces (or creates) {@code target} with what {@code body} writes to a buffered
     * stream; see {@link #write(Path, IoConsumer)}.
     *
     * <p>The stream is flushed after the body returns; the body must not close it.
     *
     * @param target the file to create or replace
     * @param body writes the complete new content
     * @throws IOException if the body or the file system fails; the target is then unchanged
     */
    public static void writeStream(Path target, IoConsumer<OutputStream> body) throws IOException {
        Objects.requireNonNull(body, "body");
        write(target, channel -> {
            OutputStream out = new BufferedOutputStream(Channels.newOutputStream(channel), 1 << 16);
            body.accept(out);
            out.flush();
        });
    }

    /**
     * Atomically replaces (or creates) {@code target} with {@code content} encoded as UTF-8, for
     * example a {@code config.json}.
     *
     * @param target the file to create or replace
     * @param content the complete new text
     * @throws IOException if the file system fails; the target is then unchanged
     */
    public static void writeString(Path target, String content) throws IOException {
        byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
        writeStream(target, out -> out.write(bytes));
    }

    private static Path createTemp(Path dir, String name) throws IOException {
        for (int attempt = 0; ; attempt++) {
            String suffix = Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
            Path temp = dir.resolve("." + name + "." + suffix + ".tmp");
            try {
                return Files.createFile(temp);
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 100) {
                    throw e;
                }
            }
        }
    }

    private static void move(Path temp, Path target) throws IOException {
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("cannot replace " + target + " atomically: the file system does not support "
                    + "atomic renames within " + target.getParent() + "; write to a local file system instead", e);
        }
    }

    /** Makes the rename durable; ignored where directories cannot be opened (for example Windows). */
    private static void syncDirectory(Path dir) {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // Best effort only: the rename itself is already atomic; durability of the directory
            // entry is not available on every platform.
        }
    }
}
