package org.llmkit.eval;

import com.github.luben.zstd.Zstd;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.apache.parquet.bytes.BytesInput;
import org.apache.parquet.compression.CompressionCodecFactory;
import org.apache.parquet.conf.ParquetConfiguration;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.io.LocalOutputFile;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;
import org.xerial.snappy.Snappy;

/**
 * Writes Parquet files for tests with parquet-java's example writer, compressing pages with the
 * reference codecs (snappy-java, zstd-jni, the JDK's gzip) rather than the decoders llmkit reads
 * with, so a format mismatch between them would show.
 */
final class ParquetFiles {
    /** HF {@code super_glue/cb}'s columns, plus a boolean the tasks ignore. */
    static final MessageType CB = MessageTypeParser.parseMessageType("message cb {"
            + " optional binary premise (STRING); optional binary hypothesis (STRING);"
            + " optional int32 idx; optional int64 label; optional boolean checked; }");

    private static final MethodHandle WITH_CONF;

    static {
        try {
            // ParquetWriter.Builder overloads withConf with a Hadoop Configuration; javac would need Hadoop's
            // classes to pick the ParquetConfiguration overload, so it is looked up by its exact type.
            WITH_CONF = MethodHandles.publicLookup().findVirtual(ParquetWriter.Builder.class, "withConf",
                    MethodType.methodType(ParquetWriter.Builder.class, ParquetConfiguration.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private ParquetFiles() { }

    /**
     * Writes rows (field name to String, Integer, Long or Boolean; absent or null = null) as one
     * Parquet file, {@code rowsPerGroup} rows per row group.
     */
    static Path write(Path file, MessageType schema, CompressionCodecName codec, int rowsPerGroup,
            List<Map<String, Object>> rows) throws IOException {
        ExampleParquetWriter.Builder builder = ExampleParquetWriter.builder().withFile(new LocalOutputFile(file))
                .withType(schema).withCodecFactory(new ReferenceCompressors()).withCompressionCodec(codec)
                .withRowGroupRowCountLimit(rowsPerGroup).withPageRowCountLimit(rowsPerGroup);
        try {
            WITH_CONF.invoke(builder, new PlainParquetConfiguration());
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
        SimpleGroupFactory groups = new SimpleGroupFactory(schema);
        try (ParquetWriter<Group> writer = builder.build()) {
            for (Map<String, Object> row : rows) {
                Group g = groups.newGroup();
                for (Map.Entry<String, Object> e : row.entrySet()) {
                    Object v = e.getValue();
                    if (v instanceof String s) {
                        g.append(e.getKey(), s);
                    } else if (v instanceof Integer i) {
                        g.append(e.getKey(), i);
                    } else if (v instanceof Long l) {
                        g.append(e.getKey(), l);
                    } else if (v instanceof Boolean b) {
                        g.append(e.getKey(), b);
                    } else if (v != null) {
                        throw new IllegalArgumentException("unsupported value " + v);
                    }
                }
                writer.write(g);
            }
        }
        return file;
    }

    /** Compresses pages with snappy-java, zstd-jni and java.util.zip. */
    private static final class ReferenceCompressors implements CompressionCodecFactory {
        @Override
        public BytesInputCompressor getCompressor(CompressionCodecName codec) {
            return new BytesInputCompressor() {
                @Override
                public BytesInput compress(BytesInput bytes) throws IOException {
                    byte[] in = bytes.toByteArray();
                    return BytesInput.from(switch (codec) {
                        case UNCOMPRESSED -> in;
                        case SNAPPY -> Snappy.compress(in);
                        case ZSTD -> Zstd.compress(in, 3);
                        case GZIP -> gzip(in);
                        default -> throw new IllegalArgumentException("tests do not write " + codec);
                    });
                }

                @Override
                public CompressionCodecName getCodecName() {
                    return codec;
                }

                @Override
                public void release() { }
            };
        }

        private static byte[] gzip(byte[] in) throws IOException {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
                gz.write(in);
            }
            return out.toByteArray();
        }

        @Override
        public BytesInputDecompressor getDecompressor(CompressionCodecName codec) {
            throw new UnsupportedOperationException("the test writer only compresses");
        }

        @Override
        public void release() { }
    }
}
