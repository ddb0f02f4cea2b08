package org.llmkit.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Plain UTF-8 text files, optionally gzip- or zstd-compressed: one document per file (id: the path
 * relative to the folder it was found in, or the file name), or with {@link #perLine()} one per
 * non-blank line (id: {@code <file>:<line>}). Immutable.
 */
public final class TextDataset implements Dataset {

    private final List<Path> paths;
    private final boolean perLine;

    TextDataset(List<Path> paths, boolean perLine) {
        this.paths = paths;
        this.perLine = perLine;
    }

    /**
     * Returns this dataset with one document per non-blank line instead of one per file.
     *
     * @return the new dataset
     */
    public TextDataset perLine() {
        return new TextDataset(paths, true);
    }

    @Override
    public DocumentStream open() throws IOException {
        List<Path> files = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        for (Path path : paths) {
            List<Path> found = SourceFiles.expand(List.of(path), true);
            for (Path file : found) {
                files.add(file);
                ids.add(Files.isDirectory(path) ? path.relativize(file).toString() : file.getFileName().toString());
            }
        }
        return perLine ? new LineStream(files.iterator(), ids.iterator()) : new FileStream(files.iterator(), ids.iterator());
    }

    @Override
    public String describe() {
        return "text" + paths + (perLine ? " per line" : " per file");
    }

    private static final class FileStream implements DocumentStream {
        private final Iterator<Path> files;
        private final Iterator<String> ids;

        FileStream(Iterator<Path> files, Iterator<String> ids) {
            this.files = files;
            this.ids = ids;
        }

        @Override
        public Document next() throws IOException {
            if (!files.hasNext()) {
                return null;
            }
            Path file = files.next();
            String id = ids.next();
            StringBuilder text = new StringBuilder();
            char[] buffer = new char[1 << 14];
            try (BufferedReader reader = SourceFiles.openReader(file)) {
                for (int n; (n = reader.read(buffer)) >= 0; ) {
                    text.append(buffer, 0, n);
                }
            } catch (IOException e) {
                throw SourceFiles.readFailure(file, 0, e);
            }
            return Document.of(id, text.toString());
        }

        @Override
        public void close() {
        }
    }

    private static final class LineStream implements DocumentStream {
        private final Iterator<Path> files;
        private final Iterator<String> ids;
        private BufferedReader reader;
        private Path file;
        private String fileId;
        private long line;

        LineStream(Iterator<Path> files, Iterator<String> ids) {
            this.files = files;
            this.ids = ids;
        }

        @Override
        public Document next() throws IOException {
            while (true) {
                if (reader == null) {
                    if (!files.hasNext()) {
                        return null;
                    }
                    file = files.next();
                    fileId = ids.next();
                    reader = SourceFiles.openReader(file);
                    line = 0;
                }
                String text;
                try {
                    text = reader.readLine();
                } catch (IOException e) {
                    throw SourceFiles.readFailure(file, line + 1, e);
                }
                if (text == null) {
                    reader.close();
                    reader = null;
                    continue;
                }
                line++;
                if (!text.isBlank()) {
                    return Document.of(fileId + ":" + line, text);
                }
            }
        }

        @Override
        public void close() throws IOException {
            if (reader != null) {
                reader.close();
            }
        }
    }
}
