package org.llmkit.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;

/**
 * Plain UTF-8 text files, optionally gzip- or zstd-compressed: one document per file (id: the path
 * relative to the folder it was found in, or the file name), or with {@link #perLine()} one per
 * non-blank line (id: {@code <file>:<line>}). Immutable.
 */
public final class TextDataset implements FileDataset {

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
        return SourceFiles.concat(files(), format());
    }

    @Override
    public List<FileDataset.SourceFile> files() throws IOException {
        return SourceFiles.sourceFiles(paths, true);
    }

    @Override
    public FileDataset.FileFormat format() {
        return new Format(perLine);
    }

    @Override
    public boolean recursive() {
        return true;
    }

    @Override
    public String describe() {
        return "text" + paths + (perLine ? " per line" : " per file");
    }

    /** One text file: one document, or one per non-blank line. */
    private record Format(boolean perLine) implements FileDataset.FileFormat {
        private static final long serialVersionUID = 1L;

        @Override
        public DocumentStream read(Path file, String fileId, InputStream raw) throws IOException {
            BufferedReader reader = SourceFiles.reader(raw);
            return perLine ? new LineStream(file, fileId, reader) : new FileStream(file, fileId, reader);
        }
    }

    private static final class FileStream implements DocumentStream {
        private final Path file;
        private final String id;
        private BufferedReader reader;

        FileStream(Path file, String id, BufferedReader reader) {
            this.file = file;
            this.id = id;
            this.reader = reader;
        }

        @Override
        public Document next() throws IOException {
            if (reader == null) {
                return null;
            }
            StringBuilder text = new StringBuilder();
            char[] buffer = new char[1 << 14];
            try (BufferedReader in = reader) {
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    text.append(buffer, 0, n);
                }
            } catch (IOException e) {
                throw SourceFiles.readFailure(file, 0, e);
            } finally {
                reader = null;
            }
            return Document.of(id, text.toString());
        }

        @Override
        public void close() throws IOException {
            if (reader != null) {
                reader.close();
                reader = null;
            }
        }
    }

    private static final class LineStream implements DocumentStream {
        private final String fileId;
        private final SourceLines lines;

        LineStream(Path file, String fileId, BufferedReader reader) {
            this.fileId = fileId;
            this.lines = new SourceLines(file, reader);
        }

        @Override
        public Document next() throws IOException {
            String text = lines.next();
            return text == null ? null : Document.of(fileId + ":" + lines.line(), text);
        }

        @Override
        public void close() throws IOException {
            lines.close();
        }
    }
}
