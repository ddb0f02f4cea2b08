package org.llmkit.api;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.llmkit.api.io.AtomicFiles;
import org.llmkit.api.io.CheckpointFiles;
import org.llmkit.api.io.SafeTensorsWriter;
import org.llmkit.api.model.Architectures;
import org.llmkit.api.model.CheckpointLayout;
import org.llmkit.api.model.CheckpointTensorSource;
import org.llmkit.api.model.DecoderModel;

/**
 * PEFT LoRA adapters on disk: {@code adapter_config.json} and {@code adapter_model.safetensors} with
 * tensors named {@code base_model.model.<module>.lora_A.weight} ({@code [r, in]}) and
 * {@code ...lora_B.weight} ({@code [out, r]}), as PEFT's {@code save_pretrained} writes them.
 */
final class LoraAdapters {
    static final String PREFIX = "base_model.model.";

    private LoraAdapters() { }

    /**
     * @param dir the adapter folder
     * @param conv1dModules whether the model's checkpoint modules are {@code Conv1D} ({@link
     *     CheckpointLayout#conv1dModules}): then PEFT's {@code fan_in_fan_out = true} is expected and accepted
     * @return the adapter's settings
     * @throws IOException when the file is missing, not JSON, or names settings llmkit does not load
     */
    static LoraConfig readConfig(Path dir, boolean conv1dModules) throws IOException {
        Path file = dir.resolve("adapter_config.json");
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "a PEFT adapter folder needs adapter_config.json");
        }
        JsonNode n;
        try {
            n = new ObjectMapper().readTree(file.toFile());
        } catch (JacksonException e) {
            throw new ModelFormatException(file, "not valid JSON: " + e.getOriginalMessage(), e);
        }
        String type = n.path("peft_type").asText("LORA");
        if (!"LORA".equals(type)) {
            throw new ModelFormatException(file, "peft_type is " + type + "; only LORA adapters are supported");
        }
        unsupportedIfSet(file, n, "use_dora", n.path("use_dora").asBoolean(false));
        unsupportedIfSet(file, n, "fan_in_fan_out", n.path("fan_in_fan_out").asBoolean(false) && !conv1dModules);
        unsupportedIfSet(file, n, "bias", !"none".equals(n.path("bias").asText("none")));
        unsupportedIfSet(file, n, "modules_to_save", n.hasNonNull("modules_to_save") && n.get("modules_to_save").size() > 0);
        unsupportedIfSet(file, n, "rank_pattern", n.path("rank_pattern").size() > 0);
        unsupportedIfSet(file, n, "alpha_pattern", n.path("alpha_pattern").size() > 0);
        unsupportedIfSet(file, n, "layers_to_transform", n.hasNonNull("layers_to_transform"));
        JsonNode targets = n.get("target_modules");
        List<String> modules = new ArrayList<>();
        if (targets != null && targets.isArray()) {
            targets.forEach(t -> modules.add(t.asText()));
        } else if (targets != null && targets.isTextual()) {
            throw new ModelFormatException(file, "target_modules is a regular expression ('" + targets.asText()
                    + "'); only a list of module names is supported");
        }
        if (!n.has("r") || !n.has("lora_alpha")) {
            throw new ModelFormatException(file, "fields 'r' and 'lora_alpha' are required");
        }
        try {
            return new LoraConfig(n.get("r").asInt(), n.get("lora_alpha").asDouble(), n.path("lora_dropout").asDouble(0),
                    modules, n.path("use_rslora").asBoolean(false));
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(file, e.getMessage(), e);
        }
    }

    static void load(DecoderModel model, Path dir, NDManager manager) throws IOException {
        LoraConfig config = readConfig(dir, layout(model).conv1dModules());
        try {
            model.attachLora(config);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(dir.resolve("adapter_config.json"), e.getMessage(), e);
        }
        try (CheckpointFiles files = CheckpointFiles.open(dir)) {
            CheckpointTensorSource source = new CheckpointTensorSource(files, dir, manager, model.tensorType());
            for (String name : model.adapterShapes().keySet()) {
                String stored = PREFIX + name;
                if (!source.contains(stored)) {
                    String withAdapterName = stored.replace(".weight", ".default.weight");
                    stored = source.contains(withAdapterName) ? withAdapterName : stored;
                }
                try {
                    model.setWeight(name, source.load(stored));
                } catch (IllegalArgumentException e) {
                    throw new ModelFormatException(dir, e.getMessage(), e);
                }
            }
        }
    }

    static void save(DecoderModel model, Path dir) throws IOException {
        LoraConfig config = model.lora().orElseThrow(() -> new IllegalStateException(
                "this model has no LoRA adapter to save; load one with .adapter(path) or train one"));
        Files.createDirectories(dir);
        SafeTensorsWriter writer = SafeTensorsWriter.create();
        for (Map.Entry<String, Parameter> e : model.parameters().entrySet()) {
            if (e.getKey().contains(".lora_")) {
                NDArray a = e.getValue().getArray();
                ModelWriter.add(writer, PREFIX + e.getKey(), model.tensorType().float32(a), model.tensorType());
            }
        }
        writer.writeTo(dir.resolve("adapter_model.safetensors"));
        ObjectNode o = new ObjectMapper().createObjectNode();
        o.put("peft_type", "LORA");
        o.put("task_type", "CAUSAL_LM");
        o.put("r", config.rank());
        o.put("lora_alpha", config.alpha());
        o.put("lora_dropout", config.dropout());
        ArrayNode targets = o.putArray("target_modules");
        config.targetModules().forEach(targets::add);
        o.put("use_rslora", config.useRslora());
        o.put("use_dora", false);
        // PEFT's setting for adapters on Conv1D modules (GPT-2's c_attn, c_proj, c_fc)
        o.put("fan_in_fan_out", model.hasModuleAdapters() && layout(model).conv1dModules());
        o.put("bias", "none");
        o.putNull("modules_to_save");
        o.putObject("rank_pattern");
        o.putObject("alpha_pattern");
        o.put("init_lora_weights", true);
        o.put("inference_mode", true);
        o.putNull("base_model_name_or_path");
        AtomicFiles.writeString(dir.resolve("adapter_config.json"),
                new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(o));
    }

    private static CheckpointLayout layout(DecoderModel model) {
        return Architectures.of(model.config().modelType()).layout();
    }

    private static void unsupportedIfSet(Path file, JsonNode n, String field, boolean set) throws ModelFormatException {
        if (set) {
            throw new ModelFormatException(file, "'" + field + "' = " + n.get(field)
                    + " is not supported; llmkit loads plain LoRA adapters (no DoRA, no fan_in_fan_out,"
                    + " bias none, no per-module patterns)");
        }
    }
}
