package org.llmkit.train;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import com.fasterxml.jackson.annotation.PropertyAccessor;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.Precision;

/**
 * Checkpoints: {@code <dir>/checkpoint-NNNNNNNN/} holding {@code model/} (HF layout, full fine-tuning)
 * or {@code adapter/} (PEFT layout, LoRA; the base folder is named in the state), {@code optimizer.bin}
 * ({@link OptimizerFile}), for a model loaded in FP16/BF16 its FP32 master weights ({@link MasterFile}), and
 * {@code trainer_state.json}: step, data position, settings, history and the
 * size and CRC-32 of every other file.
 *
 * <p>Atomic: everything is written into a hidden temporary folder, fsynced, and renamed into place; a
 * crash leaves only the temporary folder, never a {@code checkpoint-*} that looks complete. On resume
 * every listed file is checked against its size and checksum, so a truncated copy is refused.
 */
final class Checkpoints {
    static final String STATE = "trainer_state.json";
    private static final ObjectMapper JSON = new ObjectMapper()
            .setVisibility(PropertyAccessor.ALL, JsonAutoDetect.Visibility.NONE)
            .setVisibility(PropertyAccessor.FIELD, JsonAutoDetect.Visibility.ANY)
            .setVisibility(PropertyAccessor.CREATOR, JsonAutoDetect.Visibility.ANY);

    private Checkpoints() { }

    /**
     * What a checkpoint restores.
     *
     * @param model the model with the checkpoint's weights (or base plus adapter)
     * @param options the run's settings
     * @param epoch the epoch of the next batch
     * @param batch the next batch within its epoch
     * @param trainSize the training set's size, to catch a resume on other data
     * @param history the per-step history so far
     * @param optimizerSteps AdamW's step counter
     * @param optimizerFile the saved moments
     * @param lossScale the FP16 loss scale at the checkpoint, 0 when the run had none
     * @param lossScaleGoodSteps finite steps since that scale last changed
     * @param mastersFile the FP32 master weights of a model loaded in FP16/BF16, or null
     */
    record Resumed(LanguageModel model, TrainingOptions options, int epoch, int batch, long trainSize,
            History history, long optimizerSteps, Path optimizerFile, double lossScale, long lossScaleGoodSteps,
            Path mastersFile) {

        void restoreOptimizer(AdamW optimizer, TrainableSet trainable) throws IOException {
            OptimizerFile.read(optimizerFile, optimizer, optimizerSteps, trainable);
            if (mastersFile != null) {
                MasterFile.read(mastersFile, trainable);
            }
        }
    }

    static Path write(LanguageModel model, TrainingOptions o, AdamW optimizer, TrainableSet trainable,
            LossScaler scaler, DataOrder order, History history, long trainSize) throws IOException {
        Path root = o.checkpointPath();
        Files.createDirectories(root);
        String name = String.format("checkpoint-%08d", history.steps());
        Path tmp = root.resolve(".tmp-" + name);
        deleteTree(tmp);
        Files.createDirectories(tmp);
        boolean lora = model.adapter().isPresent();
        if (lora) {
            model.saveAdapter(tmp.resolve("adapter"));
        } else {
            model.save(tmp.resolve("model"));
        }
        OptimizerFile.write(tmp.resolve("optimizer.bin"), optimizer, trainable);
        if (model.precision() != Precision.FP32) {
            MasterFile.write(tmp.resolve(MasterFile.NAME), trainable);   // the model folder holds only their rounding
        }
        ObjectNode state = JSON.createObjectNode();
        state.put("format", "llmkit-checkpoint");
        state.put("version", 1);
        state.put("step", history.steps());
        state.put("epoch", order.epoch());
        state.put("batch", order.batch());
        state.put("train_size", trainSize);
        state.put("optimizer_steps", optimizer.steps());
        if (scaler != null) {
            state.put("loss_scale", scaler.scale());
            state.put("loss_scale_good_steps", scaler.goodSteps());
        }
        state.put("base_model", lora ? model.source().toAbsolutePath().toString() : null);
        state.put("model_precision", model.precision().name());
        state.set("options", JSON.valueToTree(o));
        state.set("history", JSON.valueToTree(history));
        ObjectNode files = state.putObject("files");
        for (Path f : listFiles(tmp)) {
            ObjectNode entry = files.putObject(tmp.relativize(f).toString());
            entry.put("bytes", Files.size(f));
            entry.put("crc32", FileChecks.crc32(f));
        }
        Files.writeString(tmp.resolve(STATE), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(state));
        FileChecks.syncTree(tmp);
        Path target = root.resolve(name);
        deleteTree(target);
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        FileChecks.sync(root);
        prune(root, o.keepCheckpoints);
        return target;
    }

    static Resumed open(Path dir) throws IOException {
        Path stateFile = dir.resolve(STATE);
        if (!Files.isDirectory(dir)) {
            throw new IOException("checkpoint " + dir + " does not exist");
        }
        if (!Files.isRegularFile(stateFile)) {
            throw new IOException("checkpoint " + dir + " is incomplete: it has no " + STATE
                    + " (written last), so it was never finished; resume from an earlier checkpoint");
        }
        JsonNode state = JSON.readTree(stateFile.toFile());
        if (!"llmkit-checkpoint".equals(state.path("format").asText())) {
            throw new IOException(stateFile + " is not an llmkit checkpoint state (format is '"
                    + state.path("format").asText() + "')");
        }
        for (Map.Entry<String, JsonNode> e : iterable(state.path("files"))) {
            FileChecks.verify(dir, e.getKey(), e.getValue().path("bytes").asLong(), e.getValue().path("crc32").asLong());
        }
        TrainingOptions options = JSON.treeToValue(state.path("options"), TrainingOptions.class);
        History history = JSON.treeToValue(state.path("history"), History.class);
        Precision precision = Precision.valueOf(state.path("model_precision").asText("FP32"));
        LanguageModel model = state.path("base_model").isTextual()
                ? LanguageModel.from(Path.of(state.path("base_model").asText())).precision(precision)
                        .adapter(dir.resolve("adapter")).load()
                : LanguageModel.from(dir.resolve("model")).precision(precision).load();
        Path masters = dir.resolve(MasterFile.NAME);
        return new Resumed(model, options, state.path("epoch").asInt(), state.path("batch").asInt(),
                state.path("train_size").asLong(), history, state.path("optimizer_steps").asLong(),
                dir.resolve("optimizer.bin"), state.path("loss_scale").asDouble(0),
                state.path("loss_scale_good_steps").asLong(0), Files.isRegularFile(masters) ? masters : null);
    }

    private static Iterable<Map.Entry<String, JsonNode>> iterable(JsonNode node) {
        Map<String, JsonNode> sorted = new TreeMap<>();
        node.fields().forEachRemaining(e -> sorted.put(e.getKey(), e.getValue()));
        return sorted.entrySet();
    }

    private static void prune(Path root, int keep) throws IOException {
        List<Path> all = new ArrayList<>();
        try (Stream<Path> s = Files.list(root)) {
            s.filter(p -> p.getFileName().toString().startsWith("checkpoint-")).sorted().forEach(all::add);
        }
        for (int i = 0; i < all.size() - keep; i++) {
            deleteTree(all.get(i));
        }
    }

    private static List<Path> listFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).sorted().toList();
        }
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> {
                try {
                    Files.delete(f);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
