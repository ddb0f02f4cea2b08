package org.llmkit.train;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.CRC32;

/** Checksums and fsync for checkpoint files. */
final class FileChecks {
    private FileChecks() { }

    static long crc32(Path f) throws IOException {
        CRC32 crc = new CRC32();
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(f)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                crc.update(buf, 0, n);
            }
        }
        return crc.getValue();
    }

    static void verify(Path dir, String relative, long bytes, long crc) throws IOException {
        Path f = dir.resolve(relative);
        if (!Files.isRegularFile(f)) {
            throw new IOException("checkpoint " + dir + " is incomplete: " + relative + " is missing");
        }
        long size = Files.size(f);
        if (size != bytes) {
            throw new IOException("checkpoint " + dir + " is truncated or corrupt: " + relative + " has " + size
                    + " bytes, expected " + bytes + "; resume from an earlier checkpoint");
        }
        if (crc32(f) != crc) {
            throw new IOException("checkpoint " + dir + " is corrupt: " + relative
                    + " fails its CRC-32 check; resume from an earlier checkpoint");
        }
    }

    /** Forces every file and folder under {@code root} to disk. */
    static void syncTree(Path root) throws IOException {
        List<Path> all;
        try (Stream<Path> s = Files.walk(root)) {
            all = s.toList();
        }
        for (Path p : all) {
            sync(p);
        }
    }

    static void sync(Path p) throws IOException {
        if (Files.isDirectory(p)) {
            // directories open read-only on Linux; fsync makes the new entries durable
            try (FileChannel c = FileChannel.open(p, StandardOpenOption.READ)) {
                c.force(true);
            }
            return;
        }
        try (FileChannel c = FileChannel.open(p, StandardOpenOption.WRITE)) {
            c.force(true);
        }
    }
}
