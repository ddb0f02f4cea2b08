package org.llmkit.data.spark;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.storage.StorageLevel;
import org.llmkit.data.DataFormatException;
import org.llmkit.data.Dataset;
import org.llmkit.data.Document;
import org.llmkit.data.DocumentStream;
import org.llmkit.data.FileDataset;
import org.llmkit.data.PipelinePlan;
import org.llmkit.data.StageReport;

import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code read} stage on Spark: a {@link FileDataset} is read one file per task through the
 * dataset's own {@link FileDataset.FileFormat} (so ids, drop reasons and messages are the
 * in-process ones), any other dataset on the driver. Malformed records are counted exactly as
 * in-process, and documents get their ordinals (position in source order).
 */
final class SourceReader {

    private static final int MAX_PROBLEMS = 100;

    /** A file to read: where (a Hadoop URI), how it is named in messages, and the name ids are made from. */
    record FileRef(String uri, String display, String id) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /** One record of a file: a document, or a malformed record. */
    record Item(Document doc, String reason, long line, String message, String detail) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /** What one file held, apart from its documents. */
    record FileSummary(long documents, Map<String, Long> malformed, List<String> problems, Item fatal)
            implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /** The result of reading: the documents with ordinals, and the read stage's report. */
    record Result(JavaRDD<Rec> docs, StageReport report, List<String> problems, JavaRDD<Item> cached) {
    }

    private SourceReader() {
    }

    static Result read(JavaSparkContext jsc, PipelinePlan plan, List<String> inputs, HadoopConf conf)
            throws IOException {
        Dataset source = plan.source();
        if (source instanceof FileDataset files) {
            List<FileRef> refs = inputs.isEmpty() ? localFiles(files) : hadoopFiles(inputs, files.recursive(), conf.get());
            return readFiles(jsc, refs, files.format(), plan.skipMalformed(), conf);
        }
        if (!inputs.isEmpty()) {
            throw new IllegalArgumentException("input(...) paths replace the files of a JSON Lines or text dataset, but "
                    + "the pipeline reads " + source.describe() + "; use Dataset.jsonl(...) or Dataset.text(...)");
        }
        return readOnDriver(jsc, source, plan.skipMalformed());
    }

    private static List<FileRef> localFiles(FileDataset dataset) throws IOException {
        List<FileRef> refs = new ArrayList<>();
        for (FileDataset.SourceFile file : dataset.files()) {
            refs.add(new FileRef(file.path().toAbsolutePath().toUri().toString(), file.path().toString(), file.id()));
        }
        return refs;
    }

    /** Lists Hadoop paths as the in-process datasets list local ones: folders in name order, hidden files skipped. */
    static List<FileRef> hadoopFiles(List<String> inputs, boolean recursive, Configuration conf) throws IOException {
        List<FileRef> refs = new ArrayList<>();
        for (String input : inputs) {
            org.apache.hadoop.fs.Path path = new org.apache.hadoop.fs.Path(input);
            FileSystem fs = path.getFileSystem(conf);
            FileStatus status = fs.getFileStatus(path); // FileNotFoundException names the path
            List<FileStatus> found = new ArrayList<>();
            if (status.isDirectory()) {
                collect(fs, status, recursive, found);
                if (found.isEmpty()) {
                    throw new java.nio.file.NoSuchFileException(input, null, "folder has no files");
                }
                found.sort((a, b) -> a.getPath().toString().compareTo(b.getPath().toString()));
            } else {
                found.add(status);
            }
            String root = status.getPath().toUri().getPath();
            for (FileStatus file : found) {
                URI uri = file.getPath().toUri();
                String display = "file".equals(uri.getScheme()) ? uri.getPath() : file.getPath().toString();
                String id = status.isDirectory() ? uri.getPath().substring(root.length() + 1) : file.getPath().getName();
                if (file.getLen() == 0) {
                    throw new DataFormatException(Path.of(uri.getPath()), 0, DataFormatException.MALFORMED, "file is empty");
                }
                refs.add(new FileRef(file.getPath().toString(), display, id));
            }
        }
        return refs;
    }

    private static void collect(FileSystem fs, FileStatus folder, boolean recursive, List<FileStatus> into)
            throws IOException {
        for (FileStatus child : fs.listStatus(folder.getPath())) {
            if (child.getPath().getName().startsWith(".")) {
                continue;
            }
            if (child.isDirectory()) {
                if (recursive) {
                    collect(fs, child, true, into);
                }
            } else {
                into.add(child);
            }
        }
    }

