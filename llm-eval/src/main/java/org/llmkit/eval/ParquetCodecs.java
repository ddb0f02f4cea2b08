package org.llmkit.eval;

import io.airlift.compress.Decompressor;
import io.airlift.compress.MalformedInputException;
import io.airlift.compress.lz4.Lz4Decompressor;
import io.airlift.compress.snappy.SnappyDecompressor;
import io.airlift.compress.zstd.ZstdDecompressor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.EnumSet;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import org.apache.parquet.bytes.BytesInput;
import org.apache.parquet.compression.CompressionCodecFactory;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;

/**
 * Page decompressors for reading Parquet without Hadoop's codecs: parquet-hadoop's own
 * {@code CodecFactory} instantiates Hadoop {@code CompressionCodec}s, so llmkit hands
 * {@code ParquetFileReader} this factory instead. Snappy (raw block format, the HF and pyarrow
 * default), ZSTD (frames) and LZ4_RAW use aircompressor's pure-Java decoders, which parquet-hadoop
 * already depends on; GZIP uses the JDK. Read-only: {@link #getCompressor} refuses.
 */
final class ParquetCodecs implements CompressionCodecFactory {
    /** The codecs {@link #getDecompressor} handles. */
    static final Set<CompressionCodecName> SUPPORTED = EnumSet.of(CompressionCodecName.UNCOMPRESSED,
            CompressionCodecName.SNAPPY, CompressionCodecName.ZSTD, CompressionCodecName.GZIP,
            CompressionCodecName.LZ4_RAW);

    @Override
    public BytesInputCompressor getCompressor(CompressionCodecName codec) {
        throw new UnsupportedOperationException("llmkit reads Parquet exports; it does not write Parquet (" + codec + ")");
    }

    @Override
    public BytesInputDecompressor getDecompressor(CompressionCodecName codec) {
        if (!SUPPORTED.contains(codec)) {
            throw new UnsupportedOperationException("Parquet compression codec " + codec + " is not supported; llmkit"
                    + " reads " + SUPPORTED + " (rewrite the file with pyarrow, compression='snappy')");
        }
        return new PageDecompressor(codec);
    }

    @Override
    public void release() {
        // nothing pooled
    }

    /** One codec's page decompressor; keeps no state between pages. */
    private static final class PageDecompressor implements BytesInputDecompressor {
        private final CompressionCodecName codec;

        PageDecompressor(CompressionCodecName codec) {
            this.codec = codec;
        }

        @Override
        public BytesInput decompress(BytesInput compressed, int uncompressedSize) throws IOException {
            if (codec == CompressionCodecName.UNCOMPRESSED) {
                return compressed;
            }
            return BytesInput.from(inflate(compressed.toByteArray(), uncompressedSize));
        }

        @Override
        public void decompress(ByteBuffer input, int compressedSize, ByteBuffer output, int uncompressedSize)
                throws IOException {
            byte[] in = new byte[compressedSize];
            input.get(in);
            output.put(codec == CompressionCodecName.UNCOMPRESSED ? in : inflate(in, uncompressedSize));
        }

        @Override
        public void release() {
            // nothing pooled
        }

        private byte[] inflate(byte[] in, int size) throws IOException {
            byte[] out = new byte[size];
            int n;
            try {
                n = switch (codec) {
                    case SNAPPY -> block(new SnappyDecompressor(), in, out);
                    case ZSTD -> block(new ZstdDecompressor(), in, out);
                    case LZ4_RAW -> block(new Lz4Decompressor(), in, out);
                    case GZIP -> gunzip(in, out);
                    default -> throw new IllegalStateException("no decompressor for " + codec);
                };
            } catch (MalformedInputException e) {
                throw new IOException("corrupt " + codec + " page: " + e.getMessage(), e);
            }
            if (n != size) {
                throw new IOException("corrupt " + codec + " page: it decompressed to " + n
                        + " bytes, its header says " + size);
            }
            return out;
        }

        private static int block(Decompressor decompressor, byte[] in, byte[] out) {
            return decompressor.decompress(in, 0, in.length, out, 0, out.length);
        }

        private static int gunzip(byte[] in, byte[] out) throws IOException {
            try (InputStream gz = new GZIPInputStream(new ByteArrayInputStream(in))) {
                int n = gz.readNBytes(out, 0, out.length);
                if (gz.read() != -1) {
                    throw new IOException("corrupt GZIP page: it decompresses to more than the " + out.length
                            + " bytes its header says");
                }
                return n;
            }
        }
    }
}
