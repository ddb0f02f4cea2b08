package org.llmkit.data.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.llmkit.data.TokenDataset;
import org.llmkit.data.TokenShardWriter;

import java.io.IOException;
import java.io.OutputStream;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Packing with exactly the in-process result. The write job left, per partition and output stream,
 * the raw tokens of its documents (each followed by the separator) in source order. Their counts
 * give each partition's global token offset {@code o}; a second job lets partition {@code p} write
 * every sequence that <em>ends</em> in its range, so the sequence straddling a boundary is written
 * by the partition holding its last token, which reads the head from its predecessors' raw files.
 * The sequences, in order, are those of the in-process packer; the last tokens that do not fill a
 * sequence are left out. Shards are then renamed {@code tokens-00000.bin, ...} and {@code index.json}
 * (the {@link TokenDataset} format) is written last.
 */
final class TokenPacker {

    /** One stream's raw files in partition order (null where a partition had none) and their token counts. */
    record Raw(String stream, List<String> files, long[] tokens) implements Serializable {
        private static final long serialVersionUID = 1L;

        long offset(int partition) {
            long o = 0;
            for (int q = 0; q < partition; q++) {
                o += tokens[q];
            }
            return o;
        }
    }

    /** A shard a pack task wrote. */
    record Shard(int stream, String path, long sequences, long bytes, String sha256) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /** Pack settings that travel to executors. */
    record Settings(String out, String run, int length, int bytesPerToken, long shardBytes, HadoopConf conf)
            implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    private TokenPacker() {
    }

    /** Packs and writes every stream; returns per stream the report entry (folder, sequences, tail). */
    static Map<String, Map<String, Object>> pack(JavaSparkContext jsc, List<Raw> raws, Settings s, int vocabSize,
                                                 int separator, long[] documents) throws IOException {
        int partitions = raws.get(0).files().size();
        List<Integer> ids = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            ids.add(p);
        }
        List<Shard> shards = jsc.parallelize(ids, Math.max(1, partitions))
                .mapPartitions(it -> {
                    List<Shard> out = new ArrayList<>();
                    while (it.hasNext()) {
                        int p = it.next();
                        for (int st = 0; st < raws.size(); st++) {
                            out.addAll(packPartition(p, st, raws.get(st), s));
                        }
                    }
                    return out.iterator();
                }).collect();
        Path outDir = new Path(s.out());
        FileSystem fs = HadoopConf.fileSystem(outDir, s.conf().get());
        Map<String, Map<String, Object>> report = new LinkedHashMap<>();
        for (int st = 0; st < raws.size(); st++) {
            Raw raw = raws.get(st);
            Path folder = new Path(outDir, raw.stream());
            fs.delete(folder, true);
            fs.mkdirs(folder);
            ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            ObjectNode index = json.createObjectNode();
            long total = raw.offset(partitions);
            long sequences = total / s.length();
            index.put("format", TokenShardWriter.FORMAT);
            index.put("version", 1);
            index.put("dtype", s.bytesPerToken() == 2 ? "uint16" : "uint32");
            index.put("vocab_size", vocabSize);
            index.put("sequence_length", s.length());
            index.put("sequences", sequences);
            index.put("tokens", sequences * s.length());
            index.put("separator_token_id", separator);
            ArrayNode list = index.putArray("shards");
            int n = 0;
            for (Shard shard : shards) {
                if (shard.stream() != st) {
                    continue;
                }
                String name = String.format("tokens-%05d.bin", n++);
                if (!fs.rename(new Path(shard.path()), new Path(folder, name))) {
                    throw new IOException("could not move " + shard.path() + " to " + new Path(folder, name));
                }
                ObjectNode entry = list.addObject();
                entry.put("file", name);
                entry.put("sequences", shard.sequences());
                entry.put("bytes", shard.bytes());
                entry.put("sha256", shard.sha256());
            }
            Path tmp = new Path(new Path(new Path(outDir, OutputWriter.TEMPORARY), s.run()), raw.stream() + "-index.json");
            try (OutputStream o = fs.create(tmp, true)) {
                o.write((json.writeValueAsString(index) + "\n").getBytes(StandardCharsets.UTF_8));
            }
            if (!fs.rename(tmp, new Path(folder, TokenShardWriter.INDEX_FILE))) {
                throw new IOException("could not move " + tmp + " into " + folder);
            }
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("folder", folder.toString());
            entry.put("documents", documents[st]);
            entry.put("sequences", sequences);
            entry.put("tail_tokens_not_written", total - sequences * s.length());
            report.put(raw.stream(), entry);
        }
        return report;
    }

    /** Writes the sequences of one stream that end in partition {@code p}'s token range. */
    private static List<Shard> packPartition(int p, int st, Raw raw, Settings s) throws IOException {
        long o = raw.offset(p);
        long length = s.length();
        long start = o / length * length;
        long end = (o + raw.tokens()[p]) / length * length;
        List<Shard> shards = new ArrayList<>();
        if (end <= start || raw.tokens()[p] == 0) {
            return shards;
        }
        TaskContext context = TaskContext.get();
        Path dir = new Path(new Path(new Path(s.out(), OutputWriter.TEMPORARY), s.run()), String.format("pack-%05d-%d-%d",
                p, context == null ? 0 : context.attemptNumber(), context == null ? 0 : context.taskAttemptId()));
        FileSystem fs = HadoopConf.fileSystem(dir, s.conf().get());
        long sequenceBytes = length * s.bytesPerToken();
        long shardLimit = Math.max(1, s.shardBytes() / sequenceBytes) * sequenceBytes;
        byte[] buffer = new byte[1 << 16];
        OutputStream out = null;
        MessageDigest digest = null;
        Path shardPath = null;
        long inShard = 0;
        try {
            // walk the raw files overlapping [start, end), copying bytes (already in the shard dtype)
            long fileStart = 0;
            for (int q = 0; q <= p; q++) {
                long fileEnd = fileStart + raw.tokens()[q];
                long from = Math.max(start, fileStart);
                long to = Math.min(end, fileEnd);
                if (from < to) {
                    try (FSDataInputStream in = fs.open(new Path(raw.files().get(q)))) {
                        in.seek((from - fileStart) * s.bytesPerToken());
                        long remaining = (to - from) * s.bytesPerToken();
                        while (remaining > 0) {
                            if (out == null) {
                                shardPath = new Path(dir, String.format("shard-%d-%05d.bin", st, shards.size()));
                                out = new java.io.BufferedOutputStream(fs.create(shardPath, true), 1 << 16);
                                digest = OutputWriter.sha256();
                                inShard = 0;
                            }
                            int chunk = (int) Math.min(Math.min(buffer.length, remaining), shardLimit - inShard);
                            in.readFully(buffer, 0, chunk);
                            out.write(buffer, 0, chunk);
                            digest.update(buffer, 0, chunk);
                            inShard += chunk;
                            remaining -= chunk;
                            if (inShard == shardLimit) {
                                out.close();
                                out = null;
                                shards.add(new Shard(st, shardPath.toString(), inShard / sequenceBytes, inShard,
                                        OutputWriter.hex(digest.digest())));
                            }
                        }
                    }
                }
                fileStart = fileEnd;
            }
            if (out != null) {
                out.close();
                out = null;
                shards.add(new Shard(st, shardPath.toString(), inShard / sequenceBytes, inShard,
                        OutputWriter.hex(digest.digest())));
            }
        } finally {
            if (out != null) {
                out.close();
            }
        }
        return shards;
    }
}