    private static Result readFiles(JavaSparkContext jsc, List<FileRef> refs, FileDataset.FileFormat format,
                                    boolean skipMalformed, HadoopConf conf) throws IOException {
        List<Integer> indexes = new ArrayList<>();
        for (int i = 0; i < refs.size(); i++) {
            indexes.add(i);
        }
        JavaRDD<Item> items = jsc.parallelize(indexes, refs.size())
                .mapPartitions(it -> readFile(refs.get(it.next()), format, conf))
                .persist(StorageLevel.MEMORY_AND_DISK());
        List<FileSummary> summaries = items.mapPartitions(it -> List.of(summarize(it, skipMalformed)).iterator())
                .collect();
        long[] offsets = new long[summaries.size()];
        long documents = 0;
        Map<String, Long> malformed = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        for (int p = 0; p < summaries.size(); p++) {
            FileSummary s = summaries.get(p);
            if (s.fatal() != null) {
                items.unpersist(false);
                Item f = s.fatal();
                throw new DataFormatException(Path.of(refs.get(p).display()), f.line(), f.reason(), f.detail());
            }
            offsets[p] = documents;
            documents += s.documents();
            s.malformed().forEach((reason, n) -> malformed.merge(reason, n, Long::sum));
            for (String problem : s.problems()) {
                if (problems.size() < MAX_PROBLEMS) {
                    problems.add(problem);
                }
            }
        }
        JavaRDD<Rec> docs = items.mapPartitionsWithIndex((p, it) -> new Iterator<Rec>() {
            private long next = offsets[p];
            private Rec pending = advance();

            private Rec advance() {
                while (it.hasNext()) {
                    Item item = it.next();
                    if (item.doc() != null) {
                        return Rec.alive(next++, item.doc(), null);
                    }
                }
                return null;
            }

            @Override
            public boolean hasNext() {
                return pending != null;
            }

            @Override
            public Rec next() {
                Rec r = pending;
                pending = advance();
                return r;
            }
        }, true);
        return new Result(docs, readReport(documents, malformed), problems, items);
    }

    private static StageReport readReport(long documents, Map<String, Long> malformed) {
        long dropped = malformed.values().stream().mapToLong(Long::longValue).sum();
        return new StageReport("read", documents + dropped, documents, malformed, 0, Map.of());
    }

    /** Reads one file on an executor, keeping malformed records as items. */
    private static Iterator<Item> readFile(FileRef ref, FileDataset.FileFormat format, HadoopConf conf)
            throws IOException {
        org.apache.hadoop.fs.Path path = new org.apache.hadoop.fs.Path(ref.uri());
        InputStream raw = path.getFileSystem(conf.get()).open(path);
        DocumentStream stream = format.read(Path.of(ref.display()), ref.id(), raw);
        return new Iterator<>() {
            private Item pending = advance();

            private Item advance() {
                try {
                    Document doc = stream.next();
                    if (doc == null) {
                        stream.close();
                        return null;
                    }
                    return new Item(doc, null, 0, null, null);
                } catch (DataFormatException e) {
                    return new Item(null, e.reason(), e.line(), e.getMessage(), e.detail());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }

            @Override
            public boolean hasNext() {
                return pending != null;
            }

            @Override
            public Item next() {
                Item item = pending;
                pending = item.reason() != null && item.line() == 0 ? null : advance();
                return item;
            }
        };
    }

    private static FileSummary summarize(Iterator<Item> items, boolean skipMalformed) {
        long documents = 0;
        Map<String, Long> malformed = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        while (items.hasNext()) {
            Item item = items.next();
            if (item.doc() != null) {
                documents++;
            } else if (!skipMalformed || item.line() == 0) {
                return new FileSummary(documents, malformed, problems, item);
            } else {
                malformed.merge(item.reason(), 1L, Long::sum);
                if (problems.size() < MAX_PROBLEMS) {
                    problems.add(item.message());
                }
            }
        }
        return new FileSummary(documents, malformed, problems, null);
    }

    /** Any other dataset: read on the driver with the in-process rules, then distributed. */
    private static Result readOnDriver(JavaSparkContext jsc, Dataset source, boolean skipMalformed) throws IOException {
        List<Rec> recs = new ArrayList<>();
        Map<String, Long> malformed = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        try (DocumentStream in = source.open()) {
            while (true) {
                Document doc;
                try {
                    doc = in.next();
                } catch (DataFormatException e) {
                    if (!skipMalformed || e.line() == 0) {
                        throw e;
                    }
                    malformed.merge(e.reason(), 1L, Long::sum);
                    if (problems.size() < MAX_PROBLEMS) {
                        problems.add(e.getMessage());
                    }
                    continue;
                }
                if (doc == null) {
                    break;
                }
                recs.add(Rec.alive(recs.size(), doc, null));
            }
        }
        int slices = Math.max(1, Math.min(jsc.defaultParallelism(), recs.size()));
        return new Result(jsc.parallelize(recs, slices), readReport(recs.size(), malformed), problems, null);
    }
}
