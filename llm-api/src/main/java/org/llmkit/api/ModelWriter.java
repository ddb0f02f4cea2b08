package org.llmkit.api;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.llmkit.api.io.AtomicFiles;
import org.llmkit.api.io.Half;
import org.llmkit.api.io.SafeTensorsWriter;
import org.llmkit.api.io.TensorDType;
import org.llmkit.api.model.Architecture;
import org.llmkit.api.model.Architectures;
import org.llmkit.api.model.TensorType;

/**
 * Writes a model in HuggingFace layout. Every file is written atomically (temp file, fsync, rename) and
 * {@code config.json} last, so a folder whose config is present holds complete weights.
 */
final class ModelWriter {
    /** Tokenizer and generation files copied verbatim from the source folder when present. */
    static final List<String> SIDE_FILES = List.of("tokenizer.json", "tokenizer_config.json",
            "special_tokens_map.json", "chat_template.jinja", "generation_config.json");

    private ModelWriter() { }

    static void save(LanguageModel lm, Path dir) throws IOException {
        Files.createDirectories(dir);
        ModelConfig config = lm.config();
        Architecture arch = Architectures.of(config.modelType());
        Map<String, NDArray> checkpoint = arch.layout().write(lm.block().effectiveWeights(), config);
        SafeTensorsWriter writer = SafeTensorsWriter.create();
        TensorType type = lm.block().tensorType();
        for (Map.Entry<String, NDArray> e : checkpoint.entrySet()) {
            add(writer, e.getKey(), e.getValue(), type);
        }
        writer.writeTo(dir.resolve("model.safetensors"));
        for (String name : SIDE_FILES) {
            Path from = sideFileSource(lm, name);
            if (from != null && !from.toAbsolutePath().equals(dir.resolve(name).toAbsolutePath())) {
                byte[] bytes = Files.readAllBytes(from);
                AtomicFiles.writeStream(dir.resolve(name), out -> out.write(bytes));
            }
        }
        ObjectNode json = arch.writeConfig(config);
        json.put("torch_dtype", switch (lm.precision()) {
            case FP32 -> "float32";
            case FP16 -> "float16";
            case BF16 -> "bfloat16";
        });
        AtomicFiles.writeString(dir.resolve("config.json"),
                new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(json));
    }

    private static Path sideFileSource(LanguageModel lm, String name) {
        for (Path folder : new Path[] {lm.source(), lm.hasTokenizer() ? tokenizerFolder(lm.tokenizer()) : null}) {
            if (folder != null && Files.isRegularFile(folder.resolve(name))) {
                return folder.resolve(name);
            }
        }
        return null;
    }

    private static Path tokenizerFolder(Tokenizer t) {
        Path p = t.source();
        return Files.isDirectory(p) ? p : p.toAbsolutePath().getParent();
    }

    /**
     * Adds an array in its own type: F32, F16, or BF16 (read back through float32, which holds bf16 values
     * exactly, and narrowed on the host without rounding).
     */
    static void add(SafeTensorsWriter writer, String name, NDArray a, TensorType type) {
        long[] shape = a.getShape().getShape();
        DataType t = a.getDataType();
        if (t == DataType.FLOAT32 || t == DataType.FLOAT16) {
            writer.add(name, t == DataType.FLOAT32 ? TensorDType.F32 : TensorDType.F16, shape,
                    a.toByteBuffer().order(ByteOrder.LITTLE_ENDIAN));
            return;
        }
        if (t != DataType.UNKNOWN || type.precision() != Precision.BF16) {
            throw new UnsupportedOperationException("saving tensor '" + name + "' of type " + t + " is not supported");
        }
        long count = a.getShape().size();
        ByteBuffer f32 = type.float32(a).toByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer bf16 = ByteBuffer.allocate(Math.toIntExact(count * 2)).order(ByteOrder.LITTLE_ENDIAN);
        Half.f32ToBf16(f32, bf16, count);
        bf16.rewind();
        writer.add(name, TensorDType.BF16, shape, bf16);
    }
}
