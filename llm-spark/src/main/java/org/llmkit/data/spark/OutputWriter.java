package org.llmkit.data.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.llmkit.data.Document;
import org.llmkit.data.PipelinePlan;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.Serializable;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The last job of a run: each task writes its partition's surviving documents (JSON Lines parts, or
 * raw token streams for packing) and counts what every step dropped, in one pass.
 *
 * <p><b>Commit protocol.</b> A task attempt writes only under
 * {@code <out>/_temporary/<run>/<partition>-<attempt>/}; the driver receives the results of the
 * successful attempt of each partition (Spark discards failed ones) and renames exactly those files
 * into place, then deletes {@code _temporary}. A retried task therefore never duplicates output.
 */
final class OutputWriter {

    static final String TEMPORARY = "_temporary";

    /** A file a task attempt wrote, to be moved to {@code finalName} under the output folder. */
    record TempFile(String path, String finalName, long bytes) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /** The counts of one drop reason: how many and the first ordinal (for the in-process reason order). */
    record ReasonCount(long count, long first) implements Serializable {
        private static final long serialVersionUID = 1L;

        ReasonCount plus(ReasonCount o) {
            return new ReasonCount(count + o.count, Math.min(first, o.first));
        }
    }

    /** What one partition wrote and counted. */
    record PartResult(int partition, long documents, Map<String, ReasonCount> drops,
                      Map<Integer, Map<String, Object>> details, long[] lengths, List<TempFile> files,
                      long[] streamDocuments, long[] streamTokens) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /** Output settings that travel to executors. */
    record Settings(String out, String run, boolean tokens, List<String> streams, PipelinePlan.Split split,
                    int bytesPerToken, int separator, HadoopConf conf) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    private OutputWriter() {
    }

    static List<PartResult> write(JavaRDD<Rec> recs, Settings settings) {
        return recs.mapPartitionsWithIndex((p, it) -> List.of(writePartition(p, it, settings)).iterator(), true)
                .collect();
    }

    private static PartResult writePartition(int p, Iterator<Rec> records, Settings s) throws IOException {
        TaskContext context = TaskContext.get();
        String attempt = String.format("%05d-%d-%d", p, context == null ? 0 : context.attemptNumber(),
                context == null ? 0 : context.taskAttemptId());
        Path dir = new Path(new Path(new Path(s.out(), TEMPORARY), s.run()), attempt);
        FileSystem fs = HadoopConf.fileSystem(dir, s.conf().get());
        int n = s.streams().size();
        OutputStream[] outs = new OutputStream[n];
        Path[] paths = new Path[n];
        long[] docs = new long[n];
        long[] tokens = new long[n];
        Map<String, ReasonCount> drops = new HashMap<>();
        Map<Integer, Map<String, Object>> details = new HashMap<>();
        long[] lengths = new long[32];
        long alive = 0;
        ObjectWriter json = new ObjectMapper().writer();
        try {
            while (records.hasNext()) {
                Rec r = records.next();
                if (r.isSummary()) {
                    r.details.forEach((step, d) -> details.merge(step, d, org.llmkit.data.StepRunner::mergeDetails));
                    for (int b = 0; b < 32; b++) {
                        lengths[b] += r.lengths[b];
                    }
                    continue;
                }
                if (!r.isAlive()) {
                    drops.merge(r.droppedAt + "/" + r.reason, new ReasonCount(1, r.ordinal), ReasonCount::plus);
                    continue;
                }
                alive++;
                int stream = s.split().isTrain(r.ordinal) ? 0 : 1;
                if (outs[stream] == null) {
                    paths[stream] = new Path(dir, s.streams().get(stream) + (s.tokens() ? ".raw" : ".jsonl"));
                    outs[stream] = new BufferedOutputStream(fs.create(paths[stream], true), 1 << 16);
                }
                docs[stream]++;
                if (s.tokens()) {
                    tokens[stream] += writeTokens(outs[stream], r.tokens, s);
                } else {
                    outs[stream].write(json.writeValueAsBytes(record(r.doc)));
                    outs[stream].write('\n');
                }
            }
        } finally {
            for (OutputStream out : outs) {
                if (out != null) {
                    out.close();
                }
            }
        }
        List<TempFile> files = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (paths[i] != null) {
                String name = s.tokens() ? paths[i].toString() : String.format("%s/part-%05d.jsonl", s.streams().get(i), p);
                files.add(new TempFile(paths[i].toString(), name, fs.getFileStatus(paths[i]).getLen()));
            } else {
                files.add(null);
            }
        }
        return new PartResult(p, alive, drops, details, lengths, files, docs, tokens);
    }

    /** The JSON record of a document, as the in-process writer makes it. */
    static Map<String, Object> record(Document doc) {
        Map<String, Object> record = new LinkedHashMap<>();
        record.put("id", doc.id());
        record.put("text", doc.text());
        doc.metadata().forEach(record::putIfAbsent);
        return record;
    }

    /** Writes a document's tokens and the separator; returns the number of tokens written. */
    private static long writeTokens(OutputStream out, int[] ids, Settings s) throws IOException {
        int separator = s.separator();
        for (int id : ids) {
            writeToken(out, id, s.bytesPerToken());
        }
        if (separator >= 0) {
            writeToken(out, separator, s.bytesPerToken());
            return ids.length + 1L;
        }
        return ids.length;
    }

    static void writeToken(OutputStream out, int id, int bytesPerToken) throws IOException {
        out.write(id);
        out.write(id >>> 8);
        if (bytesPerToken == 4) {
            out.write(id >>> 16);
            out.write(id >>> 24);
        }
    }

    /** Moves the successful attempts' files into place. */
    static void commit(FileSystem fs, Path out, List<TempFile> files) throws IOException {
        for (TempFile f : files) {
            Path target = new Path(out, f.finalName());
            fs.mkdirs(target.getParent());
            fs.delete(target, false);
            if (!fs.rename(new Path(f.path()), target)) {
                throw new IOException("could not move " + f.path() + " to " + target);
            }
        }
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
    }

    static String hex(byte[] digest) {
        return HexFormat.of().formatHex(digest);
    }

    static FSDataInputStream open(FileSystem fs, String path) throws IOException {
        return fs.open(new Path(path));
    }

    static FSDataOutputStream create(FileSystem fs, Path path) throws IOException {
        return fs.create(path, true);
    }
}
