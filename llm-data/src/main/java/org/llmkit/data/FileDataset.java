package org.llmkit.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * A {@link Dataset} made of files that are read one after the other, each on its own: JSON Lines
 * ({@link JsonlDataset}) and plain text ({@link TextDataset}). Execution backends that read files
 * in parallel (llm-spark reads one file per task, from any Hadoop file system) use
 * {@link #files()} and {@link #format()}; reading every file of {@link #files()} in order with
 * {@link #format()} gives exactly the documents of {@link #open()}, with the same ids and the same
 * {@link DataFormatException}s.
 */
public interface FileDataset extends Dataset {

    /**
     * Lists and checks the files, in read order (folders expanded as the dataset describes).
     *
     * @return the files
     * @throws IOException when a file is missing, unreadable or empty
     */
    List<SourceFile> files() throws IOException;

    /**
     * Returns how one file's bytes become documents.
     *
     * @return the format; serializable, so that it can be sent to remote workers
     */
    FileFormat format();

    /**
     * Whether folders given as paths are walked recursively ({@link TextDataset}) or only their
     * own files are read ({@link JsonlDataset}).
     *
     * @return true when recursive
     */
    boolean recursive();

    /**
     * One file of a dataset.
     *
     * @param path the file
     * @param id the name document ids are made from: the path relative to the folder it was found
     *     under, or the file name when the file was given itself
     */
    record SourceFile(Path path, String id) {

        /**
         * Validates the file.
         *
         * @param path see the record description
         * @param id see the record description
         */
        public SourceFile {
            Objects.requireNonNull(path, "path must not be null");
            Objects.requireNonNull(id, "id must not be null");
        }
    }

    /** Turns the bytes of one file into documents. Implementations are immutable and serializable. */
    interface FileFormat extends Serializable {

        /**
         * Opens a stream over one file's documents. The bytes may be gzip- or zstd-compressed
         * (recognised by their first bytes) and must be UTF-8.
         *
         * @param file the file, named in error messages (and, for JSON Lines, in ids)
         * @param fileId the name ids are made from (see {@link SourceFile#id()})
         * @param raw the file's bytes; closed with the stream
         * @return the documents; close the stream
         * @throws IOException when the bytes cannot be read
         */
        DocumentStream read(Path file, String fileId, InputStream raw) throws IOException;
    }
}
