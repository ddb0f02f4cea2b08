package org.llmkit.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/** Where the documents that survive every stage go. */
final class Sinks {

    private Sinks() {
    }

    /** Receives the live documents of each batch, in order. */
    interface Sink extends AutoCloseable {
        /** Takes the live documents (and tokens) of a batch whose first document has the given ordinal. */
        void accept(Batch batch, long firstOrdinal) throws IOException;

        /** Completes the outputs (renames files into place); returns what was written. */
        Map<String, Object> finish() throws IOException;

        /** Deletes unfinished outputs; does nothing after finish. */
        @Override
        void close() throws IOException;
    }

    /** Assigns documents to training or validation by a hash of their position in the stream. */
    record Splitter(double trainFraction, long seed) {
        boolean isTrain(long ordinal) {
            long h = MinHasher.mix(seed * 0x9e3779b97f4a7c15L + ordinal);
            return (h >>> 11) * 0x1.0p-53 < trainFraction;
        }
    }

    static Sink consumer(Consumer<Document> consumer) {
        return new Sink() {
            @Override
            public void accept(Batch batch, long firstOrdinal) {
                for (int i = 0; i < batch.size(); i++) {
                    if (batch.alive(i)) {
                        consumer.accept(batch.docs[i]);
                    }
                }
            }

            @Override
            public Map<String, Object> finish() {
                return Map.of();
            }

            @Override
            public void close() {
            }
        };
    }

    /** JSON Lines: {@code documents.jsonl}, or {@code train.jsonl} and {@code validation.jsonl} with a split. */
    static final class JsonlSink implements Sink {
        private static final ObjectWriter WRITER = new ObjectMapper().writer();
        private final Splitter splitter;
        private final PendingFile train;
        private final PendingFile validation;
        private long trainDocs;
        private long validationDocs;

        JsonlSink(Path folder, Splitter splitter) throws IOException {
            this.splitter = splitter;
            this.train = new PendingFile(folder.resolve(splitter == null ? "documents.jsonl" : "train.jsonl"));
            PendingFile v = null;
            try {
                v = splitter == null ? null : new PendingFile(folder.resolve("validation.jsonl"));
            } finally {
                if (splitter != null && v == null) {
                    train.close();
                }
            }
            this.validation = v;
        }

        @Override
        public void accept(Batch batch, long firstOrdinal) throws IOException {
            for (int i = 0; i < batch.size(); i++) {
                if (batch.alive(i)) {
                    Document doc = batch.docs[i];
                    Map<String, Object> record = new LinkedHashMap<>();
                    record.put("id", doc.id());
                    record.put("text", doc.text());
                    doc.metadata().forEach(record::putIfAbsent);
                    boolean toTrain = splitter == null || splitter.isTrain(firstOrdinal + i);
                    OutputStream out = (toTrain ? train : validation).stream();
                    out.write(WRITER.writeValueAsBytes(record));
                    out.write('\n');
                    if (toTrain) {
                        trainDocs++;
                    } else {
                        validationDocs++;
                    }
                }
            }
        }

        @Override
        public Map<String, Object> finish() throws IOException {
            Map<String, Object> outputs = new LinkedHashMap<>();
            train.commit();
            outputs.put(splitter == null ? "documents" : "train", Map.of("file", train.target().toString(), "documents", trainDocs));
            if (validation != null) {
                validation.commit();
                outputs.put("validation", Map.of("file", validation.target().toString(), "documents", validationDocs));
            }
            return outputs;
        }

        @Override
        public void close() throws IOException {
            try {
                train.close();
            } finally {
                if (validation != null) {
                    validation.close();
                }
            }
        }
    }

    /** Packs tokens into fixed-length sequences: shards on disk, or arrays in memory. */
    static final class TokenSink implements Sink {
        private final Splitter splitter;
        private final List<Output> outputs = new ArrayList<>();

        private record Output(String name, Packer packer, TokenShardWriter writer, List<int[]> memory) {
        }

        /** Shards under {@code folder/tokens}, or {@code folder/train} and {@code folder/validation}. */
        static TokenSink toShards(Path folder, int length, int separator, int vocabSize, long shardBytes,
                                  Splitter splitter) throws IOException {
            TokenSink sink = new TokenSink(splitter);
            List<String> names = splitter == null ? List.of("tokens") : List.of("train", "validation");
            try {
                for (String name : names) {
                    TokenShardWriter writer = TokenShardWriter.create(folder.resolve(name), length, vocabSize, separator,
                            shardBytes);
                    sink.outputs.add(new Output(name, new Packer(length, separator, writer::add), writer, null));
                }
            } catch (IOException | RuntimeException e) {
                sink.close();
                throw e;
            }
            return sink;
        }

        static TokenSink toMemory(int length, int separator) {
            TokenSink sink = new TokenSink(null);
            List<int[]> memory = new ArrayList<>();
            sink.outputs.add(new Output("tokens", new Packer(length, separator, memory::add), null, memory));
            return sink;
        }

        private TokenSink(Splitter splitter) {
            this.splitter = splitter;
        }

        List<int[]> sequences() {
            return outputs.get(0).memory();
        }

        @Override
        public void accept(Batch batch, long firstOrdinal) throws IOException {
            for (int i = 0; i < batch.size(); i++) {
                if (batch.alive(i)) {
                    boolean toTrain = splitter == null || splitter.isTrain(firstOrdinal + i);
                    outputs.get(toTrain ? 0 : 1).packer().add(batch.tokens[i]);
                }
            }
        }

        @Override
        public Map<String, Object> finish() throws IOException {
            Map<String, Object> described = new LinkedHashMap<>();
            for (Output output : outputs) {
                Map<String, Object> entry = new LinkedHashMap<>();
                if (output.writer() != null) {
                    entry.put("folder", output.writer().finish().toString());
                }
                entry.put("documents", output.packer().documents());
                entry.put("sequences", output.packer().sequences());
                entry.put("tail_tokens_not_written", output.packer().tail());
                described.put(output.name(), entry);
            }
            return described;
        }

        @Override
        public void close() throws IOException {
            for (Output output : outputs) {
                if (output.writer() != null) {
                    output.writer().close();
                }
            }
        }
    }

    static void requireFolder(Path folder) throws IOException {
        Files.createDirectories(folder);
    }
}
