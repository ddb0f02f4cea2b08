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
import org.llmkit.api.io.SafeTensorsWriter;
import org.llmkit.api.io.TensorDType;
import org.llmkit.api.model.Architecture;
import org.llmkit.api.model.Architectures;

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
        for (Map.Entry<String, NDArray> e : checkpoint.entrySet()) {
            NDArray a = e.getValue();
            writer.add(e.getKey(), dtypeOf(a), a.getShape().getShape(), bytesOf(a));
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

    static TensorDType dtypeOf(NDArray a) {
        DataType t = a.getDataType();
        if (t == DataType.FLOAT32) {
            return TensorDType.F32;
        }
        if (t == DataType.FLOAT16) {
            return TensorDType.F16;
        }
        throw new UnsupportedOperationException("saving arrays of type " + t + " is not supported");
    }

    static ByteBuffer bytesOf(NDArray a) {
        return a.toByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }
}
