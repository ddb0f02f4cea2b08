package org.llmkit.data;

import com.github.luben.zstd.ZstdInputStream;

import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/** Opening source files: existence checks, folder expansion, gzip/zstd detection, strict UTF-8. */
final class SourceFiles {

    private static final int BUFFER = 1 << 16;

    private SourceFiles() {
    }

    /** Expands folders into their regular, non-hidden files (recursively, sorted) and checks each file. */
    static List<Path> expand(List<Path> paths, boolean recursive) throws IOException {
        if (paths.isEmpty()) {
            throw new IllegalArgumentException("no files given: pass at least one file or folder");
        }
        List<Path> files = new ArrayList<>();
        for (Path path : paths) {
            if (path == null) {
                throw new IllegalArgumentException("a path is null");
            }
            if (Files.isDirectory(path)) {
                List<Path> found;
                try (Stream<Path> walk = recursive ? Files.walk(path) : Files.list(path)) {
                    found = walk.filter(Files::isRegularFile)
                            .filter(p -> !isHidden(path.relativize(p)))
                            .sorted()
                            .toList();
                }
                if (found.isEmpty()) {
                    throw new NoSuchFileException(path.toString(), null, "folder has no files");
                }
                files.addAll(found);
            } else {
                files.add(path);
            }
        }
        for (Path file : files) {
            check(file);
        }
        return files;
    }

    private static boolean isHidden(Path relative) {
        for (Path part : relative) {
            if (part.toString().startsWith(".")) {
                return true;
            }
        }
        return false;
    }

    /** Checks that a file exists, is a readable regular file and is not empty. */
    static void check(Path file) throws IOException {
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toString(), null, "no such file");
        }
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + ": not a regular file");
        }
        if (!Files.isReadable(file)) {
            throw new AccessDeniedException(file.toString(), null, "file is not readable");
        }
        if (Files.size(file) == 0) {
            throw new DataFormatException(file, 0, DataFormatException.MALFORMED, "file is empty");
        }
    }

    /** Opens a file's decompressed bytes: gzip and zstd are recognised by their magic numbers. */
    static InputStream openDecompressed(Path file) throws IOException {
        return decompressed(Files.newInputStream(file));
    }

    /** Wraps raw bytes: gzip and zstd are recognised by their magic numbers; closes {@code raw} on failure. */
    static InputStream decompressed(InputStream raw) throws IOException {
        BufferedInputStream in = new BufferedInputStream(raw, BUFFER);
        try {
            in.mark(4);
            byte[] magic = in.readNBytes(4);
            in.reset();
            if (magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
                return new BufferedInputStream(new GZIPInputStream(in, BUFFER), BUFFER);
            }
            if (magic.length == 4 && (magic[0] & 0xff) == 0x28 && (magic[1] & 0xff) == 0xb5
                    && (magic[2] & 0xff) == 0x2f && (magic[3] & 0xff) == 0xfd) {
                return new BufferedInputStream(new ZstdInputStream(in), BUFFER);
            }
            return in;
        } catch (IOException | RuntimeException e) {
            in.close();
            throw e;
        }
    }

    /** Opens a file as strict UTF-8 text (malformed bytes fail with an exception naming the file). */
    static BufferedReader openReader(Path file) throws IOException {
        return reader(Files.newInputStream(file));
    }

    /** Decompresses raw bytes and decodes them as strict UTF-8. */
    static BufferedReader reader(InputStream raw) throws IOException {
        Reader reader = new InputStreamReader(decompressed(raw), StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT));
        return new BufferedReader(reader, BUFFER);
    }

    /** Expands paths into source files: each with its id, the path relative to the folder it was found under. */
    static List<FileDataset.SourceFile> sourceFiles(List<Path> paths, boolean recursive) throws IOException {
        List<FileDataset.SourceFile> out = new ArrayList<>();
        for (Path path : paths) {
            for (Path file : expand(List.of(path), recursive)) {
                out.add(new FileDataset.SourceFile(file,
                        Files.isDirectory(path) ? path.relativize(file).toString() : file.getFileName().toString()));
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("no files given: pass at least one file or folder");
        }
        return out;
    }

    /** The documents of several files in order, each file read by a format. */
    static DocumentStream concat(List<FileDataset.SourceFile> files, FileDataset.FileFormat format) {
        java.util.Iterator<FileDataset.SourceFile> next = files.iterator();
        return new DocumentStream() {
            private DocumentStream current;

            @Override
            public Document next() throws IOException {
                while (true) {
                    if (current == null) {
                        if (!next.hasNext()) {
                            return null;
                        }
                        FileDataset.SourceFile file = next.next();
                        current = format.read(file.path(), file.id(), Files.newInputStream(file.path()));
                    }
                    Document doc = current.next();
                    if (doc != null) {
                        return doc;
                    }
                    current.close();
                    current = null;
                }
            }

            @Override
            public void close() throws IOException {
                if (current != null) {
                    current.close();
                    current = null;
                }
            }
        };
    }

    /** Wraps a decoding failure with the file and line. */
    static IOException readFailure(Path file, long line, IOException e) {
        if (e instanceof DataFormatException) {
            return e;
        }
        String what = e instanceof java.nio.charset.CharacterCodingException ? "not valid UTF-8" : e.toString();
        return new IOException(file + (line > 0 ? ":" + line : "") + ": cannot read: " + what, e);
    }
}
