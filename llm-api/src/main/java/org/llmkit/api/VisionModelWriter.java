package org.llmkit.api;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.llmkit.api.io.AtomicFiles;
import org.llmkit.api.io.SafeTensorsWriter;
import org.llmkit.api.model.Architecture;
import org.llmkit.api.model.Architectures;
import org.llmkit.api.vision.LlavaModel;

/**
 * Writes a {@link VisionLanguageModel} as a LLaVA folder in transformers 4's checkpoint layout
 * ({@code vision_tower.vision_model.*}, {@code multi_modal_projector.*}, {@code language_model.model.*},
 * {@code language_model.lm_head.weight}), which transformers 4 and 5 both load. A LoRA adapter is folded into the
 * saved language-model weights. Every file is written atomically, {@code config.json} last.
 */
final class VisionModelWriter {
    private static final List<String> COPIED = List.of("preprocessor_config.json", "processor_config.json",
            "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja",
            "chat_template.json", "generation_config.json");

    private VisionModelWriter() { }

    static void save(VisionLanguageModel model, Path dir) throws IOException {
        LanguageModel text = model.languageModel();
        if (text.source() == null) {
            throw new IllegalStateException("this model was not loaded from a folder; nothing to take config.json from");
        }
        Files.createDirectories(dir);
        LlavaModel blocks = model.block();
        SafeTensorsWriter writer = SafeTensorsWriter.create().metadata("format", "pt");
        for (Map.Entry<String, Parameter> e : blocks.tower().parameters().entrySet()) {
            ModelWriter.add(writer, "vision_tower.vision_model." + e.getKey(), e.getValue().getArray(),
                    blocks.text().tensorType());
        }
        for (Map.Entry<String, Parameter> e : blocks.projector().parameters().entrySet()) {
            ModelWriter.add(writer, "multi_modal_projector." + e.getKey(), e.getValue().getArray(),
                    blocks.text().tensorType());
        }
        Architecture arch = Architectures.of(text.config().modelType());
        Map<String, NDArray> weights = arch.layout().write(blocks.text().effectiveWeights(), text.config());
        for (Map.Entry<String, NDArray> e : weights.entrySet()) {
            ModelWriter.add(writer, "language_model." + e.getKey(), e.getValue(), blocks.text().tensorType());
        }
        writer.writeTo(dir.resolve("model.safetensors"));
        for (String name : COPIED) {
            Path from = source(model, name);
            if (from != null && !from.toAbsolutePath().equals(dir.resolve(name).toAbsolutePath())) {
                byte[] bytes = Files.readAllBytes(from);
                AtomicFiles.writeStream(dir.resolve(name), out -> out.write(bytes));
            }
        }
        Path config = text.source().resolve("config.json");
        if (!config.toAbsolutePath().equals(dir.resolve("config.json").toAbsolutePath())) {
            AtomicFiles.writeString(dir.resolve("config.json"), Files.readString(config));
        }
    }

    private static Path source(VisionLanguageModel model, String name) {
        Path folder = model.languageModel().source();
        if (Files.isRegularFile(folder.resolve(name))) {
            return folder.resolve(name);
        }
        if (model.hasTokenizer()) {
            Path t = model.tokenizer().source();
            Path tokenizerFolder = Files.isDirectory(t) ? t : t.toAbsolutePath().getParent();
            if (tokenizerFolder != null && Files.isRegularFile(tokenizerFolder.resolve(name))) {
                return tokenizerFolder.resolve(name);
            }
        }
        return null;
    }
}
